"""The GIDS data-object file system: one application DF holding DO EFs and key EFs (gids.md 2).

A DO EF is a bag of BER-TLV data objects sharing the EF's access rule; a key EF
holds one key and the list of CRTs it may be used with. FCPs are stored exactly
as CREATE FILE received them (SELECT P2=04 gives them back verbatim).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wire import tlv
from wire.gids import (
    KEY_EF_BASE,
    MAX_DOS_PER_EF,
    MAX_FILES,
    Fid,
    FileDescriptor,
    LifeCycle,
    Tag,
)
from wire.iso7816 import SW

from ...core.errors import CardError
from .access import AccessRule
from .keys import CardKey

# FIDs no EF may take: they name the application, EF.DIR/EF.ATR or "current".
_RESERVED_FIDS = frozenset(int(f) for f in Fid)


def parse_tlvs(data: bytes) -> list[tlv.Tlv]:
    """BER-TLV for a GIDS command: malformed input is GidsApplet's generic 6984."""
    try:
        return tlv.parse(data)
    except tlv.TlvError:
        raise CardError(SW.DATA_INVALID, "malformed TLV") from None


def parse_one(data: bytes) -> tlv.Tlv:
    items = parse_tlvs(data)
    if len(items) != 1:
        raise CardError(SW.DATA_INVALID, "expected exactly one TLV")
    return items[0]


@dataclass(frozen=True)
class Crt:
    """One control reference template of a key EF (tag A4, B6 or B8)."""

    tag: int
    mechanism: int | None
    key_ref: int | None
    usage: int | None

    @classmethod
    def parse(cls, item: tlv.Tlv) -> Crt:
        fields = {t.tag: t.value for t in parse_tlvs(item.value)}

        def byte(tag: int) -> int | None:
            value = fields.get(tag)
            return value[0] if value else None

        ref = byte(Tag.CRT_KEY_REF_SYMMETRIC)
        return cls(
            item.tag,
            byte(Tag.CRT_MECHANISM),
            ref if ref is not None else byte(Tag.CRT_KEY_REF),
            byte(Tag.CRT_USAGE),
        )


@dataclass
class GidsFile:
    fid: int
    fcp: bytes
    rule: AccessRule
    state: LifeCycle = LifeCycle.CREATION

    @property
    def operational(self) -> bool:
        return self.state == LifeCycle.OPERATIONAL

    def require_operational(self) -> None:
        if not self.operational:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "file not activated")

    def base_state(self) -> dict[str, Any]:
        return {"fid": f"{self.fid:04X}", "fcp": self.fcp.hex(), "state": int(self.state)}


@dataclass
class DoFile(GidsFile):
    """DOs kept in creation order, as GidsApplet's array (matters for `5C 00` reads)."""

    objects: list[tuple[int, bytes]] = field(default_factory=list)

    def find(self, tag: int) -> int | None:
        for i, (t, _) in enumerate(self.objects):
            if t == tag:
                return i
        return None

    def get(self, tag: int) -> bytes | None:
        i = self.find(tag)
        return None if i is None else self.objects[i][1]

    def put(self, tag: int, value: bytes) -> None:
        """GidsApplet's write semantics (gids.md 2.10), empty values included."""
        i = self.find(tag)
        if i is None:
            if len(self.objects) >= MAX_DOS_PER_EF:
                raise CardError(SW.NOT_ENOUGH_MEMORY, "too many DOs in this EF")
            self.objects.append((tag, value))
            return
        old = self.objects[i][1]
        if not value:
            if old:
                self.objects[i] = (tag, b"")  # first empty write prunes ...
            else:
                self.delete(tag)  # ... the second one deletes
            return
        if len(value) == len(old):
            self.objects[i] = (tag, value)
        else:
            del self.objects[i]
            self.objects.append((tag, value))

    def delete(self, tag: int) -> None:
        i = self.find(tag)
        if i is None:
            return
        # The applet moves its last DO into the freed slot.
        last = self.objects.pop()
        if i < len(self.objects):
            self.objects[i] = last

    def encoded(self, tag: int) -> bytes | None:
        value = self.get(tag)
        return None if value is None else tlv.encode(tag, value)

    def everything(self) -> bytes:
        return b"".join(tlv.encode(t, v) for t, v in self.objects)

    def to_state(self) -> dict[str, Any]:
        state = self.base_state()
        state["kind"] = "do"
        state["objects"] = [[f"{t:X}", v.hex()] for t, v in self.objects]
        return state


