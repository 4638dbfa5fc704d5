"""What a GIDS card holds, as minidriver files: for demos, `softcard` output and tests.

`list_minidriver_files(state)` takes an exported card state (`card.export_state()`,
or its "gids" part) and follows the masterfile, as a host would: names, sizes,
and the decoded cmapfile, cardcf and certificates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from wire.gids import CMAP_RECORD_SIZE, Ef, Tag

from .formats import (
    CardCf,
    ContainerMapRecord,
    FormatError,
    parse_cmapfile,
    parse_masterfile,
)
from .formats import (
    decompress_certificate as _decompress,
)


@dataclass(frozen=True)
class MinidriverFile:
    path: str  # "\\cardid", "mscp\\cmapfile", "mscp\\" for a directory
    ef: int
    tag: int
    size: int | None  # None: the masterfile names a DO that is missing
    summary: str = ""
    containers: tuple[ContainerMapRecord, ...] = field(default=())


def _do_files(state: dict[str, Any]) -> dict[int, dict[int, bytes]]:
    out: dict[int, dict[int, bytes]] = {}
    for entry in state.get("files", []):
        if entry.get("kind") == "do":
            out[int(entry["fid"], 16)] = {
                int(t, 16): bytes.fromhex(v) for t, v in entry.get("objects", [])
            }
    return out


def _summary(name: str, value: bytes) -> tuple[str, tuple[ContainerMapRecord, ...]]:
    try:
        if name == "cmapfile":
            records = tuple(parse_cmapfile(value))
            return f"{len(records)} container record(s) of {CMAP_RECORD_SIZE} bytes", records
        if name == "cardcf":
            cf = CardCf.parse(value)
            return f"pins {cf.pins}, containers {cf.containers}, files {cf.files}", ()
        if name == "cardid":
            return value.hex(), ()
        if name == "cardapps":
            apps = [value[i : i + 8].rstrip(b"\x00").decode() for i in range(0, len(value), 8)]
            return ", ".join(apps), ()
        if name[:3] in ("kxc", "ksc") and value:
            cert = x509.load_der_x509_certificate(_decompress(value))
            return f"certificate {cert.subject.rfc4514_string()} (compressed)", ()
    except (FormatError, ValueError, UnicodeDecodeError) as e:
        return f"unreadable: {e}", ()
    return "", ()


def list_minidriver_files(state: dict[str, Any]) -> list[MinidriverFile]:
    """The minidriver files of a GIDS card state, in masterfile order."""
    gids = state.get("gids", state)
    files = _do_files(gids)
    masterfile = files.get(Ef.USER_CREATE_DELETE_DIR, {}).get(Tag.MASTERFILE)
    if masterfile is None:
        return []  # a blank card: no file system yet
    out: list[MinidriverFile] = []
    for record in parse_masterfile(masterfile):
        if record.is_directory:
            out.append(MinidriverFile(record.path, record.ef, 0, None, "directory"))
            continue
        value = files.get(record.ef, {}).get(record.do_tag)
        if value is None:
            out.append(MinidriverFile(record.path, record.ef, record.do_tag, None, "missing"))
            continue
        summary, containers = _summary(record.filename, value)
        out.append(
            MinidriverFile(record.path, record.ef, record.do_tag, len(value), summary, containers)
        )
    return out


def render(files: list[MinidriverFile]) -> list[str]:
    """One line per file (and per container record), for a terminal."""
    lines: list[str] = []
    for f in files:
        where = f"{f.ef:04X}/{f.tag:04X}" if f.tag else f"{f.ef:04X}"
        size = "-" if f.size is None else f"{f.size} bytes"
        lines.append(f"{f.path:<16} {where:<10} {size:<11} {f.summary}".rstrip())
        for i, c in enumerate(f.containers):
            flags = (
                "+".join(n for n, on in (("valid", c.valid), ("default", c.default)) if on)
                or "free"
            )
            lines.append(
                f"    [{i}] {c.name or '-'} {flags} sig={c.sig_key_bits} kex={c.kex_key_bits}"
            )
    return lines
