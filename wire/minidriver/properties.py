"""Card, container, secure-function and key property names (minidriver.md 2.9)."""

from __future__ import annotations

from typing import Final

CP_CARD_FREE_SPACE: Final = "Free Space"
CP_CARD_CAPABILITIES: Final = "Capabilities"
CP_CARD_KEYSIZES: Final = "Key Sizes"
CP_CARD_READ_ONLY: Final = "Read Only Mode"
CP_CARD_CACHE_MODE: Final = "Cache Mode"
CP_SUPPORTS_WIN_X509_ENROLLMENT: Final = "Supports Windows x.509 Enrollment"
CP_CARD_GUID: Final = "Card Identifier"
CP_CARD_SERIAL_NO: Final = "Card Serial Number"
CP_CARD_PIN_INFO: Final = "PIN Information"
CP_CARD_LIST_PINS: Final = "PIN List"
CP_CARD_AUTHENTICATED_STATE: Final = "Authenticated State"
CP_CARD_PIN_STRENGTH_VERIFY: Final = "PIN Strength Verify"
CP_CARD_PIN_STRENGTH_CHANGE: Final = "PIN Strength Change"
CP_CARD_PIN_STRENGTH_UNBLOCK: Final = "PIN Strength Unblock"
CP_PARENT_WINDOW: Final = "Parent Window"
CP_PIN_CONTEXT_STRING: Final = "PIN Context String"
CP_KEY_IMPORT_SUPPORT: Final = "Key Import Support"
CP_ENUM_ALGORITHMS: Final = "Algorithms"
CP_PADDING_SCHEMES: Final = "Padding Schemes"
CP_CHAINING_MODES: Final = "Chaining Modes"

CARD_PROPERTIES: Final = (
    CP_CARD_FREE_SPACE,
    CP_CARD_CAPABILITIES,
    CP_CARD_KEYSIZES,
    CP_CARD_READ_ONLY,
    CP_CARD_CACHE_MODE,
    CP_SUPPORTS_WIN_X509_ENROLLMENT,
    CP_CARD_GUID,
    CP_CARD_SERIAL_NO,
    CP_CARD_PIN_INFO,
    CP_CARD_LIST_PINS,
    CP_CARD_AUTHENTICATED_STATE,
    CP_CARD_PIN_STRENGTH_VERIFY,
    CP_CARD_PIN_STRENGTH_CHANGE,
    CP_CARD_PIN_STRENGTH_UNBLOCK,
    CP_PARENT_WINDOW,
    CP_PIN_CONTEXT_STRING,
    CP_KEY_IMPORT_SUPPORT,
    CP_ENUM_ALGORITHMS,
    CP_PADDING_SCHEMES,
    CP_CHAINING_MODES,
)

# CP_CARD_CACHE_MODE values
CP_CACHE_MODE_GLOBAL_CACHE: Final = 1
CP_CACHE_MODE_SESSION_ONLY: Final = 2
CP_CACHE_MODE_NO_CACHE: Final = 3

CCP_CONTAINER_INFO: Final = "Container Info"
CCP_PIN_IDENTIFIER: Final = "PIN Identifier"
CCP_ASSOCIATED_ECDH_KEY: Final = "Associated ECDH Key"

CSF_IMPORT_KEYPAIR: Final = "Import Key Pair"
CSF_CHANGE_AUTHENTICATOR: Final = "Change Authenticator"
CSF_AUTHENTICATE: Final = "Authenticate"

CKP_CHAINING_MODE: Final = "ChainingMode"
CKP_INITIALIZATION_VECTOR: Final = "IV"
CKP_BLOCK_LENGTH: Final = "BlockLength"