@dataclass
class KeyFile(GidsFile):
    crts: tuple[Crt, ...] = ()
    key: CardKey | None = None

    @property
    def key_ref(self) -> int:
        return self.fid & 0xFF

    def crt(self, tag: int, mechanism: int | None = None) -> Crt | None:
        for crt in self.crts:
            if crt.tag == tag and (mechanism is None or crt.mechanism == mechanism):
                return crt
        return None

    def to_state(self) -> dict[str, Any]:
        state = self.base_state()
        state["kind"] = "key"
        state["key"] = self.key.to_state() if self.key is not None else None
        return state


def file_from_fcp(fcp: bytes) -> GidsFile:
    """A new file in creation state from a CREATE FILE template (gids.md 2.11)."""
    outer = parse_one(fcp)
    if outer.tag not in (Tag.FCP, Tag.FCP_ISO):
        raise CardError(SW.DATA_INVALID, "FCP template must be 62 or 6F")
    items = parse_tlvs(outer.value)
    fields = {t.tag: t.value for t in items}
    fid_bytes = fields.get(Tag.FILE_ID)
    descriptor = fields.get(Tag.FILE_DESCRIPTOR)
    if fid_bytes is None or len(fid_bytes) != 2:
        raise CardError(SW.DATA_INVALID, "FCP without a 2-byte file identifier")
    if not descriptor or len(descriptor) > 6:
        raise CardError(SW.DATA_INVALID, "FCP without a file descriptor")
    fid = int.from_bytes(fid_bytes, "big")
    if fid in _RESERVED_FIDS:
        raise CardError(SW.DATA_INVALID, "reserved file identifier")
    attribute = fields.get(Tag.SECURITY_ATTRIBUTE_COMPACT)
    rule = AccessRule.parse(attribute) if attribute is not None else AccessRule()
    if descriptor[0] == FileDescriptor.DO_EF:
        return DoFile(fid, bytes(fcp), rule)
    if descriptor[0] == FileDescriptor.KEY_EF:
        crt_list = next((t for t in items if t.tag == Tag.CRT_LIST), None)
        if crt_list is None or not 11 <= len(crt_list.value) <= 127:
            raise CardError(SW.DATA_INVALID, "key EF without a CRT list (A5, 11-127 bytes)")
        crts = tuple(Crt.parse(t) for t in parse_tlvs(crt_list.value))
        return KeyFile(fid, bytes(fcp), rule, crts=crts)
    raise CardError(SW.DATA_INVALID, "unsupported file descriptor")


@dataclass
class FileTable:
    """The EFs of the application DF, by FID, in creation order."""

    files: dict[int, GidsFile] = field(default_factory=dict)

    def get(self, fid: int) -> GidsFile | None:
        return self.files.get(fid)

    def add(self, new: GidsFile) -> None:
        if new.fid in self.files:
            raise CardError(SW.DATA_INVALID, "file identifier already in use")
        if len(self.files) >= MAX_FILES:
            raise CardError(SW.NOT_ENOUGH_MEMORY, "the application holds 30 files")
        self.files[new.fid] = new

    def remove(self, fid: int) -> None:
        self.files.pop(fid, None)

    def do_file(self, fid: int) -> DoFile:
        """The DO EF for GET/PUT DATA: 6A82 when absent, 6981 for a key EF."""
        found = self.files.get(fid)
        if found is None:
            raise CardError(SW.FILE_NOT_FOUND)
        if not isinstance(found, DoFile):
            raise CardError(SW.INCOMPATIBLE_WITH_FILE_STRUCTURE, "not a DO EF")
        return found

    def key_file(self, key_ref: int) -> KeyFile | None:
        found = self.files.get(KEY_EF_BASE | key_ref)
        return found if isinstance(found, KeyFile) else None

    def to_state(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f in self.files.values():
            if isinstance(f, DoFile | KeyFile):
                out.append(f.to_state())
        return out

    @classmethod
    def from_state(cls, state: list[dict[str, Any]]) -> FileTable:
        table = cls()
        for entry in state:
            made = file_from_fcp(bytes.fromhex(entry["fcp"]))
            made.state = LifeCycle(int(entry["state"]))
            if isinstance(made, DoFile):
                made.objects = [(int(t, 16), bytes.fromhex(v)) for t, v in entry["objects"]]
            elif isinstance(made, KeyFile) and entry.get("key") is not None:
                made.key = CardKey.from_state(entry["key"])
            table.files[made.fid] = made
        return table
