"""The structures of cardmod.h as dataclasses, serialised to and from their exact C layout.

Each class is named as the header names the structure; fields drop the Hungarian prefix
(`dwVersion` -> `version`, `bContainerIndex` -> `container_index`). Counted buffers (`pbData` +
`cbData`) are one `bytes | None` field (None is a NULL pointer); their count field is derived.

`to_bytes(arch, memory)` lays the structure out for x86 or x64 (minidriver.md section 3). Pointer
members need a place for the buffers they point to: pass a `Memory`, which hands out addresses
and keeps the bytes, and `from_bytes(raw, arch, memory)` reads them back. Without a Memory every
pointer is written as NULL.
"""

# ruff: noqa: N801 - class names are the header's structure names

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self

from wire.minidriver import containers as cm
from wire.minidriver import pins, versions
from wire.minidriver.files import CARD_FILE_ACCESS_CONDITION

from .layout import BYTE, DWORD, PTR, WORD, Arch, Array, Fields, pack, sizeof, unpack

X86 = Arch.X86
X64 = Arch.X64


class Memory:
    """A toy address space for the buffers pointer members refer to."""

    def __init__(self, base: int = 0x10000) -> None:
        self._next = base
        self._blocks: dict[int, bytes] = {}

    def put(self, data: bytes | None) -> int:
        if data is None:
            return 0
        address = self._next
        self._blocks[address] = bytes(data)
        self._next += (len(data) + 0x10) // 0x10 * 0x10 + 0x10
        return address

    def get(self, address: int, length: int | None = None) -> bytes | None:
        if address == 0:
            return None
        block = self._blocks[address]
        return block if length is None else block[:length]

    def put_wstr(self, text: str | None) -> int:
        return 0 if text is None else self.put(wstr(text))

    def get_wstr(self, address: int) -> str | None:
        raw = self.get(address)
        return None if raw is None else from_wstr(raw)


def wstr(text: str) -> bytes:
    """A NUL-terminated UTF-16LE string (LPWSTR)."""
    return text.encode("utf-16-le") + b"\0\0"


def from_wstr(raw: bytes) -> str:
    end = 0
    while end + 1 < len(raw) and raw[end : end + 2] != b"\0\0":
        end += 2
    return raw[:end].decode("utf-16-le")


def multistring(names: Sequence[str], wide: bool = False) -> bytes:
    """Names each NUL-terminated, then one more NUL (CardEnumFiles, CP_ENUM_ALGORITHMS)."""
    if wide:
        return b"".join(wstr(n) for n in names) + b"\0\0"
    return b"".join(n.encode("ascii") + b"\0" for n in names) + b"\0"


def parse_multistring(raw: bytes, wide: bool = False) -> list[str]:
    text = raw.decode("utf-16-le") if wide else raw.decode("ascii")
    return [part for part in text.split("\0") if part]


def _mem(memory: Memory | None) -> Memory:
    return memory if memory is not None else _NULL_MEMORY


class _NullMemory(Memory):
    def put(self, data: bytes | None) -> int:
        return 0

    def get(self, address: int, length: int | None = None) -> bytes | None:
        return None


_NULL_MEMORY = _NullMemory()


def _int(values: dict[str, int | bytes], name: str) -> int:
    value = values[name]
    assert isinstance(value, int)
    return value


def _bytes(values: dict[str, int | bytes], name: str) -> bytes:
    value = values[name]
    assert isinstance(value, bytes)
    return value


# --- on-card formats ------------------------------------------------------------------------


