"""An ISO/IEC 7816-4 file tree: the MF, DFs (with names) and transparent EFs.

Files are found by FID, by DF name and by path; each carries a compact security
attribute. The tree is plain data; commands live in the application that owns it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wire import tlv
from wire.iso7816 import SW

from .errors import CardError
from .security import CompactSecurityAttribute

MF_FID = 0x3F00
CURRENT_DF_FID = 0x3FFF

FDB_DF = 0x38
FDB_TRANSPARENT_EF = 0x01
LCS_ACTIVATED = 0x05
LCS_DEACTIVATED = 0x04

# FCP tags (ISO 7816-4 table 12).
TAG_FCP = 0x62
TAG_FCI = 0x6F
TAG_FMD = 0x64
TAG_FILE_SIZE = 0x80
TAG_FDB = 0x82
TAG_FID = 0x83
TAG_DF_NAME = 0x84
TAG_SFI = 0x88
TAG_LCS = 0x8A
TAG_SECURITY_COMPACT = 0x8C


@dataclass(eq=False)
class Node:
    fid: int
    security: CompactSecurityAttribute
    lcs: int = LCS_ACTIVATED
    parent: DF | None = field(default=None, repr=False)

    def fcp(self) -> bytes:
        raise NotImplementedError

    def path(self) -> list[int]:
        out: list[int] = []
        node: Node | None = self
        while node is not None:
            out.append(node.fid)
            node = node.parent
        return out[::-1]


@dataclass(eq=False)
class EF(Node):
    data: bytearray = field(default_factory=bytearray)
    max_size: int = 0
    sfi: int | None = None

    def fcp(self) -> bytes:
        items = [
            tlv.Tlv(TAG_FILE_SIZE, len(self.data).to_bytes(2, "big")),
            tlv.Tlv(TAG_FDB, bytes((FDB_TRANSPARENT_EF,))),
            tlv.Tlv(TAG_FID, self.fid.to_bytes(2, "big")),
        ]
        if self.sfi is not None:
            items.append(tlv.Tlv(TAG_SFI, bytes((self.sfi << 3,))))
        items += [
            tlv.Tlv(TAG_LCS, bytes((self.lcs,))),
            tlv.Tlv(TAG_SECURITY_COMPACT, self.security.to_bytes()),
        ]
        return tlv.encode(TAG_FCP, items)


@dataclass(eq=False)
class DF(Node):
    name: bytes | None = None
    children: dict[int, Node] = field(default_factory=dict)

    def fcp(self) -> bytes:
        items = [
            tlv.Tlv(TAG_FDB, bytes((FDB_DF,))),
            tlv.Tlv(TAG_FID, self.fid.to_bytes(2, "big")),
        ]
        if self.name:
            items.append(tlv.Tlv(TAG_DF_NAME, self.name))
        items += [
            tlv.Tlv(TAG_LCS, bytes((self.lcs,))),
            tlv.Tlv(TAG_SECURITY_COMPACT, self.security.to_bytes()),
        ]
        return tlv.encode(TAG_FCP, items)

    def add(self, node: Node) -> Node:
        if node.fid in (MF_FID, CURRENT_DF_FID, self.fid) or node.fid in self.children:
            raise CardError(SW.FILE_ALREADY_EXISTS)
        if isinstance(node, DF) and node.name and self.root().find_name(node.name):
            raise CardError(SW.DF_NAME_ALREADY_EXISTS)
        node.parent = self
        self.children[node.fid] = node
        return node

    def root(self) -> DF:
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def find_name(self, name: bytes) -> DF | None:
        """Depth-first search for a DF whose name starts with `name`."""
        if self.name and self.name.startswith(name):
            return self
        for child in self.children.values():
            if isinstance(child, DF):
                found = child.find_name(name)
                if found is not None:
                    return found
        return None

    def child(self, fid: int) -> Node:
        node = self.children.get(fid)
        if node is None:
            raise CardError(SW.FILE_NOT_FOUND)
        return node

    def ef_by_sfi(self, sfi: int) -> EF:
        for node in self.children.values():
            if isinstance(node, EF) and node.sfi == sfi:
                return node
        raise CardError(SW.FILE_NOT_FOUND)

    def resolve_path(self, path: bytes) -> Node:
        """Follow a path of FIDs (2 bytes each) from this DF."""
        if not path or len(path) % 2:
            raise CardError(SW.WRONG_LENGTH, "a path is a whole number of FIDs")
        node: Node = self
        for i in range(0, len(path), 2):
            fid = int.from_bytes(path[i : i + 2], "big")
            if not isinstance(node, DF):
                raise CardError(SW.FILE_NOT_FOUND)
            if fid == CURRENT_DF_FID:
                continue
            node = node.child(fid)
        return node


def node_to_state(node: Node) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fid": f"{node.fid:04X}",
        "security": node.security.to_bytes().hex(),
        "lcs": node.lcs,
    }
    if isinstance(node, DF):
        base["type"] = "DF"
        if node.name:
            base["name"] = node.name.hex()
        base["children"] = [node_to_state(c) for c in node.children.values()]
    elif isinstance(node, EF):
        base["type"] = "EF"
        base["data"] = bytes(node.data).hex()
        base["max_size"] = node.max_size
        if node.sfi is not None:
            base["sfi"] = node.sfi
    return base


def node_from_state(state: dict[str, Any]) -> Node:
    security = CompactSecurityAttribute.parse(bytes.fromhex(state["security"]))
    fid = int(state["fid"], 16)
    if state["type"] == "DF":
        df = DF(fid, security, int(state["lcs"]), name=bytes.fromhex(state.get("name", "")) or None)
        for child in state.get("children", []):
            df.add(node_from_state(child))
        return df
    if state["type"] == "EF":
        return EF(
            fid,
            security,
            int(state["lcs"]),
            data=bytearray(bytes.fromhex(state["data"])),
            max_size=int(state["max_size"]),
            sfi=state.get("sfi"),
        )
    raise ValueError(f"unknown file type {state['type']!r}")
