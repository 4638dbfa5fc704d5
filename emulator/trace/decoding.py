"""The decoded view of an exchange: command name, P1/P2 meaning, TLV data, status word.

Decoders are tables, one per card application, registered by the application's
name (the name the core reports in `ApduEvent.application`). Each table maps INS
bytes to a `CommandSpec`; anything an application does not define falls back to
the ISO 7816-4 table. Decoders only ever see masked bytes: secrets are zeroed
before any decoder runs, so no decoder can leak one into a summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from wire import iso7816 as sw_names
from wire.apdu import CommandApdu

from .masking import NO_MASKS, Masks, Span, masked_bytes, to_hex, walk

Params = list[tuple[str, str]]
ParamFn = Callable[[CommandApdu], Params]
SummaryFn = Callable[[CommandApdu, bytes, int], str]
MaskFn = Callable[[CommandApdu, bytes], Masks]
Interpreter = Callable[[bytes], str]


class DataKind(Enum):
    NONE = "none"
    TLV = "tlv"  # BER-TLV, decoded into a tree with tag names
    RAW = "raw"  # opaque bytes
    TEXT = "text"  # bytes shown as hex and ASCII


class Varying(Enum):
    """How a response may legitimately differ between two cards (for replay)."""

    NO = "no"
    RANDOM = "random"  # challenges, witnesses: only the status word must match
    CRYPTO = "crypto"  # signatures, key generation, decryption: status word must match


@dataclass(frozen=True)
class CommandSpec:
    name: str
    params: ParamFn | None = None
    summary: SummaryFn | None = None
    data: DataKind = DataKind.TLV
    response: DataKind = DataKind.TLV
    mask: MaskFn | None = None
    varying: Varying = Varying.NO
    # Tag names that hold only inside this command's data (80 means "witness" in a 7C).
    tags: Mapping[int, str] = field(default_factory=dict)


SpecSource = CommandSpec | Callable[[CommandApdu], CommandSpec]


@dataclass
class TagNames:
    """Tag names of an application: global ones, ones that depend on the parent tag,
    primitive tags whose value is itself TLV (PIV's 53), and value interpreters."""

    names: dict[int, str] = field(default_factory=dict)
    nested: dict[int, dict[int, str]] = field(default_factory=dict)
    # Primitive tags whose value is TLV anyway: a tag, or (parent, tag) where only there.
    containers: frozenset[int | tuple[int, int]] = frozenset()
    interpret: dict[int, Interpreter] = field(default_factory=dict)
    nested_interpret: dict[int, dict[int, Interpreter]] = field(default_factory=dict)
    # Another table consulted for what this one does not know (applications -> ISO).
    fallback: TagNames | None = None

    def name(self, tag: int, parent: int | None, local: Mapping[int, str]) -> str:
        if parent is not None and tag in self.nested.get(parent, {}):
            return self.nested[parent][tag]
        if tag in local:
            return local[tag]
        if tag in self.names:
            return self.names[tag]
        return self.fallback.name(tag, parent, {}) if self.fallback else ""

    def interpreter(self, tag: int, parent: int | None) -> Interpreter | None:
        fn = self.nested_interpret.get(parent, {}).get(tag) if parent is not None else None
        fn = fn or self.interpret.get(tag)
        if fn is None and self.fallback is not None:
            return self.fallback.interpreter(tag, parent)
        return fn

    def is_container(self, tag: int, parent: int | None) -> bool:
        if tag in self.containers or (parent, tag) in self.containers:
            return True
        return bool(self.fallback and self.fallback.is_container(tag, parent))


@dataclass
class AppDecoder:
    name: str  # the application's name in the core
    label: str  # how people call it: "PIV", "GIDS"
    aids: tuple[bytes, ...] = ()
    commands: dict[int, SpecSource] = field(default_factory=dict)
    tags: TagNames = field(default_factory=TagNames)
    status: dict[int, str] = field(default_factory=dict)

    def spec(self, apdu: CommandApdu) -> CommandSpec | None:
        source = self.commands.get(apdu.ins)
        if source is None:
            return None
        return source if isinstance(source, CommandSpec) else source(apdu)


# -- registry -----------------------------------------------------------------------------

_REGISTRY: dict[str, AppDecoder] = {}
ISO_NAME = "iso"


def register(decoder: AppDecoder) -> AppDecoder:
    _REGISTRY[decoder.name] = decoder
    return decoder


def decoder_for(app: str) -> AppDecoder:
    _load_builtin()
    return _REGISTRY.get(app) or _REGISTRY[ISO_NAME]


def decoders() -> dict[str, AppDecoder]:
    _load_builtin()
    return dict(_REGISTRY)


def app_for_aid(name: bytes) -> AppDecoder | None:
    """The application a SELECT by DF name addresses (right-truncated AIDs included)."""
    _load_builtin()
    for decoder in _REGISTRY.values():
        for aid in decoder.aids:
            if len(name) >= 5 and (aid.startswith(name) or name.startswith(aid)):
                return decoder
    return None


_loaded = False


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from .apps import load_all

        load_all()


# -- the decoded view ---------------------------------------------------------------------


@dataclass
class TlvNode:
    tag: int
    name: str
    length: int
    value: str | None = None  # hex (masked bytes as **) of a primitive value
    text: str = ""  # what the value means, when known
    masked: str = ""  # label of the secret inside, if any
    children: list[TlvNode] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tag": f"{self.tag:02X}", "len": self.length}
        if self.name:
            out["name"] = self.name
        if self.value is not None:
            out["value"] = self.value
        if self.text:
            out["text"] = self.text
        if self.masked:
            out["masked"] = self.masked
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TlvNode:
        return cls(
            int(d["tag"], 16),
            d.get("name", ""),
            int(d["len"]),
            d.get("value"),
            d.get("text", ""),
            d.get("masked", ""),
            [cls.from_json(c) for c in d.get("children", [])],
        )


DataView = list[TlvNode] | str | None


def _view_to_json(view: DataView) -> Any:
    if isinstance(view, list):
        return [n.to_json() for n in view]
    return view


def _view_from_json(raw: Any) -> DataView:
    if isinstance(raw, list):
        return [TlvNode.from_json(n) for n in raw]
    return None if raw is None else str(raw)


@dataclass
class Decoded:
    name: str
    summary: str = ""
    params: Params = field(default_factory=list)
    command_data: DataView = None
    response_data: DataView = None
    sw: int = 0x9000
    status: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.summary:
            out["summary"] = self.summary
        if self.params:
            out["params"] = [list(p) for p in self.params]
        if self.command_data is not None:
            out["command_data"] = _view_to_json(self.command_data)
        if self.response_data is not None:
            out["response_data"] = _view_to_json(self.response_data)
        out["sw"] = f"{self.sw:04X}"
        out["status"] = self.status
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Decoded:
        return cls(
            d["name"],
            d.get("summary", ""),
            [(str(a), str(b)) for a, b in d.get("params", [])],
            _view_from_json(d.get("command_data")),
            _view_from_json(d.get("response_data")),
            int(d.get("sw", "9000"), 16),
            d.get("status", ""),
            list(d.get("notes", [])),
        )


# -- decoding -----------------------------------------------------------------------------


def lookup(app: str, apdu: CommandApdu) -> tuple[AppDecoder, CommandSpec | None]:
    decoder = decoder_for(app)
    spec = decoder.spec(apdu)
    if spec is None and decoder.name != ISO_NAME:
        spec = decoder_for(ISO_NAME).spec(apdu)
    return decoder, spec


def command_name(app: str, apdu: CommandApdu) -> str:
    _, spec = lookup(app, apdu)
    return spec.name if spec else f"INS {apdu.ins:02X}"


def masks_for(app: str, apdu: CommandApdu, response: bytes) -> Masks:
    """Secret spans of a logical exchange (real bytes in, spans out)."""
    _, spec = lookup(app, apdu)
    if spec is None or spec.mask is None:
        return NO_MASKS
    return spec.mask(apdu, response)


def is_secret_capable(app: str, apdu: CommandApdu) -> bool:
    _, spec = lookup(app, apdu)
    return spec is not None and spec.mask is not None


def describe_sw(app: str, sw: int) -> str:
    decoder = decoder_for(app)
    return decoder.status.get(sw) or sw_names.describe(sw)


def decode(
    app: str,
    apdu: CommandApdu,
    response: bytes,
    sw: int,
    masks: Masks = NO_MASKS,
) -> Decoded:
    """Decode one logical exchange. `masks` name the secrets: they are zeroed before any
    decoder looks at the bytes and shown as ** in the views."""
    decoder, spec = lookup(app, apdu)
    command_data = masked_bytes(apdu.data, masks.command)
    response_data = masked_bytes(response, masks.response)
    safe = CommandApdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, command_data, apdu.ne, apdu.extended)
    name = spec.name if spec else f"INS {apdu.ins:02X}"
    decoded = Decoded(name=name, sw=sw, status=describe_sw(app, sw))
    decoded.params = cla_params(apdu.cla)
    local = spec.tags if spec else {}
    if spec is not None:
        if spec.params:
            decoded.params += spec.params(safe)
        if spec.summary:
            try:
                decoded.summary = spec.summary(safe, response_data, sw)
            except (ValueError, IndexError, KeyError):
                decoded.summary = ""
    else:
        decoded.params.append(("P1-P2", f"{apdu.p1:02X} {apdu.p2:02X}"))
    data_kind = spec.data if spec else DataKind.RAW
    response_kind = spec.response if spec else DataKind.RAW
    decoded.command_data = view(command_data, data_kind, decoder.tags, local, masks.command)
    decoded.response_data = view(response_data, response_kind, decoder.tags, local, masks.response)
    for kind, data, spans, arrow in (
        (data_kind, command_data, masks.command, "command"),
        (response_kind, response_data, masks.response, "response"),
    ):
        if kind is DataKind.TEXT and data and not spans:
            text = as_text(data)
            if text:
                decoded.notes.append(f"{arrow} as text: {text}")
    return decoded


