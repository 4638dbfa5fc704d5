"""Secret masking: which bytes of an exchange are secrets, and how they are hidden.

A mask is a list of `Span`s (half-open byte ranges with a label such as "PIN 80").
Rules compute spans on the *logical* command and response data (chains and
GET RESPONSE parts joined); the recorder maps them back onto each raw APDU.
Masked bytes are written as `**` in hex, so a trace shows where a secret was and
how long it was, never its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from wire import tlv

MASK_HEX = "**"


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str

    def shifted(self, offset: int) -> Span:
        return Span(self.start + offset, self.end + offset, self.label)

    def clip(self, start: int, end: int) -> Span | None:
        """The part of this span inside [start, end), or None."""
        s, e = max(self.start, start), min(self.end, end)
        return Span(s, e, self.label) if s < e else None

    def to_json(self) -> list[object]:
        return [self.start, self.end, self.label]

    @classmethod
    def from_json(cls, item: list[object]) -> Span:
        start, end, label = item
        return cls(int(str(start)), int(str(end)), str(label))


@dataclass(frozen=True, slots=True)
class Masks:
    """Secret spans of a logical exchange, relative to its command and response data."""

    command: tuple[Span, ...] = ()
    response: tuple[Span, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.command or self.response)


NO_MASKS = Masks()


def whole(data: bytes, label: str, start: int = 0) -> tuple[Span, ...]:
    """All of `data` from `start` on is secret."""
    return (Span(start, len(data), label),) if len(data) > start else ()


def masked_bytes(data: bytes, spans: Iterable[Span]) -> bytes:
    """The data with every masked byte set to zero (for decoders: secrets never reach them)."""
    out = bytearray(data)
    for span in spans:
        out[span.start : span.end] = bytes(max(0, min(span.end, len(out)) - span.start))
    return bytes(out[: len(data)])


def masked_positions(spans: Iterable[Span]) -> set[int]:
    return {i for span in spans for i in range(span.start, span.end)}


def to_hex(data: bytes, spans: Iterable[Span] = ()) -> str:
    """Upper-case hex with masked bytes as `**`."""
    hidden = masked_positions(spans)
    if not hidden:
        return data.hex().upper()
    return "".join(MASK_HEX if i in hidden else f"{b:02X}" for i, b in enumerate(data))


def from_hex(text: str) -> tuple[bytes, tuple[Span, ...]]:
    """Parse hex written by `to_hex`; masked bytes come back as zeros with unlabeled spans."""
    text = text.replace(" ", "")
    if len(text) % 2:
        raise ValueError(f"odd number of hex digits in {text[:16]!r}...")
    out = bytearray()
    spans: list[Span] = []
    for i in range(0, len(text), 2):
        pair = text[i : i + 2]
        if pair == MASK_HEX:
            pos = len(out)
            if spans and spans[-1].end == pos:
                spans[-1] = Span(spans[-1].start, pos + 1, "")
            else:
                spans.append(Span(pos, pos + 1, ""))
            out.append(0)
        else:
            out.append(int(pair, 16))
    return bytes(out), tuple(spans)


# -- TLV helpers for rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlvAt:
    """A TLV with its position: value occupies data[start:end]."""

    tag: int
    header_start: int
    start: int
    end: int

    @property
    def constructed(self) -> bool:
        return bool(tlv.tag_bytes(self.tag)[0] & 0x20)


def walk(data: bytes, start: int = 0, end: int | None = None) -> Iterator[TlvAt]:
    """Top-level TLVs of data[start:end] with absolute positions (the core's tag/length
    readers do the parsing); stops silently at the first malformed byte."""
    pos, stop = start, len(data) if end is None else end
    view = data[:stop]
    while pos < stop:
        try:
            tag, vpos = tlv.read_tag(view, pos)
            length, vpos = tlv.read_length(view, vpos)
        except tlv.TlvError:
            return
        if vpos + length > stop:
            return
        yield TlvAt(tag, pos, vpos, vpos + length)
        pos = vpos + length


def value_spans(data: bytes, path: tuple[int, ...], label: str, start: int = 0) -> list[Span]:
    """Spans of the values reached by a tag path, e.g. (0x7C, 0x80) for a witness."""
    found: list[Span] = []
    level = [(start, len(data))]
    for depth, tag in enumerate(path):
        nxt: list[tuple[int, int]] = []
        for s, e in level:
            for item in walk(data, s, e):
                if item.tag == tag:
                    nxt.append((item.start, item.end))
        level = nxt
        if depth == len(path) - 1:
            found = [Span(s, e, label) for s, e in level if e > s]
    return found
