"""Every constant of the minidriver specification, by its spec name, one module per area."""

from .containers import *  # noqa: F403
from .crypto import *  # noqa: F403
from .files import *  # noqa: F403
from .keyspecs import *  # noqa: F403
from .pins import *  # noqa: F403
from .properties import *  # noqa: F403
from .ski import *  # noqa: F403
from .status import Status, describe, status_name  # noqa: F401
from .versions import *  # noqa: F403