def cla_params(cla: int) -> Params:
    if cla & 0x80:
        return [("CLA", f"{cla:02X} proprietary class")]
    if cla & 0xE0 == 0x00:
        channel, chained, sm = cla & 0x03, bool(cla & 0x10), bool(cla & 0x0C)
    elif cla & 0xC0 == 0x40:
        channel, chained, sm = 4 + (cla & 0x0F), bool(cla & 0x10), bool(cla & 0x20)
    else:
        return [("CLA", f"{cla:02X} invalid class")]
    bits = [f"channel {channel}"]
    if chained:
        bits.append("command chaining, more blocks follow")
    if sm:
        bits.append("secure messaging")
    if not chained and not sm and channel == 0:
        return []
    return [("CLA", f"{cla:02X} " + ", ".join(bits))]


def view(
    data: bytes,
    kind: DataKind,
    tags: TagNames,
    local: Mapping[int, str],
    spans: tuple[Span, ...] = (),
) -> DataView:
    if not data:
        return None
    if kind is DataKind.TLV:
        tree = tlv_tree(data, tags, local, spans)
        if tree is not None:
            return tree
    return to_hex(data, spans)


def tlv_tree(
    data: bytes,
    tags: TagNames,
    local: Mapping[int, str] = {},
    spans: tuple[Span, ...] = (),
    start: int = 0,
    end: int | None = None,
    parent: int | None = None,
) -> list[TlvNode] | None:
    """A named tree of the TLVs in data[start:end]; None unless they fill it exactly."""
    stop = len(data) if end is None else end
    items = list(walk(data, start, stop))
    if not items or items[-1].end != stop or items[0].header_start != start:
        return None
    nodes: list[TlvNode] = []
    for item in items:
        node = TlvNode(item.tag, tags.name(item.tag, parent, local), item.end - item.start)
        hidden = [s for s in spans if s.start < item.end and s.end > item.start]
        nested = item.constructed or tags.is_container(item.tag, parent)
        children = (
            tlv_tree(data, tags, local, spans, item.start, item.end, item.tag)
            if nested and item.end > item.start
            else None
        )
        if children is not None:
            node.children = children
        else:
            value = data[item.start : item.end]
            node.value = to_hex(value, [s.shifted(-item.start) for s in hidden])
            if hidden:
                node.masked = ", ".join(sorted({s.label for s in hidden if s.label}))
            else:
                node.text = _interpret(tags, item.tag, parent, value)
        nodes.append(node)
    return nodes


def _interpret(tags: TagNames, tag: int, parent: int | None, value: bytes) -> str:
    fn = tags.interpreter(tag, parent)
    if fn is None:
        return ""
    try:
        return fn(value)
    except (ValueError, IndexError, KeyError):
        return ""


# -- helpers for decoder tables -----------------------------------------------------------


def printable(value: bytes) -> str:
    """ASCII rendering when the bytes are text, else ''."""
    if value and all(0x20 <= b < 0x7F for b in value):
        return f'"{value.decode("ascii")}"'
    return ""


def as_text(value: bytes) -> str:
    """A quoted rendering when the bytes are mostly printable ASCII, else ''."""
    readable = sum(1 for b in value if 0x20 <= b < 0x7F or b in (0x09, 0x0A, 0x0D))
    if not value or readable < 0.9 * len(value):
        return ""
    text = value.decode("ascii", errors="replace")
    return repr(text)[1:-1].join('""')


def hexs(value: bytes) -> str:
    return value.hex().upper()
