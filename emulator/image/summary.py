"""`softcard image show`: a card image for people, with no secret in it.

Kind-independent: the lines come from shapes in the state, whichever
application holds them. A dict with value/tries/max_tries is a PIN (its value is
never shown), one with `pkcs8` a private key (algorithm and public-key
fingerprint), one with type DF/EF and fid a file tree; a hex value that is or
holds an X.509 certificate is shown by subject; any other hex value by size only
(it may be a secret: a management key, a PIN).
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_private_key,
)

from wire import tlv

from ..core.errors import CardError
from .cards import is_pin
from .format import VERSION, CardImage

CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
# Minidriver convention for a compressed certificate: 01 00, length (LE16), zlib data.
COMPRESSED_CERT_HEADER = b"\x01\x00"
LABEL_WIDTH = 28
# Hex values this short are references and flags, not secrets: shown as they are.
SHOWN_HEX_BYTES = 2


def summarise(image: CardImage, path: str | None = None) -> list[str]:
    version = f"format version {image.source_version}"
    if image.source_version != VERSION:
        version += f", read as version {VERSION}"
    lines = [f"card image {path} ({version})" if path else f"card image ({version})"]
    lines.append(f"  kind         {image.kind}")
    if image.description:
        lines.append(f"  description  {image.description}")
    lines.append(f"  ATR          {image.atr.hex(' ').upper()}")
    for name, value in sorted(image.identity.items()):
        lines.append(f"  {name:<12} {value}")
    seed = f"{image.seed} (deterministic)" if image.seed is not None else "none (OS randomness)"
    lines.append(f"  seed         {seed}")
    for app, state in image.state.items():
        lines.append(f"application {app}")
        lines += [f"  {line}" for line in _describe(state, "")]
    return lines


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _row(what: str, where: str, text: str) -> str:
    return f"{what:<5} {where:<{LABEL_WIDTH}} {text}".rstrip()


def _describe(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        if is_pin(value):
            return [_row("PIN", path, _pin(value))]
        if "pkcs8" in value:
            return [_row("key", path, _key(value["pkcs8"]))]
        if value.get("type") in ("DF", "EF") and "fid" in value:
            return _files(value, "")
        out: list[str] = []
        for key, child in value.items():
            out += _describe(child, _join(path, str(key)))
        return out
    if isinstance(value, list):
        out = []
        for i, child in enumerate(value):
            out += _describe(child, f"{path}[{i}]")
        return out
    if isinstance(value, str) and _is_hex(value):
        data = bytes.fromhex(value)
        cert = find_certificate(data)
        if cert is not None:
            return [_row("cert", path, _certificate(cert))]
        if len(data) <= SHOWN_HEX_BYTES:
            return [_row("hex", path, data.hex().upper())]
        return [_row("data", path, f"{len(data)} bytes")]
    return [_row("value", path, repr(value) if isinstance(value, str) else str(value))]


def _is_hex(text: str) -> bool:
    return (
        len(text) >= 2 and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)
    )


def _pin(pin: dict[str, Any]) -> str:
    tries, most = pin.get("tries"), pin.get("max_tries")
    if isinstance(tries, int) and tries <= 0:
        return f"BLOCKED (0 of {most} tries)"
    return f"{tries} of {most} tries left"


def _key(pkcs8: Any) -> str:
    try:
        key = load_der_private_key(bytes.fromhex(pkcs8), None)
    except (ValueError, TypeError):
        return "unreadable private key"
    public = key.public_key()
    spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return f"{algorithm_name(key)}, SHA-256 {hashlib.sha256(spki).hexdigest()}"


def algorithm_name(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"ECC {CURVES.get(key.curve.name, key.curve.name)}"
    names = {
        ed25519.Ed25519PrivateKey: "Ed25519",
        ed25519.Ed25519PublicKey: "Ed25519",
        x25519.X25519PrivateKey: "X25519",
        x25519.X25519PublicKey: "X25519",
        ed448.Ed448PrivateKey: "Ed448",
        ed448.Ed448PublicKey: "Ed448",
        x448.X448PrivateKey: "X448",
        x448.X448PublicKey: "X448",
    }
    for cls, name in names.items():
        if isinstance(key, cls):
            return name
    return type(key).__name__


def find_certificate(data: bytes) -> x509.Certificate | None:
    """A certificate that is `data`, or a TLV value in it, or its compressed form."""
    candidates = [data]
    if data[:2] == COMPRESSED_CERT_HEADER and len(data) > 4:
        with contextlib.suppress(zlib.error):
            candidates.append(zlib.decompress(data[4:]))
    with contextlib.suppress(CardError, ValueError, IndexError):
        candidates += [item.value for item in tlv.parse(data)]
    for candidate in candidates:
        if candidate[:1] != b"\x30":
            continue
        try:
            return x509.load_der_x509_certificate(candidate)
        except ValueError:
            continue
    return None


def _certificate(cert: x509.Certificate) -> str:
    subject = cert.subject.rfc4514_string() or "(empty subject)"
    key = algorithm_name(cert.public_key())
    return f"{subject}, {key}, valid until {cert.not_valid_after_utc:%Y-%m-%d}"


def _files(node: dict[str, Any], parent: str) -> list[str]:
    where = f"{parent}/{node.get('fid')}" if parent else str(node.get("fid"))
    if node.get("type") == "DF":
        name = f", name {node['name'].upper()}" if node.get("name") else ""
        lines = [_row("file", where, f"DF{name}, LCS {node.get('lcs')}")]
        for child in node.get("children", []):
            if isinstance(child, dict):
                lines += _files(child, where)
        return lines
    data = node.get("data", "")
    size = len(data) // 2 if isinstance(data, str) else "?"
    sfi = f", SFI {node['sfi']}" if node.get("sfi") is not None else ""
    return [
        _row(
            "file", where, f"EF, {size} of {node.get('max_size')} bytes{sfi}, LCS {node.get('lcs')}"
        )
    ]
