"""What the Base CSP / KSP do on top of a minidriver, for the CLI, the demo and the tests.

Windows keeps the container map (`mscp/cmapfile`), compresses certificates into `kxcNN`/`kscNN`,
computes admin responses and picks container indexes; the minidriver only stores. This module is
that caller side: the same byte formats and the same call sequences (minidriver.md 5.6, 5.7).
"""

from __future__ import annotations

import contextlib
import struct
import uuid
import zlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import Encoding

from wire.minidriver import containers as cm
from wire.minidriver import files as f
from wire.minidriver import keyspecs as ks

from .blobs import PublicKey, key_bits, parse_container_public_blob
from .context import CardContext
from .errors import (
    SCARD_E_FILE_NOT_FOUND,
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    MinidriverError,
)
from .structures import CONTAINER_MAP_RECORD, build_cmapfile, parse_cmapfile

COMPRESSED_CERT_VERSION = 0x0001
COMPRESSED_HEADER = struct.Struct("<HH")


def compress_certificate(der: bytes) -> bytes:
    """01 00 | uncompressed length (LE16) | zlib stream: what the CSP writes when the card does
    not compress certificates itself."""
    if len(der) > 0xFFFF:
        raise SCARD_E_INVALID_PARAMETER("certificate too large to compress")
    return COMPRESSED_HEADER.pack(COMPRESSED_CERT_VERSION, len(der)) + zlib.compress(der, 9)


def decompress_certificate(data: bytes) -> bytes:
    """Either form: raw DER (30 82 ...) or the compressed one."""
    if data[:1] == b"\x30":
        return data
    if len(data) < 4:
        raise SCARD_E_INVALID_PARAMETER("certificate file too short")
    version, length = COMPRESSED_HEADER.unpack_from(data)
    if version != COMPRESSED_CERT_VERSION:
        raise SCARD_E_INVALID_PARAMETER(f"unknown certificate compression {version}")
    der = zlib.decompress(data[4:])
    if len(der) != length:
        raise SCARD_E_INVALID_PARAMETER("certificate length does not match its header")
    return der


def admin_response(key: bytes, challenge: bytes) -> bytes:
    """The admin's response: 3DES-EDE3 of the challenge, CBC with a zero IV (minidriver.md 6.2)."""
    if len(key) != 24:
        raise SCARD_E_INVALID_PARAMETER("the admin key is 24 bytes (3-key triple DES)")
    enc = Cipher(TripleDES(key), modes.CBC(b"\0" * 8)).encryptor()
    return enc.update(challenge) + enc.finalize()


def certificate_file(index: int, key_spec: int) -> str:
    prefix = (
        f.szUSER_SIGNATURE_CERT_PREFIX
        if key_spec in ks.SIGNATURE_SLOT_KEY_SPECS
        else f.szUSER_KEYEXCHANGE_CERT_PREFIX
    )
    return f"{prefix}{index:02x}"


@dataclass
class Container:
    index: int
    record: CONTAINER_MAP_RECORD
    key_spec: int | None
    public_key: PublicKey | None


