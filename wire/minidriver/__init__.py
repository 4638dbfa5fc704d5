"""The minidriver specification's constants (CP_*, CCP_*, status and error codes, ...).

By their spec names, one module per area of the spec, all re-exported here; the card
(GIDS on-card formats), the driver, the trace decoders and the bench share them.
"""

from .containers import *  # noqa: F403
from .crypto import *  # noqa: F403
from .files import *  # noqa: F403
from .keyspecs import *  # noqa: F403
from .pins import *  # noqa: F403
from .properties import *  # noqa: F403
from .ski import *  # noqa: F403
from .status import Status, describe, status_name  # noqa: F401
from .versions import *  # noqa: F403
