"""A minidriver flow on a GIDS card for the driver-tracing tests: PIN and admin-key handling,
enrollment, then one CardSignData; and what a trace says about one driver call.

The PIN and the admin key are changed to distinctive values first: the factory admin key is
24 zero bytes, which a scan of a trace could never tell apart from an empty file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

import driver
from driver import blobs
from driver.cardmodules.gids import admin_response
from driver.csp import Csp
from driver.structures import CARD_SIGNING_INFO
from emulator.trace import ApduRecord, CallRecord, Record, Renderer, read_trace
from wire import minidriver as k

PROFILE = import_module("emulator.profiles.gids")
PIN: bytes = PROFILE.USER_PIN
ADMIN_KEY: bytes = PROFILE.ADMIN_KEY
NEW_PIN = b"Tr4ce-PIN"
NEW_ADMIN_KEY = bytes.fromhex("5DA0C3F1 9E27B46B 0C81D35A E6F24B97 13A8C05E 7D6B29F4")
DIGEST = hashlib.sha256(b"sign me, and show whom the APDUs belong to").digest()

# INS bytes of what CardSignData may send on GIDS.
GET_DATA, GET_RESPONSE, MSE, PSO = 0xCB, 0xC0, 0x22, 0x2A


@dataclass
class FlowSecrets:
    """Everything secret the flow sent or received, as bytes."""

    values: list[bytes] = field(default_factory=list)

    def forms(self) -> list[str]:
        """How a secret could show up in trace text: hex in any case and spacing. (ASCII of a
        digits-only PIN is left out: JSON times are digits too.)"""
        out: list[str] = []
        for v in self.values:
            out += [v.hex(), v.hex().upper(), v.hex(" "), v.hex(" ").upper()]
            if not v.isdigit() and v.isascii() and v.decode().isprintable():
                out.append(v.decode())
        return out


def run_flow(connection: Any, bits: int = 1024) -> FlowSecrets:
    """Change PIN and admin key, authenticate both, enroll a key container, sign DIGEST with it
    (verified here), all through the minidriver on `connection`."""
    secrets = FlowSecrets([PIN, NEW_PIN, NEW_ADMIN_KEY])
    with driver.acquire_context(connection=connection) as ctx:
        ctx.authenticate_pin("user", PIN)
        ctx.change_authenticator("user", PIN, NEW_PIN, 0, k.CARD_AUTHENTICATE_PIN_PIN)
        old = admin_response(ADMIN_KEY, ctx.get_challenge())
        ctx.change_authenticator(
            "admin", old, NEW_ADMIN_KEY, 0, k.CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE
        )
        new = admin_response(NEW_ADMIN_KEY, ctx.get_challenge())
        ctx.authenticate_challenge(new)
        secrets.values += [old, new]
        index = Csp(ctx).enroll(k.AT_KEYEXCHANGE, bits)
        info = ctx.get_container_info(index)
        public = blobs.parse_rsa_public_blob(info.key_ex_public_key or b"")
        signed = ctx.sign_data(
            CARD_SIGNING_INFO(2, index, k.AT_KEYEXCHANGE, 0, k.CALG_SHA_256, DIGEST)
        )
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(  # CAPI order: little-endian
        (signed.signed_data or b"")[::-1], DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256())
    )
    return secrets


@dataclass
class TracedCall:
    start: CallRecord
    end: CallRecord
    apdus: list[ApduRecord]


def traced_calls(records: list[Record], name: str) -> list[TracedCall]:
    """Each call `name` in the trace with the APDU records that carry its id."""
    starts = {
        r.id: r for r in records if isinstance(r, CallRecord) and not r.end and r.name == name
    }
    ends = {r.id: r for r in records if isinstance(r, CallRecord) and r.end and r.id in starts}
    return [
        TracedCall(
            start,
            ends[call_id],
            [r for r in records if isinstance(r, ApduRecord) and r.call == call_id],
        )
        for call_id, start in starts.items()
    ]


def assert_sign_call_owns_its_apdus(
    call: TracedCall, *, freshness_checked: bool, public_key_read: bool = False
) -> None:
    """CardSignData on GIDS: [GET DATA cardcf,] [GET DATA public key + GET RESPONSE,] MSE set
    DST, PSO compute signature; with timings. The public key is read when the context does not
    know the key's size yet (no CardGetContainerInfo before)."""
    ins = [r.ins for r in call.apdus]
    expected = [GET_DATA] if freshness_checked else []
    expected += [GET_DATA, GET_RESPONSE] if public_key_read else []
    assert ins == [*expected, MSE, PSO], ins
    summaries = [r.decoded.summary if r.decoded else "" for r in call.apdus]
    if freshness_checked:
        assert summaries[0].startswith("cardcf"), summaries
    if public_key_read:
        assert summaries[-4].startswith("public key of key"), summaries
    mse, pso = call.apdus[-2:]
    assert mse.command[2:4] == bytes.fromhex("41B6")  # set, digital signature template
    assert pso.command[2:4] == bytes.fromhex("9E9A")  # compute digital signature
    # 61xx only where a GET RESPONSE follows; everything else succeeded.
    assert all(r.sw == 0x9000 or r.sw >> 8 == 0x61 for r in call.apdus)
    assert [r.sw >> 8 == 0x61 for r in call.apdus[:-1]] == [
        r.ins == GET_RESPONSE for r in call.apdus[1:]
    ]
    assert all(r.duration_ns > 0 for r in call.apdus)
    assert call.start.time <= call.apdus[0].time <= call.apdus[-1].time <= call.end.time
    assert call.end.result == "ok"
    assert call.end.apdus == len(call.apdus)
    assert call.end.card_ns == sum(r.duration_ns for r in call.apdus)
    assert call.end.duration_ns >= call.end.card_ns
    assert call.start.parent is None  # an outermost API call


def trace_texts(path: Path) -> list[str]:
    """The JSONL file and every rendering a user can ask `softcard trace` for."""
    records = list(read_trace(path))
    texts = [path.read_text()]
    for verbosity in (0, 1, 2):
        texts.append("\n".join(Renderer(verbosity, False).render(records)))
    return texts


def leaked(texts: list[str], secrets: FlowSecrets) -> list[str]:
    return [form for form in secrets.forms() for text in texts if form in text]
