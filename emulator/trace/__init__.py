"""APDU tracing: decoded, masked, JSON Lines, correlated with driver calls; replay.

Library entry points:

* `decode(app, apdu, response, sw)`: the decoded view of one exchange;
  `describe_sw(app, sw)` and `tlv_tree(data, tags)` for status words and TLVs.
* `CardTrace(card, path)`: the emulator side, a JSONL trace of everything a card handles.
* `TracingConnection(connection, path)`: the host side, any pyscard-shaped connection,
  with `conn.tracer.call("CardSignData", ...)` to mark driver calls.
* `read_trace(path)`, `Renderer`, `TraceFilter`: reading and showing traces.
* `replay(records, card)`: a recorded trace as a regression test.
"""

from .decoding import (
    AppDecoder,
    CommandSpec,
    DataKind,
    Decoded,
    TagNames,
    TlvNode,
    Varying,
    app_for_aid,
    decode,
    decoder_for,
    describe_sw,
    masks_for,
    register,
    tlv_tree,
)
from .host import HostTracer, TracingConnection
from .jsonl import JsonlWriter, follow_trace, read_trace
from .masking import Masks, Span
from .model import (
    FORMAT,
    VERSION,
    ApduRecord,
    CallRecord,
    Header,
    PowerRecord,
    Record,
    TraceFormatError,
)
from .observer import CardTrace, CardTracer
from .recorder import Secret, TraceRecorder
from .render import Renderer, TraceFilter
from .replay import Divergence, ReplayError, ReplayResult, replay

__all__ = [
    "FORMAT",
    "VERSION",
    "ApduRecord",
    "AppDecoder",
    "CallRecord",
    "CardTrace",
    "CardTracer",
    "CommandSpec",
    "DataKind",
    "Decoded",
    "Divergence",
    "Header",
    "HostTracer",
    "JsonlWriter",
    "Masks",
    "PowerRecord",
    "Record",
    "Renderer",
    "ReplayError",
    "ReplayResult",
    "Secret",
    "Span",
    "TagNames",
    "TlvNode",
    "TraceFilter",
    "TraceFormatError",
    "TraceRecorder",
    "TracingConnection",
    "Varying",
    "app_for_aid",
    "decode",
    "decoder_for",
    "describe_sw",
    "follow_trace",
    "masks_for",
    "read_trace",
    "register",
    "replay",
    "tlv_tree",
]