class Csp:
    """The caller's half of the contract, over one CardContext."""

    def __init__(self, ctx: CardContext) -> None:
        self.ctx = ctx

    def read_cmapfile(self) -> list[CONTAINER_MAP_RECORD]:
        try:
            return parse_cmapfile(self.ctx.read_file(f.szBASE_CSP_DIR, f.szCONTAINER_MAP_FILE))
        except SCARD_E_FILE_NOT_FOUND:
            return []

    def write_cmapfile(self, records: list[CONTAINER_MAP_RECORD]) -> None:
        self.ctx.write_file(f.szBASE_CSP_DIR, f.szCONTAINER_MAP_FILE, 0, build_cmapfile(records))

    def containers(self) -> list[Container]:
        """The valid cmapfile records with the key each container holds."""
        out = []
        for i, rec in enumerate(self.read_cmapfile()):
            if not rec.valid:
                continue
            try:
                spec, public = self.container_key(i)
            except MinidriverError:
                out.append(Container(i, rec, None, None))
                continue
            out.append(Container(i, rec, spec, public))
        return out

    def container_key(self, index: int) -> tuple[int, PublicKey]:
        """The key spec and public key of a container's key, as the CSP learns them from
        CardGetContainerInfo: the blob's slot (key exchange or signature) and its magic (RSA,
        ECDSA or ECDH, and the curve). The key-exchange key first when there are both."""
        info = self.ctx.get_container_info(index)
        if info.key_ex_public_key:
            public = parse_container_public_blob(info.key_ex_public_key)
            return _spec_of(public, keyexchange=True), public
        if info.sig_public_key:
            public = parse_container_public_blob(info.sig_public_key)
            return _spec_of(public, keyexchange=False), public
        raise SCARD_E_NO_KEY_CONTAINER(f"container {index} holds no key")

    def enroll(
        self,
        key_spec: int = ks.AT_KEYEXCHANGE,
        bits: int = 2048,
        name: str | None = None,
        key_blob: bytes | None = None,
        index: int | None = None,
    ) -> int:
        """Create a key container as the Base CSP does: reserve a cmapfile record (first free
        one, else append), mark it default when the card has no default, create the key,
        then record its size."""
        records = self.read_cmapfile()
        if index is None:
            index = next((i for i, r in enumerate(records) if not r.valid), len(records))
        while len(records) <= index:
            records.append(CONTAINER_MAP_RECORD())
        flags = cm.CONTAINER_MAP_VALID_CONTAINER
        if not any(r.default for i, r in enumerate(records) if i != index and r.valid):
            flags |= cm.CONTAINER_MAP_DEFAULT_CONTAINER
        records[index] = CONTAINER_MAP_RECORD(name or f"{{{uuid.uuid4()}}}".lower(), flags)
        self.write_cmapfile(records)
        if key_blob is None:
            size = bits if key_spec in ks.RSA_KEY_SPECS else 0
            self.ctx.create_container(index, cm.CARD_CREATE_CONTAINER_KEY_GEN, key_spec, size, None)
        else:
            self.ctx.create_container(
                index, cm.CARD_CREATE_CONTAINER_KEY_IMPORT, key_spec, 0, key_blob
            )
        info = self.ctx.get_container_info(index)
        blob = (
            info.sig_public_key
            if key_spec in ks.SIGNATURE_SLOT_KEY_SPECS
            else info.key_ex_public_key
        )
        assert blob is not None
        size = key_bits(parse_container_public_blob(blob))
        if key_spec in ks.SIGNATURE_SLOT_KEY_SPECS:
            records[index].sig_key_size_bits = size
        else:
            records[index].key_exchange_key_size_bits = size
        self.write_cmapfile(records)
        return index

    def delete(self, index: int) -> None:
        """Delete a container, its certificates and its cmapfile record (zeroed, kept)."""
        for spec in (ks.AT_KEYEXCHANGE, ks.AT_SIGNATURE):
            with contextlib.suppress(SCARD_E_FILE_NOT_FOUND):
                self.ctx.delete_file(f.szBASE_CSP_DIR, certificate_file(index, spec))
        self.ctx.delete_container(index)
        records = self.read_cmapfile()
        if index < len(records):
            records[index] = CONTAINER_MAP_RECORD()
            self.write_cmapfile(records)

    def put_certificate(
        self, index: int, key_spec: int, certificate: x509.Certificate | bytes
    ) -> str:
        der = (
            certificate
            if isinstance(certificate, bytes)
            else certificate.public_bytes(Encoding.DER)
        )
        name = certificate_file(index, key_spec)
        data = (
            der
            if self.ctx.query_capabilities().certificate_compression
            else compress_certificate(der)
        )
        if name not in self._mscp_files():
            self.ctx.create_file(f.szBASE_CSP_DIR, name, 0, f.EveryoneReadUserWriteAc)
        self.ctx.write_file(f.szBASE_CSP_DIR, name, 0, data)
        return name

    def get_certificate(self, index: int, key_spec: int) -> x509.Certificate | None:
        try:
            data = self.ctx.read_file(f.szBASE_CSP_DIR, certificate_file(index, key_spec))
        except SCARD_E_FILE_NOT_FOUND:
            return None
        if not data:
            return None
        return x509.load_der_x509_certificate(decompress_certificate(data))

    def authenticate_admin(self, key: bytes) -> None:
        self.ctx.authenticate_challenge(admin_response(key, self.ctx.get_challenge()))

    def _mscp_files(self) -> list[str]:
        try:
            return self.ctx.enum_files(f.szBASE_CSP_DIR)
        except SCARD_E_FILE_NOT_FOUND:
            return []


def _spec_of(public: PublicKey, keyexchange: bool) -> int:
    if isinstance(public, ec.EllipticCurvePublicKey):
        bits = public.curve.key_size
        table = (
            {256: ks.AT_ECDHE_P256, 384: ks.AT_ECDHE_P384, 521: ks.AT_ECDHE_P521}
            if keyexchange
            else {256: ks.AT_ECDSA_P256, 384: ks.AT_ECDSA_P384, 521: ks.AT_ECDSA_P521}
        )
        return table[bits]
    return ks.AT_KEYEXCHANGE if keyexchange else ks.AT_SIGNATURE
