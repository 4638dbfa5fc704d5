"""The GIDS card module (gids.md)."""

from .module import GidsCardModule, admin_response, key_check_value

__all__ = ["GidsCardModule", "admin_response", "key_check_value"]