@dataclass
class CARD_CACHE_FILE_FORMAT:
    """`cardcf`: global freshness bytes, then one 32-bit counter per application."""

    version: int = 0
    pins_freshness: int = 0
    containers_freshness: int = 0
    files_freshness: int = 0
    # Counters of further applications (cardapps positions 1..), kept verbatim.
    extra: bytes = b""

    FIELDS: ClassVar[Fields] = (
        ("bVersion", BYTE),
        ("bPinsFreshness", BYTE),
        ("wContainersFreshness", WORD),
        ("wFilesFreshness", WORD),
    )
    SIZE: ClassVar[int] = 6

    def to_bytes(self) -> bytes:
        return (
            pack(
                self.FIELDS,
                {
                    "bVersion": self.version,
                    "bPinsFreshness": self.pins_freshness,
                    "wContainersFreshness": self.containers_freshness,
                    "wFilesFreshness": self.files_freshness,
                },
                X86,
            )
            + self.extra
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        return cls(
            _int(v, "bVersion"),
            _int(v, "bPinsFreshness"),
            _int(v, "wContainersFreshness"),
            _int(v, "wFilesFreshness"),
            bytes(raw[cls.SIZE :]),
        )

    def bumped(self, pins: bool = False, containers: bool = False, files: bool = False) -> Self:
        """The counters after a change of that kind (they wrap, 8 and 16 bits)."""
        return type(self)(
            self.version,
            (self.pins_freshness + pins) & 0xFF,
            (self.containers_freshness + containers) & 0xFFFF,
            (self.files_freshness + files) & 0xFFFF,
            self.extra,
        )


@dataclass
class CONTAINER_MAP_RECORD:
    """One 86-byte record of `mscp/cmapfile`."""

    guid: str = ""
    flags: int = 0
    reserved: int = 0
    sig_key_size_bits: int = 0
    key_exchange_key_size_bits: int = 0

    FIELDS: ClassVar[Fields] = (
        ("wszGuid", Array(80, 2)),
        ("bFlags", BYTE),
        ("bReserved", BYTE),
        ("wSigKeySizeBits", WORD),
        ("wKeyExchangeKeySizeBits", WORD),
    )
    SIZE: ClassVar[int] = 86

    def to_bytes(self) -> bytes:
        if len(self.guid) > cm.MAX_CONTAINER_NAME_LEN or "\\" in self.guid:
            raise ValueError("container name: at most 39 characters, no backslash")
        return pack(
            self.FIELDS,
            {
                "wszGuid": self.guid.encode("utf-16-le"),
                "bFlags": self.flags,
                "bReserved": self.reserved,
                "wSigKeySizeBits": self.sig_key_size_bits,
                "wKeyExchangeKeySizeBits": self.key_exchange_key_size_bits,
            },
            X86,
        )

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        return cls(
            from_wstr(_bytes(v, "wszGuid")),
            _int(v, "bFlags"),
            _int(v, "bReserved"),
            _int(v, "wSigKeySizeBits"),
            _int(v, "wKeyExchangeKeySizeBits"),
        )

    @property
    def valid(self) -> bool:
        return bool(self.flags & cm.CONTAINER_MAP_VALID_CONTAINER)

    @property
    def default(self) -> bool:
        return bool(self.flags & cm.CONTAINER_MAP_DEFAULT_CONTAINER)


def parse_cmapfile(raw: bytes) -> list[CONTAINER_MAP_RECORD]:
    size = CONTAINER_MAP_RECORD.SIZE
    return [
        CONTAINER_MAP_RECORD.from_bytes(raw[i : i + size])
        for i in range(0, len(raw) - size + 1, size)
    ]


def build_cmapfile(records: Sequence[CONTAINER_MAP_RECORD]) -> bytes:
    return b"".join(r.to_bytes() for r in records)


CARDAPPS_RECORD_SIZE = 8


def parse_cardapps(raw: bytes) -> list[str]:
    step = CARDAPPS_RECORD_SIZE
    return [raw[i : i + step].rstrip(b"\0").decode("ascii") for i in range(0, len(raw), step)]


def build_cardapps(names: Sequence[str]) -> bytes:
    return b"".join(n.encode("ascii").ljust(CARDAPPS_RECORD_SIZE, b"\0") for n in names)


# --- fixed-size information structures --------------------------------------------------------


class _Flat:
    """A structure of DWORDs only: same layout on x86 and x64."""

    FIELDS: ClassVar[Fields]
    NAMES: ClassVar[tuple[str, ...]]

    def to_bytes(self, arch: Arch = X64) -> bytes:
        return pack(
            self.FIELDS,
            {c: int(getattr(self, p)) for (c, _), p in zip(self.FIELDS, self.NAMES, strict=True)},
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(**{p: _int(v, c) for (c, _), p in zip(cls.FIELDS, cls.NAMES, strict=True)})

    @classmethod
    def size(cls, arch: Arch = X64) -> int:
        return sizeof(cls.FIELDS, arch)


@dataclass
class CARD_CAPABILITIES(_Flat):
    version: int = versions.CARD_CAPABILITIES_CURRENT_VERSION
    certificate_compression: bool = False
    key_gen: bool = False

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("fCertificateCompression", DWORD),
        ("fKeyGen", DWORD),
    )
    NAMES: ClassVar[tuple[str, ...]] = ("version", "certificate_compression", "key_gen")

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(
            _int(v, "dwVersion"), bool(_int(v, "fCertificateCompression")), bool(_int(v, "fKeyGen"))
        )


@dataclass
class CARD_FILE_INFO(_Flat):
    version: int = versions.CARD_FILE_INFO_CURRENT_VERSION
    file_size: int = 0
    access_condition: int = CARD_FILE_ACCESS_CONDITION.InvalidAc

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("cbFileSize", DWORD),
        ("AccessCondition", DWORD),
    )
    NAMES: ClassVar[tuple[str, ...]] = ("version", "file_size", "access_condition")


