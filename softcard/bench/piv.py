"""PIV signing flows over the real stack: SELECT + VERIFY + GENERAL AUTHENTICATE.

The card is a `softcard run --card piv` process in a vpcd reader; the client is
pyscard through pcscd, sending what ykman sends. Keys are generated on the card
first (management key, then GENERATE), and every signature of the run is checked
once against the public key the card returned, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from emulator import make_card
from wire import tlv
from wire.piv import Algorithm, KeyRef, Tag

from ..stack import PcscStack
from .latency import card_process
from .pivhost import PivHost, card_exchange, pyscard_exchange
from .report import Section, Target

# Published YubiKey 5 figures for the same flows (jsign's PIV benchmark), in ms.
YUBIKEY_MS = {Algorithm.RSA_2048: 149.0, Algorithm.ECC_P256: 82.0}
TARGET_MS = {Algorithm.RSA_2048: 2.0, Algorithm.ECC_P256: 1.0}
FLOWS = (
    (Algorithm.RSA_2048, KeyRef.PIV_AUTHENTICATION),
    (Algorithm.ECC_P256, KeyRef.DIGITAL_SIGNATURE),
)
LABEL = {Algorithm.RSA_2048: "RSA-2048", Algorithm.ECC_P256: "P-256"}
MESSAGE = b"softcard benchmark"


@dataclass
class Flow:
    algorithm: Algorithm
    apdus: int
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _public_key(algorithm: Algorithm, template: bytes) -> PublicKey:
    fields = tlv.to_dict(template)
    if algorithm == Algorithm.RSA_2048:
        n, e = (int.from_bytes(fields[t], "big") for t in (Tag.RSA_MODULUS, Tag.RSA_EXPONENT))
        return rsa.RSAPublicNumbers(e, n).public_key()
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), fields[Tag.EC_POINT])


def _check(key: PublicKey, signature: bytes) -> None:
    """InvalidSignature (a benchmark failure) unless the card really signed MESSAGE."""
    digest = hashlib.sha256(MESSAGE).digest()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    else:
        key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def run(stack: PcscStack, slot: int, count: int) -> list[Flow]:
    from smartcard.System import readers

    reader = stack.reader(slot)
    cmd = [sys.executable, "-m", "softcard", "run", "--card", "piv"]
    with card_process([*cmd, "--vpcd", f"127.0.0.1:{reader.port}"], stack, slot):
        conn = next(r for r in readers() if str(r) == reader.name).createConnection()
        conn.connect()
        try:
            host = PivHost(pyscard_exchange(conn))
            return _sign_flows(host, _prepare(host), count)
        finally:
            conn.disconnect()
            conn.release()


def _sign_flows(host: PivHost, keys: dict[Algorithm, PublicKey], count: int) -> list[Flow]:
    flows = {alg: Flow(alg, 0, []) for alg, _ in FLOWS}
    warm_up = min(10, count)
    for i in range(count + warm_up):
        for alg, ref in FLOWS:  # interleaved: drift hits both flows alike
            before = host.apdus
            t = time.perf_counter()
            signature = host.sign_flow(ref, alg, MESSAGE)
            elapsed = (time.perf_counter() - t) * 1000
            if i == 0:
                _check(keys[alg], signature)
            if i >= warm_up:
                flows[alg].samples_ms.append(elapsed)
                flows[alg].apdus = host.apdus - before
    return list(flows.values())


def _prepare(host: PivHost) -> dict[Algorithm, PublicKey]:
    """Generate the flows' keys on the card; their public keys."""
    host.select()
    host.authenticate()
    return {alg: _public_key(alg, host.generate(ref, alg)) for alg, ref in FLOWS}


def in_process(count: int) -> list[Flow]:
    """The same flows with no I/O: what the card OS and its cryptography cost alone."""
    card = make_card("piv")
    card.power_on()
    host = PivHost(card_exchange(card.transmit))
    return _sign_flows(host, _prepare(host), count)


def section(stack: PcscStack, slot: int, count: int) -> Section:
    flows = run(stack, slot, count)
    embedded = {f.algorithm: f for f in in_process(count)}
    sec = Section(
        "PIV sign flow (SELECT + VERIFY + GENERAL AUTHENTICATE) over pyscard -> pcscd -> vpcd",
        [
            "key",
            "APDUs",
            "n",
            "median ms",
            "p95 ms",
            "in-process ms",
            "YubiKey 5 ms",
            "YubiKey / softcard",
        ],
    )
    for f in flows:
        yk = YUBIKEY_MS[f.algorithm]
        alone = embedded[f.algorithm].median
        sec.rows.append(
            [
                LABEL[f.algorithm],
                f.apdus,
                len(f.samples_ms),
                f.median,
                f.p95,
                alone,
                yk,
                yk / f.median,
            ]
        )
        sec.targets.append(
            Target(
                f"{LABEL[f.algorithm]} flow median",
                f.median,
                TARGET_MS[f.algorithm],
                higher_is_better=False,
                unit=" ms",
            )
        )
    sec.notes.append(
        "card: `softcard run --card piv`, keys generated on the card (9A RSA-2048, 9C P-256); "
        "RSA needs command chaining (2 blocks) and GET RESPONSE, as ykman sends it; "
        "YubiKey 5 figures: jsign's published PIV benchmark; in-process: the same flow "
        "sent to the card OS in this process (no I/O)"
    )
    return sec