@dataclass
class CARD_FREE_SPACE_INFO(_Flat):
    version: int = versions.CARD_FREE_SPACE_INFO_CURRENT_VERSION
    bytes_available: int = cm.CARD_DATA_VALUE_UNKNOWN
    key_containers_available: int = cm.CARD_DATA_VALUE_UNKNOWN
    max_key_containers: int = cm.CARD_DATA_VALUE_UNKNOWN

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwBytesAvailable", DWORD),
        ("dwKeyContainersAvailable", DWORD),
        ("dwMaxKeyContainers", DWORD),
    )
    NAMES: ClassVar[tuple[str, ...]] = (
        "version",
        "bytes_available",
        "key_containers_available",
        "max_key_containers",
    )


@dataclass
class CARD_KEY_SIZES(_Flat):
    version: int = versions.CARD_KEY_SIZES_CURRENT_VERSION
    minimum_bitlen: int = 0
    default_bitlen: int = 0
    maximum_bitlen: int = 0
    incremental_bitlen: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwMinimumBitlen", DWORD),
        ("dwDefaultBitlen", DWORD),
        ("dwMaximumBitlen", DWORD),
        ("dwIncrementalBitlen", DWORD),
    )
    NAMES: ClassVar[tuple[str, ...]] = (
        "version",
        "minimum_bitlen",
        "default_bitlen",
        "maximum_bitlen",
        "incremental_bitlen",
    )


@dataclass
class PIN_CACHE_POLICY(_Flat):
    version: int = versions.PIN_CACHE_POLICY_CURRENT_VERSION
    policy_type: int = pins.PIN_CACHE_POLICY_TYPE.PinCacheNormal
    policy_info: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("PinCachePolicyType", DWORD),
        ("dwPinCachePolicyInfo", DWORD),
    )
    NAMES: ClassVar[tuple[str, ...]] = ("version", "policy_type", "policy_info")


@dataclass
class PIN_INFO:
    version: int = versions.PIN_INFO_CURRENT_VERSION
    pin_type: int = pins.SECRET_TYPE.AlphaNumericPinType
    pin_purpose: int = pins.SECRET_PURPOSE.PrimaryCardPin
    change_permission: int = 0
    unblock_permission: int = 0
    cache_policy: PIN_CACHE_POLICY = field(default_factory=PIN_CACHE_POLICY)
    flags: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("PinType", DWORD),
        ("PinPurpose", DWORD),
        ("dwChangePermission", DWORD),
        ("dwUnblockPermission", DWORD),
        ("PinCachePolicy", Array(12, 4)),
        ("dwFlags", DWORD),
    )

    def to_bytes(self, arch: Arch = X64) -> bytes:
        return pack(
            self.FIELDS,
            {
                "dwVersion": self.version,
                "PinType": self.pin_type,
                "PinPurpose": self.pin_purpose,
                "dwChangePermission": self.change_permission,
                "dwUnblockPermission": self.unblock_permission,
                "PinCachePolicy": self.cache_policy.to_bytes(arch),
                "dwFlags": self.flags,
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(
            _int(v, "dwVersion"),
            _int(v, "PinType"),
            _int(v, "PinPurpose"),
            _int(v, "dwChangePermission"),
            _int(v, "dwUnblockPermission"),
            PIN_CACHE_POLICY.from_bytes(_bytes(v, "PinCachePolicy"), arch),
            _int(v, "dwFlags"),
        )

    @classmethod
    def size(cls, arch: Arch = X64) -> int:
        return sizeof(cls.FIELDS, arch)


# --- structures with pointers ----------------------------------------------------------------


@dataclass
class CONTAINER_INFO:
    version: int = versions.CONTAINER_INFO_CURRENT_VERSION
    reserved: int = 0
    sig_public_key: bytes | None = None
    key_ex_public_key: bytes | None = None

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwReserved", DWORD),
        ("cbSigPublicKey", DWORD),
        ("pbSigPublicKey", PTR),
        ("cbKeyExPublicKey", DWORD),
        ("pbKeyExPublicKey", PTR),
    )

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        return pack(
            self.FIELDS,
            {
                "dwVersion": self.version,
                "dwReserved": self.reserved,
                "cbSigPublicKey": len(self.sig_public_key or b""),
                "pbSigPublicKey": mem.put(self.sig_public_key),
                "cbKeyExPublicKey": len(self.key_ex_public_key or b""),
                "pbKeyExPublicKey": mem.put(self.key_ex_public_key),
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        mem = _mem(memory)
        return cls(
            _int(v, "dwVersion"),
            _int(v, "dwReserved"),
            mem.get(_int(v, "pbSigPublicKey"), _int(v, "cbSigPublicKey")),
            mem.get(_int(v, "pbKeyExPublicKey"), _int(v, "cbKeyExPublicKey")),
        )

    @classmethod
    def size(cls, arch: Arch = X64) -> int:
        return sizeof(cls.FIELDS, arch)


@dataclass
class BCRYPT_PKCS1_PADDING_INFO:
    alg_id: str | None = None

    FIELDS: ClassVar[Fields] = (("pszAlgId", PTR),)

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        return pack(self.FIELDS, {"pszAlgId": _mem(memory).put_wstr(self.alg_id)}, arch)

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        return cls(_mem(memory).get_wstr(_int(unpack(cls.FIELDS, raw, arch), "pszAlgId")))


@dataclass
class BCRYPT_PSS_PADDING_INFO:
    alg_id: str | None = None
    salt_length: int = 0

    FIELDS: ClassVar[Fields] = (("pszAlgId", PTR), ("cbSalt", DWORD))

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        return pack(
            self.FIELDS,
            {"pszAlgId": _mem(memory).put_wstr(self.alg_id), "cbSalt": self.salt_length},
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(_mem(memory).get_wstr(_int(v, "pszAlgId")), _int(v, "cbSalt"))


@dataclass
class BCRYPT_OAEP_PADDING_INFO:
    alg_id: str | None = None
    label: bytes | None = None

    FIELDS: ClassVar[Fields] = (("pszAlgId", PTR), ("pbLabel", PTR), ("cbLabel", DWORD))

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        return pack(
            self.FIELDS,
            {
                "pszAlgId": mem.put_wstr(self.alg_id),
                "pbLabel": mem.put(self.label),
                "cbLabel": len(self.label or b""),
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        mem = _mem(memory)
        return cls(
            mem.get_wstr(_int(v, "pszAlgId")), mem.get(_int(v, "pbLabel"), _int(v, "cbLabel"))
        )


PaddingInfo = BCRYPT_PKCS1_PADDING_INFO | BCRYPT_PSS_PADDING_INFO | BCRYPT_OAEP_PADDING_INFO


def _put_padding(memory: Memory, info: PaddingInfo | None, arch: Arch) -> int:
    return 0 if info is None else memory.put(info.to_bytes(arch, memory))


@dataclass
class CARD_SIGNING_INFO:
    """v1 ("basic") is the prefix up to cbSignedData; v2 adds the padding members."""

    version: int = versions.CARD_SIGNING_INFO_CURRENT_VERSION
    container_index: int = 0
    key_spec: int = 0
    signing_flags: int = 0
    hash_alg: int = 0
    data: bytes | None = None
    signed_data: bytes | None = None
    padding_info: PaddingInfo | None = None
    padding_type: int = 0
    # Output of CARD_BUFFER_SIZE_ONLY (and of every signature): cbSignedData.
    signed_data_length: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("bContainerIndex", BYTE),
        ("dwKeySpec", DWORD),
        ("dwSigningFlags", DWORD),
        ("aiHashAlg", DWORD),
        ("pbData", PTR),
        ("cbData", DWORD),
        ("pbSignedData", PTR),
        ("cbSignedData", DWORD),
        ("pPaddingInfo", PTR),
        ("dwPaddingType", DWORD),
    )
    V1_FIELDS: ClassVar[Fields] = FIELDS[:9]

    def _fields(self) -> Fields:
        return (
            self.V1_FIELDS
            if self.version == versions.CARD_SIGNING_INFO_BASIC_VERSION
            else self.FIELDS
        )

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        return pack(
            self._fields(),
            {
                "dwVersion": self.version,
                "bContainerIndex": self.container_index,
                "dwKeySpec": self.key_spec,
                "dwSigningFlags": self.signing_flags,
                "aiHashAlg": self.hash_alg,
                "pbData": mem.put(self.data),
                "cbData": len(self.data or b""),
                "pbSignedData": mem.put(self.signed_data),
                "cbSignedData": self.signed_data_length or len(self.signed_data or b""),
                "pPaddingInfo": _put_padding(mem, self.padding_info, arch),
                "dwPaddingType": self.padding_type,
            },
            arch,
        )

    @classmethod
    def from_bytes(
        cls,
        raw: bytes,
        arch: Arch = X64,
        memory: Memory | None = None,
        padding_class: type[PaddingInfo] | None = None,
    ) -> Self:
        version = int.from_bytes(raw[:4], "little")
        basic = version == versions.CARD_SIGNING_INFO_BASIC_VERSION
        v = unpack(cls.V1_FIELDS if basic else cls.FIELDS, raw, arch)
        mem = _mem(memory)
        padding: PaddingInfo | None = None
        if not basic and padding_class is not None:
            raw_padding = mem.get(_int(v, "pPaddingInfo"))
            if raw_padding is not None:
                padding = padding_class.from_bytes(raw_padding, arch, mem)
        return cls(
            version,
            _int(v, "bContainerIndex"),
            _int(v, "dwKeySpec"),
            _int(v, "dwSigningFlags"),
            _int(v, "aiHashAlg"),
            mem.get(_int(v, "pbData"), _int(v, "cbData")),
            mem.get(_int(v, "pbSignedData"), _int(v, "cbSignedData")),
            padding,
            0 if basic else _int(v, "dwPaddingType"),
            _int(v, "cbSignedData"),
        )

    @classmethod
    def size(
        cls, arch: Arch = X64, version: int = versions.CARD_SIGNING_INFO_CURRENT_VERSION
    ) -> int:
        basic = version == versions.CARD_SIGNING_INFO_BASIC_VERSION
        return sizeof(cls.V1_FIELDS if basic else cls.FIELDS, arch)


@dataclass
class CARD_RSA_DECRYPT_INFO:
    """v1 is the prefix up to cbData; v2 adds pPaddingInfo and dwPaddingType."""

    version: int = versions.CARD_RSA_KEY_DECRYPT_INFO_CURRENT_VERSION
    container_index: int = 0
    key_spec: int = 0
    data: bytes | None = None
    padding_info: BCRYPT_OAEP_PADDING_INFO | None = None
    padding_type: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("bContainerIndex", BYTE),
        ("dwKeySpec", DWORD),
        ("pbData", PTR),
        ("cbData", DWORD),
        ("pPaddingInfo", PTR),
        ("dwPaddingType", DWORD),
    )
    V1_FIELDS: ClassVar[Fields] = FIELDS[:5]

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        v1 = self.version == versions.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE
        return pack(
            self.V1_FIELDS if v1 else self.FIELDS,
            {
                "dwVersion": self.version,
                "bContainerIndex": self.container_index,
                "dwKeySpec": self.key_spec,
                "pbData": mem.put(self.data),
                "cbData": len(self.data or b""),
                "pPaddingInfo": _put_padding(mem, self.padding_info, arch),
                "dwPaddingType": self.padding_type,
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        version = int.from_bytes(raw[:4], "little")
        v1 = version == versions.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE
        v = unpack(cls.V1_FIELDS if v1 else cls.FIELDS, raw, arch)
        mem = _mem(memory)
        padding = None
        if not v1:
            raw_padding = mem.get(_int(v, "pPaddingInfo"))
            if raw_padding is not None:
                padding = BCRYPT_OAEP_PADDING_INFO.from_bytes(raw_padding, arch, mem)
        return cls(
            version,
            _int(v, "bContainerIndex"),
            _int(v, "dwKeySpec"),
            mem.get(_int(v, "pbData"), _int(v, "cbData")),
            padding,
            0 if v1 else _int(v, "dwPaddingType"),
        )

    @classmethod
    def size(
        cls, arch: Arch = X64, version: int = versions.CARD_RSA_KEY_DECRYPT_INFO_CURRENT_VERSION
    ) -> int:
        v1 = version == versions.CARD_RSA_KEY_DECRYPT_INFO_VERSION_ONE
        return sizeof(cls.V1_FIELDS if v1 else cls.FIELDS, arch)


@dataclass
class CARD_DH_AGREEMENT_INFO:
    version: int = versions.CARD_DH_AGREEMENT_INFO_VERSION
    container_index: int = 0
    flags: int = 0
    public_key: bytes | None = None
    reserved: bytes | None = None
    secret_agreement_index: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("bContainerIndex", BYTE),
        ("dwFlags", DWORD),
        ("dwPublicKey", DWORD),
        ("pbPublicKey", PTR),
        ("pbReserved", PTR),
        ("cbReserved", DWORD),
        ("bSecretAgreementIndex", BYTE),
    )

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        return pack(
            self.FIELDS,
            {
                "dwVersion": self.version,
                "bContainerIndex": self.container_index,
                "dwFlags": self.flags,
                "dwPublicKey": len(self.public_key or b""),
                "pbPublicKey": mem.put(self.public_key),
                "pbReserved": mem.put(self.reserved),
                "cbReserved": len(self.reserved or b""),
                "bSecretAgreementIndex": self.secret_agreement_index,
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        mem = _mem(memory)
        return cls(
            _int(v, "dwVersion"),
            _int(v, "bContainerIndex"),
            _int(v, "dwFlags"),
            mem.get(_int(v, "pbPublicKey"), _int(v, "dwPublicKey")),
            mem.get(_int(v, "pbReserved"), _int(v, "cbReserved")),
            _int(v, "bSecretAgreementIndex"),
        )

    @classmethod
    def size(cls, arch: Arch = X64) -> int:
        return sizeof(cls.FIELDS, arch)


@dataclass
class NCryptBuffer:
    buffer_type: int
    value: bytes | None

    FIELDS: ClassVar[Fields] = (("cbBuffer", DWORD), ("BufferType", DWORD), ("pvBuffer", PTR))

    @classmethod
    def wide(cls, buffer_type: int, text: str) -> NCryptBuffer:
        """A parameter whose value is a UTF-16 string (KDF_HASH_ALGORITHM ...)."""
        return cls(buffer_type, wstr(text))

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        return pack(
            self.FIELDS,
            {
                "cbBuffer": len(self.value or b""),
                "BufferType": self.buffer_type,
                "pvBuffer": _mem(memory).put(self.value),
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> NCryptBuffer:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(
            _int(v, "BufferType"), _mem(memory).get(_int(v, "pvBuffer"), _int(v, "cbBuffer"))
        )


@dataclass
class NCryptBufferDesc:
    buffers: list[NCryptBuffer] = field(default_factory=list)
    version: int = 0

    FIELDS: ClassVar[Fields] = (("ulVersion", DWORD), ("cBuffers", DWORD), ("pBuffers", PTR))

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        array = b"".join(b.to_bytes(arch, mem) for b in self.buffers)
        return pack(
            self.FIELDS,
            {
                "ulVersion": self.version,
                "cBuffers": len(self.buffers),
                "pBuffers": mem.put(array) if self.buffers else 0,
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        mem = _mem(memory)
        count = _int(v, "cBuffers")
        step = sizeof(NCryptBuffer.FIELDS, arch)
        array = mem.get(_int(v, "pBuffers")) or b""
        buffers = [
            NCryptBuffer.from_bytes(array[i * step : (i + 1) * step], arch, mem)
            for i in range(count)
        ]
        return cls(buffers, _int(v, "ulVersion"))


@dataclass
class CARD_DERIVE_KEY:
    """v1 ends after cbDerivedKey; v2 adds pwszAlgId, dwKeyLen and hKey."""

    version: int = versions.CARD_DERIVE_KEY_CURRENT_VERSION
    flags: int = 0
    kdf: str | None = None
    secret_agreement_index: int = 0
    parameter_list: NCryptBufferDesc | None = None
    derived_key: bytes | None = None
    alg_id: str | None = None
    key_len: int = 0
    key: int = 0
    derived_key_length: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwFlags", DWORD),
        ("pwszKDF", PTR),
        ("bSecretAgreementIndex", BYTE),
        ("pParameterList", PTR),
        ("pbDerivedKey", PTR),
        ("cbDerivedKey", DWORD),
        ("pwszAlgId", PTR),
        ("dwKeyLen", DWORD),
        ("hKey", PTR),
    )
    V1_FIELDS: ClassVar[Fields] = FIELDS[:7]

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        mem = _mem(memory)
        v1 = self.version == versions.CARD_DERIVE_KEY_VERSION
        params = 0
        if self.parameter_list is not None:
            params = mem.put(self.parameter_list.to_bytes(arch, mem))
        return pack(
            self.V1_FIELDS if v1 else self.FIELDS,
            {
                "dwVersion": self.version,
                "dwFlags": self.flags,
                "pwszKDF": mem.put_wstr(self.kdf),
                "bSecretAgreementIndex": self.secret_agreement_index,
                "pParameterList": params,
                "pbDerivedKey": mem.put(self.derived_key),
                "cbDerivedKey": self.derived_key_length or len(self.derived_key or b""),
                "pwszAlgId": mem.put_wstr(self.alg_id),
                "dwKeyLen": self.key_len,
                "hKey": self.key,
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        version = int.from_bytes(raw[:4], "little")
        v1 = version == versions.CARD_DERIVE_KEY_VERSION
        v = unpack(cls.V1_FIELDS if v1 else cls.FIELDS, raw, arch)
        mem = _mem(memory)
        params = None
        raw_params = mem.get(_int(v, "pParameterList"))
        if raw_params is not None:
            params = NCryptBufferDesc.from_bytes(raw_params, arch, mem)
        return cls(
            version,
            _int(v, "dwFlags"),
            mem.get_wstr(_int(v, "pwszKDF")),
            _int(v, "bSecretAgreementIndex"),
            params,
            mem.get(_int(v, "pbDerivedKey"), _int(v, "cbDerivedKey")),
            None if v1 else mem.get_wstr(_int(v, "pwszAlgId")),
            0 if v1 else _int(v, "dwKeyLen"),
            0 if v1 else _int(v, "hKey"),
            _int(v, "cbDerivedKey"),
        )

    @classmethod
    def size(cls, arch: Arch = X64, version: int = versions.CARD_DERIVE_KEY_CURRENT_VERSION) -> int:
        v1 = version == versions.CARD_DERIVE_KEY_VERSION
        return sizeof(cls.V1_FIELDS if v1 else cls.FIELDS, arch)


# --- secure key injection (v7): headers followed by variable data ---------------------------


@dataclass
class CARD_ENCRYPTED_DATA:
    encrypted_data: bytes | None = None

    FIELDS: ClassVar[Fields] = (("pbEncryptedData", PTR), ("cbEncryptedData", DWORD))

    def to_bytes(self, arch: Arch = X64, memory: Memory | None = None) -> bytes:
        return pack(
            self.FIELDS,
            {
                "pbEncryptedData": _mem(memory).put(self.encrypted_data),
                "cbEncryptedData": len(self.encrypted_data or b""),
            },
            arch,
        )

    @classmethod
    def from_bytes(cls, raw: bytes, arch: Arch = X64, memory: Memory | None = None) -> Self:
        v = unpack(cls.FIELDS, raw, arch)
        return cls(_mem(memory).get(_int(v, "pbEncryptedData"), _int(v, "cbEncryptedData")))


class _Header:
    """A DWORD header followed by inline bytes (the `pbXxx[]` tail)."""

    FIELDS: ClassVar[Fields]

    def _header(self) -> dict[str, int | bytes]:
        raise NotImplementedError

    def _tail(self) -> bytes:
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return pack(self.FIELDS, self._header(), X86) + self._tail()


@dataclass
class CARD_IMPORT_KEYPAIR(_Header):
    version: int = versions.CARD_IMPORT_KEYPAIR_CURRENT_VERSION
    container_index: int = 0
    pin_id: int = pins.ROLE_USER
    key_spec: int = 0
    key_size: int = 0
    input: bytes = b""

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("bContainerIndex", BYTE),
        ("PinId", DWORD),
        ("dwKeySpec", DWORD),
        ("dwKeySize", DWORD),
        ("cbInput", DWORD),
    )

    def _header(self) -> dict[str, int | bytes]:
        return {
            "dwVersion": self.version,
            "bContainerIndex": self.container_index,
            "PinId": self.pin_id,
            "dwKeySpec": self.key_spec,
            "dwKeySize": self.key_size,
            "cbInput": len(self.input),
        }

    def _tail(self) -> bytes:
        return self.input

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        size = sizeof(cls.FIELDS, X86)
        return cls(
            _int(v, "dwVersion"),
            _int(v, "bContainerIndex"),
            _int(v, "PinId"),
            _int(v, "dwKeySpec"),
            _int(v, "dwKeySize"),
            raw[size : size + _int(v, "cbInput")],
        )


@dataclass
class CARD_CHANGE_AUTHENTICATOR(_Header):
    version: int = versions.CARD_CHANGE_AUTHENTICATOR_CURRENT_VERSION
    flags: int = 0
    authenticating_pin_id: int = 0
    authenticating_pin_data: bytes = b""
    target_pin_id: int = 0
    target_data: bytes = b""
    retry_count: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwFlags", DWORD),
        ("dwAuthenticatingPinId", DWORD),
        ("cbAuthenticatingPinData", DWORD),
        ("dwTargetPinId", DWORD),
        ("cbTargetData", DWORD),
        ("cRetryCount", DWORD),
    )

    def _header(self) -> dict[str, int | bytes]:
        return {
            "dwVersion": self.version,
            "dwFlags": self.flags,
            "dwAuthenticatingPinId": self.authenticating_pin_id,
            "cbAuthenticatingPinData": len(self.authenticating_pin_data),
            "dwTargetPinId": self.target_pin_id,
            "cbTargetData": len(self.target_data),
            "cRetryCount": self.retry_count,
        }

    def _tail(self) -> bytes:
        return self.authenticating_pin_data + self.target_data

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        pos = sizeof(cls.FIELDS, X86)
        auth_len = _int(v, "cbAuthenticatingPinData")
        target_len = _int(v, "cbTargetData")
        return cls(
            _int(v, "dwVersion"),
            _int(v, "dwFlags"),
            _int(v, "dwAuthenticatingPinId"),
            raw[pos : pos + auth_len],
            _int(v, "dwTargetPinId"),
            raw[pos + auth_len : pos + auth_len + target_len],
            _int(v, "cRetryCount"),
        )


@dataclass
class CARD_CHANGE_AUTHENTICATOR_RESPONSE(_Header):
    version: int = versions.CARD_CHANGE_AUTHENTICATOR_RESPONSE_CURRENT_VERSION
    attempts_remaining: int = 0

    FIELDS: ClassVar[Fields] = (("dwVersion", DWORD), ("cAttemptsRemaining", DWORD))

    def _header(self) -> dict[str, int | bytes]:
        return {"dwVersion": self.version, "cAttemptsRemaining": self.attempts_remaining}

    def _tail(self) -> bytes:
        return b""

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        return cls(_int(v, "dwVersion"), _int(v, "cAttemptsRemaining"))


@dataclass
class CARD_AUTHENTICATE(_Header):
    version: int = versions.CARD_AUTHENTICATE_CURRENT_VERSION
    flags: int = 0
    pin_id: int = 0
    pin_data: bytes = b""

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("dwFlags", DWORD),
        ("PinId", DWORD),
        ("cbPinData", DWORD),
    )

    def _header(self) -> dict[str, int | bytes]:
        return {
            "dwVersion": self.version,
            "dwFlags": self.flags,
            "PinId": self.pin_id,
            "cbPinData": len(self.pin_data),
        }

    def _tail(self) -> bytes:
        return self.pin_data

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        pos = sizeof(cls.FIELDS, X86)
        return cls(
            _int(v, "dwVersion"),
            _int(v, "dwFlags"),
            _int(v, "PinId"),
            raw[pos : pos + _int(v, "cbPinData")],
        )


@dataclass
class CARD_AUTHENTICATE_RESPONSE(_Header):
    version: int = versions.CARD_AUTHENTICATE_RESPONSE_CURRENT_VERSION
    session_pin: bytes = b""
    attempts_remaining: int = 0

    FIELDS: ClassVar[Fields] = (
        ("dwVersion", DWORD),
        ("cbSessionPin", DWORD),
        ("cAttemptsRemaining", DWORD),
    )

    def _header(self) -> dict[str, int | bytes]:
        return {
            "dwVersion": self.version,
            "cbSessionPin": len(self.session_pin),
            "cAttemptsRemaining": self.attempts_remaining,
        }

    def _tail(self) -> bytes:
        return self.session_pin

    @classmethod
    def from_bytes(cls, raw: bytes) -> Self:
        v = unpack(cls.FIELDS, raw, X86)
        pos = sizeof(cls.FIELDS, X86)
        return cls(
            _int(v, "dwVersion"),
            raw[pos : pos + _int(v, "cbSessionPin")],
            _int(v, "cAttemptsRemaining"),
        )


# --- CARD_DATA: the function table ABI (for slot numbers and traces) ------------------------

CARD_DATA_FUNCTIONS: tuple[tuple[str, int], ...] = (
    # (function pointer member, CARD_DATA version that introduced it)
    ("pfnCardDeleteContext", 4),
    ("pfnCardQueryCapabilities", 4),
    ("pfnCardDeleteContainer", 4),
    ("pfnCardCreateContainer", 4),
    ("pfnCardGetContainerInfo", 4),
    ("pfnCardAuthenticatePin", 4),
    ("pfnCardGetChallenge", 4),
    ("pfnCardAuthenticateChallenge", 4),
    ("pfnCardUnblockPin", 4),
    ("pfnCardChangeAuthenticator", 4),
    ("pfnCardDeauthenticate", 4),
    ("pfnCardCreateDirectory", 4),
    ("pfnCardDeleteDirectory", 4),
    ("pvUnused3", 4),
    ("pvUnused4", 4),
    ("pfnCardCreateFile", 4),
    ("pfnCardReadFile", 4),
    ("pfnCardWriteFile", 4),
    ("pfnCardDeleteFile", 4),
    ("pfnCardEnumFiles", 4),
    ("pfnCardGetFileInfo", 4),
    ("pfnCardQueryFreeSpace", 4),
    ("pfnCardQueryKeySizes", 4),
    ("pfnCardSignData", 4),
    ("pfnCardRSADecrypt", 4),
    ("pfnCardConstructDHAgreement", 4),
    ("pfnCardDeriveKey", 5),
    ("pfnCardDestroyDHAgreement", 5),
    ("pfnCspGetDHAgreement", 5),
    ("pfnCardGetChallengeEx", 6),
    ("pfnCardAuthenticateEx", 6),
    ("pfnCardChangeAuthenticatorEx", 6),
    ("pfnCardDeauthenticateEx", 6),
    ("pfnCardGetContainerProperty", 6),
    ("pfnCardSetContainerProperty", 6),
    ("pfnCardGetProperty", 6),
    ("pfnCardSetProperty", 6),
    ("pfnCspUnpadData", 7),
    ("pfnMDImportSessionKey", 7),
    ("pfnMDEncryptData", 7),
    ("pfnCardImportSessionKey", 7),
    ("pfnCardGetSharedKeyHandle", 7),
    ("pfnCardGetAlgorithmProperty", 7),
    ("pfnCardGetKeyProperty", 7),
    ("pfnCardSetKeyProperty", 7),
    ("pfnCardDestroyKey", 7),
    ("pfnCardProcessEncryptedData", 7),
    ("pfnCardCreateContainerEx", 7),
)

CARD_DATA_FIELDS: Fields = (
    ("dwVersion", DWORD),
    ("pbAtr", PTR),
    ("cbAtr", DWORD),
    ("pwszCardName", PTR),
    ("pfnCspAlloc", PTR),
    ("pfnCspReAlloc", PTR),
    ("pfnCspFree", PTR),
    ("pfnCspCacheAddFile", PTR),
    ("pfnCspCacheLookupFile", PTR),
    ("pfnCspCacheDeleteFile", PTR),
    ("pvCacheContext", PTR),
    ("pfnCspPadData", PTR),
    ("hSCardCtx", PTR),
    ("hScard", PTR),
    ("pvVendorSpecific", PTR),
    *((name, PTR) for name, _ in CARD_DATA_FUNCTIONS),
)
