"""`softcard md ...`: the minidriver API from the command line (what `certutil -scinfo` shows).

Every subcommand opens the card in `--reader` (default: the first reader holding a card)
through driver.acquire_context, as the Base CSP would, and closes it at the end.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CliError

if TYPE_CHECKING:
    from driver.context import CardContext

HASHES = {"sha1": 0x8004, "sha256": 0x800C, "sha384": 0x800D, "sha512": 0x800E, "md5": 0x8003}
KEY_SPECS = {
    "keyexchange": 1,
    "signature": 2,
    "ecdsa-p256": 3,
    "ecdsa-p384": 4,
    "ecdsa-p521": 5,
    "ecdh-p256": 6,
    "ecdh-p384": 7,
    "ecdh-p521": 8,
}
RSA_SPECS = (1, 2)
KEY_SPEC_NAMES = {
    1: "AT_KEYEXCHANGE",
    2: "AT_SIGNATURE",
    3: "AT_ECDSA_P256",
    4: "AT_ECDSA_P384",
    5: "AT_ECDSA_P521",
    6: "AT_ECDHE_P256",
    7: "AT_ECDHE_P384",
    8: "AT_ECDHE_P521",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "md",
        help="use the card through the Windows minidriver API (info, files, PINs, keys)",
        description="The smart card minidriver API v7 over PC/SC: card info, files, PINs, "
        "key containers, signing, decryption and certificates.",
    )
    cmds = p.add_subparsers(dest="md_command", metavar="COMMAND", required=True)

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        c = cmds.add_parser(name, help=help_text, description=help_text)
        c.add_argument("--reader", help="PC/SC reader name (default: the first reader with a card)")
        c.set_defaults(func=func)
        return c

    command(
        "info", _info, "card GUID, serial, capabilities, key sizes, free space, PINs, containers"
    )
    c = command("ls", _ls, "list the files of a directory (the root when none is given)")
    c.add_argument("directory", nargs="?", help="directory name, e.g. mscp")
    c = command("cat", _cat, "print a file (hex unless --raw)")
    c.add_argument("directory", help="directory name, or / for the root")
    c.add_argument("file", help="file name, e.g. cmapfile")
    c.add_argument("--raw", action="store_true", help="write the bytes as they are")

    pin = cmds.add_parser("pin", help="verify, change or unblock the user PIN")
    pins = pin.add_subparsers(dest="pin_command", metavar="ACTION", required=True)

    def pin_command(
        name: str, func: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        c = pins.add_parser(name, help=help_text, description=help_text)
        c.add_argument("--reader", help="PC/SC reader name")
        c.set_defaults(func=func)
        return c

    c = pin_command("verify", _pin_verify, "present the user PIN (CardAuthenticatePin)")
    c.add_argument("--pin", help="the PIN (else $SOFTCARD_PIN, else a prompt)")
    c = pin_command("change", _pin_change, "change the user PIN (CardChangeAuthenticator)")
    c.add_argument("--pin", help="the current PIN")
    c.add_argument("--new-pin", help="the new PIN")
    c = pin_command(
        "unblock",
        _pin_unblock,
        "reset the user PIN with the admin key (GIDS) or the PUK (PIV) (CardUnblockPin)",
    )
    how = c.add_mutually_exclusive_group()
    how.add_argument(
        "--admin-key", help="the 24-byte 3DES admin key in hex (else $SOFTCARD_ADMIN_KEY)"
    )
    how.add_argument("--puk", help="the PUK, on cards that unblock with one (else $SOFTCARD_PUK)")
    c.add_argument("--new-pin", help="the new PIN")

    cont = cmds.add_parser("container", help="create, import or delete key containers")
    conts = cont.add_subparsers(dest="container_command", metavar="ACTION", required=True)
    for name, func, text in (
        ("create", _container_create, "generate a key on the card in a new container"),
        (
            "import",
            _container_import,
            "import a private key (PEM or DER file) into a new container",
        ),
        ("delete", _container_delete, "delete a container, its key and its certificates"),
    ):
        c = conts.add_parser(name, help=text, description=text)
        c.add_argument("--reader", help="PC/SC reader name")
        c.add_argument("--pin", help="the user PIN")
        c.set_defaults(func=func)
        if name != "delete":
            c.add_argument("--index", type=int, help="container index (default: first free)")
            c.add_argument(
                "--key-spec",
                choices=sorted(KEY_SPECS),
                help="key type (default: keyexchange for RSA, ecdsa-pNNN for an EC key file)",
            )
            c.add_argument("--name", help="container name (default: a new GUID)")
        else:
            c.add_argument("--index", type=int, required=True)
        if name == "create":
            c.add_argument("--bits", type=int, default=2048, help="RSA key size")
        if name == "import":
            c.add_argument("key", help="private key file")

    c = command("sign", _sign, "sign a file's hash with a container's key (CardSignData)")
    c.add_argument("--index", type=int, default=0)
    c.add_argument("--pin", help="the user PIN")
    c.add_argument("--hash", choices=sorted(HASHES), default="sha256")
    c.add_argument("--pss", action="store_true", help="RSA-PSS instead of PKCS#1 v1.5")
    c.add_argument("input", help="file to sign")
    c.add_argument(
        "--out", help="signature file (big-endian, as openssl writes it); default: hex on stdout"
    )
    c = command(
        "decrypt", _decrypt, "decrypt an RSA ciphertext with a container's key (CardRSADecrypt)"
    )
    c.add_argument("--index", type=int, default=0)
    c.add_argument("--pin", help="the user PIN")
    c.add_argument(
        "--oaep", choices=["sha1", "sha256", "sha384", "sha512"], help="OAEP with this hash"
    )
    c.add_argument("input", help="ciphertext file (big-endian, as openssl writes it)")
    c.add_argument("--out", help="plaintext file (default: stdout)")

    cert = cmds.add_parser("cert", help="store or read a container's certificate")
    certs = cert.add_subparsers(dest="cert_command", metavar="ACTION", required=True)
    c = certs.add_parser("put", help="store a certificate (compressed, as the Base CSP does)")
    c.add_argument("--reader", help="PC/SC reader name")
    c.add_argument("--pin", help="the user PIN")
    c.add_argument("--index", type=int, default=0)
    c.add_argument("certificate", help="certificate file (PEM or DER)")
    c.set_defaults(func=_cert_put)
    c = certs.add_parser("get", help="read a container's certificate (PEM on stdout)")
    c.add_argument("--reader", help="PC/SC reader name")
    c.add_argument("--index", type=int, default=0)
    c.add_argument("--out", help="write DER to this file instead")
    c.set_defaults(func=_cert_get)


# --- plumbing ---------------------------------------------------------------------------------


@contextmanager
def _card(args: argparse.Namespace) -> Iterator[CardContext]:
    from driver import MinidriverError, acquire_context

    try:
        reader = args.reader or _first_reader()
        args.reader = reader
        with acquire_context(reader=reader) as ctx:
            yield ctx
    except MinidriverError as e:
        raise CliError(_explain(e)) from None
    except (CliError, OSError, KeyboardInterrupt):
        raise
    except Exception as e:  # one line, never a traceback
        raise CliError(f"unexpected failure: {type(e).__name__}: {e}") from None


def _explain(e: object) -> str:
    from driver import MinidriverError

    assert isinstance(e, MinidriverError)
    detail = f" ({e.message})" if e.message != e.explanation else ""
    tries = ""
    if e.attempts_remaining is not None and e.attempts_remaining != 0xFFFFFFFF:
        tries = f"; {e.attempts_remaining} tries left"
    return f"{e.name}: {e.explanation}{detail}{tries}"


def _first_reader() -> str:
    from driver.errors import SCARD_E_NO_READERS_AVAILABLE

    try:
        from smartcard.System import readers

        for r in readers():
            try:
                conn = r.createConnection()
                conn.connect()
                conn.disconnect()
                return str(r)
            except Exception:
                continue
    except Exception as e:
        raise SCARD_E_NO_READERS_AVAILABLE(f"cannot list PC/SC readers: {e}") from None
    raise SCARD_E_NO_READERS_AVAILABLE("no reader holds a card")


def _secret(value: str | None, env: str, prompt: str) -> bytes:
    if value is None:
        value = os.environ.get(env)
    if value is None:
        if not sys.stdin.isatty():
            raise CliError(f"no {prompt.lower()} given (use the option or ${env})")
        value = getpass.getpass(f"{prompt}: ")
    return value.encode()


def _pin(args: argparse.Namespace) -> bytes:
    return _secret(getattr(args, "pin", None), "SOFTCARD_PIN", "PIN")


def _read_input(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise CliError(f"cannot read {path}: {e.strerror}") from None


def _write_output(path: str | None, data: bytes, text: str | None = None) -> None:
    if path:
        try:
            Path(path).write_bytes(data)
        except OSError as e:
            raise CliError(f"cannot write {path}: {e.strerror}") from None
    elif text is not None:
        print(text)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


# --- subcommands ------------------------------------------------------------------------------


def _info(args: argparse.Namespace) -> int:
    from driver.csp import Csp
    from driver.errors import MinidriverError
    from driver.structures import PIN_INFO
    from wire import minidriver as k

    with _card(args) as ctx:
        out = print
        out(f"Reader:        {args.reader}")
        out(f"Card module:   {ctx.card.name} (CARD_DATA v{ctx.version})")
        out(f"ATR:           {ctx.atr.hex(' ').upper()}")
        try:
            out(f"Card GUID:     {ctx.get_property(k.CP_CARD_GUID).hex()}")
            out(f"Serial number: {ctx.get_property(k.CP_CARD_SERIAL_NO).hex()}")
        except MinidriverError as e:
            out(f"Card GUID:     none ({e.name}: the card has no minidriver file system)")
        caps = ctx.query_capabilities()
        out(
            f"Capabilities:  key generation {'yes' if caps.key_gen else 'no'}, certificate "
            f"compression by the card {'yes' if caps.certificate_compression else 'no'}"
        )
        out("Key sizes:")
        for name, spec in (
            ("AT_KEYEXCHANGE", k.AT_KEYEXCHANGE),
            ("AT_SIGNATURE", k.AT_SIGNATURE),
            ("AT_ECDSA_P256", k.AT_ECDSA_P256),
            ("AT_ECDSA_P384", k.AT_ECDSA_P384),
            ("AT_ECDSA_P521", k.AT_ECDSA_P521),
            ("AT_ECDHE_P256", k.AT_ECDHE_P256),
        ):
            try:
                s = ctx.query_key_sizes(spec)
                out(
                    f"  {name:15} {s.minimum_bitlen}..{s.maximum_bitlen} "
                    f"step {s.incremental_bitlen}, default {s.default_bitlen}"
                )
            except MinidriverError as e:
                out(f"  {name:15} not supported ({e.name})")
        free = ctx.query_free_space()
        unknown = k.CARD_DATA_VALUE_UNKNOWN
        free_bytes = "unknown" if free.bytes_available == unknown else str(free.bytes_available)
        out(
            f"Free space:    {free_bytes} bytes, {free.key_containers_available} of "
            f"{free.max_key_containers} containers free"
        )
        pin_set = int.from_bytes(ctx.get_property(k.CP_CARD_LIST_PINS), "little")
        state = int.from_bytes(ctx.get_property(k.CP_CARD_AUTHENTICATED_STATE), "little")
        out("PINs:")
        for pin_id in range(k.MAX_PINS):
            if not k.IS_PIN_SET(pin_set, pin_id):
                continue
            info = PIN_INFO.from_bytes(ctx.get_property(k.CP_CARD_PIN_INFO, flags=pin_id))
            role = _pin_role(pin_id, info)
            tries = ctx.card.pin_tries_left(pin_id)
            out(
                f"  {pin_id} {role:6} {k.SECRET_TYPE(info.pin_type).name}, "
                f"{k.SECRET_PURPOSE(info.pin_purpose).name}"
                + (f", {tries} tries left" if tries is not None else "")
                + (", authenticated" if k.IS_PIN_SET(state, pin_id) else "")
            )
        containers = Csp(ctx).containers()
        out(f"Containers:    {len(containers)}")
        for cont in containers:
            flags = "default" if cont.record.default else ""
            spec_name = KEY_SPEC_NAMES.get(cont.key_spec or 0, "no key")
            size = cont.record.key_exchange_key_size_bits or cont.record.sig_key_size_bits
            out(f"  [{cont.index}] {cont.record.guid}  {spec_name} {size} bits {flags}".rstrip())
            if cont.key_spec is not None:
                try:
                    cert = Csp(ctx).get_certificate(cont.index, cont.key_spec)
                except (MinidriverError, ValueError) as e:
                    out(f"      certificate unreadable ({e})")
                    continue
                if cert is not None:
                    out(
                        f"      certificate: {cert.subject.rfc4514_string()} "
                        f"(issuer {cert.issuer.rfc4514_string()}, "
                        f"until {cert.not_valid_after_utc:%Y-%m-%d})"
                    )
    return 0


def _pin_role(pin_id: int, info: object) -> str:
    """user / admin by id; a card-specific PIN by its purpose (PIV's id 3 is its PUK)."""
    from driver.structures import PIN_INFO
    from wire import minidriver as k

    assert isinstance(info, PIN_INFO)
    if pin_id in (k.ROLE_USER, k.ROLE_ADMIN):
        return "user" if pin_id == k.ROLE_USER else "admin"
    if info.pin_purpose == k.SECRET_PURPOSE.UnblockOnlyPin:
        return "PUK"
    return f"PIN {pin_id}"


def _ls(args: argparse.Namespace) -> int:
    from driver.errors import SCARD_E_FILE_NOT_FOUND, MinidriverError

    with _card(args) as ctx:
        directory = None if args.directory in (None, "/") else args.directory
        try:
            names = ctx.enum_files(directory)
        except SCARD_E_FILE_NOT_FOUND:
            names = []
        if directory is None:
            for d in ctx.card.directories():
                print(f"{d + '/':12} (directory)")
        for name in names:
            try:
                info = ctx.get_file_info(directory, name)
                from wire.minidriver import CARD_FILE_ACCESS_CONDITION

                print(
                    f"{name:12} {info.file_size:6} bytes  "
                    f"{CARD_FILE_ACCESS_CONDITION(info.access_condition).name}"
                )
            except MinidriverError as e:
                print(f"{name:12} {'?':>6}        ({e.name})")
    return 0


def _cat(args: argparse.Namespace) -> int:

    with _card(args) as ctx:
        directory = None if args.directory in ("/", "") else args.directory
        data = ctx.read_file(directory, args.file)
    if args.raw:
        _write_output(None, data)
    else:
        for i in range(0, len(data), 16):
            print(f"{i:04x}  {data[i : i + 16].hex(' ')}")
    return 0


def _pin_verify(args: argparse.Namespace) -> int:

    pin = _pin(args)
    with _card(args) as ctx:
        ctx.authenticate_pin("user", pin)
    print("PIN verified")
    return 0


def _pin_change(args: argparse.Namespace) -> int:
    from wire.minidriver import CARD_AUTHENTICATE_PIN_PIN

    old = _pin(args)
    new = _secret(args.new_pin, "SOFTCARD_NEW_PIN", "New PIN")
    with _card(args) as ctx:
        ctx.change_authenticator("user", old, new, 0, CARD_AUTHENTICATE_PIN_PIN)
    print("PIN changed")
    return 0


def _pin_unblock(args: argparse.Namespace) -> int:
    from driver.csp import admin_response
    from wire.minidriver import CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE, CARD_AUTHENTICATE_PIN_PIN

    if args.puk is not None or (args.admin_key is None and "SOFTCARD_PUK" in os.environ):
        # PIV: the PUK unblocks (CardUnblockPin with the PIN as the authenticator).
        puk = _secret(args.puk, "SOFTCARD_PUK", "PUK")
        new = _secret(args.new_pin, "SOFTCARD_NEW_PIN", "New PIN")
        with _card(args) as ctx:
            ctx.unblock_pin("user", puk, new, 0, CARD_AUTHENTICATE_PIN_PIN)
        print("PIN unblocked")
        return 0
    raw_key = _secret(args.admin_key, "SOFTCARD_ADMIN_KEY", "Admin key (hex)")
    try:
        key = bytes.fromhex(raw_key.decode())
    except ValueError:
        raise CliError("the admin key must be hex (48 digits for 3-key 3DES)") from None
    new = _secret(args.new_pin, "SOFTCARD_NEW_PIN", "New PIN")
    with _card(args) as ctx:
        from driver import MinidriverError

        try:
            response = admin_response(key, ctx.get_challenge())
        except MinidriverError as e:
            raise CliError(_explain(e)) from None
        ctx.unblock_pin("user", response, new, 0, CARD_AUTHENTICATE_PIN_CHALLENGE_RESPONSE)
    print("PIN unblocked")
    return 0


def _container_create(args: argparse.Namespace) -> int:
    from driver.csp import Csp

    spec_name = args.key_spec or "keyexchange"
    spec = KEY_SPECS[spec_name]
    pin = _pin(args)
    with _card(args) as ctx:
        ctx.authenticate_pin("user", pin)
        index = Csp(ctx).enroll(spec, args.bits, args.name, index=args.index)
    size = f"{args.bits}-bit " if spec in RSA_SPECS else ""
    print(f"container {index}: {size}{spec_name} key generated on the card")
    return 0


def _container_import(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from driver import blobs
    from driver.csp import Csp

    raw = _read_input(args.key)
    try:
        key = (
            serialization.load_pem_private_key(raw, None)
            if raw.lstrip().startswith(b"-----")
            else serialization.load_der_private_key(raw, None)
        )
    except (ValueError, TypeError) as e:
        raise CliError(f"{args.key}: not an unencrypted private key ({e})") from None
    if isinstance(key, rsa.RSAPrivateKey):
        spec_name = args.key_spec or "keyexchange"
        if KEY_SPECS[spec_name] not in RSA_SPECS:
            raise CliError(f"{args.key}: an RSA key is keyexchange or signature, not {spec_name}")
        spec = KEY_SPECS[spec_name]
        blob = blobs.rsa_private_blob(key, 0x2400 if spec == 2 else 0xA400)
    elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size in (256, 384, 521):
        bits = key.curve.key_size
        spec_name = args.key_spec or f"ecdsa-p{bits}"
        if spec_name not in (f"ecdsa-p{bits}", f"ecdh-p{bits}"):
            raise CliError(f"{args.key}: a P-{bits} key is ecdsa-p{bits} or ecdh-p{bits}")
        spec = KEY_SPECS[spec_name]
        blob = blobs.ecc_private_blob(key, ecdsa=spec_name.startswith("ecdsa"))
    else:
        raise CliError(f"{args.key}: only RSA and NIST P-256/384/521 keys can be imported")
    pin = _pin(args)
    with _card(args) as ctx:
        ctx.authenticate_pin("user", pin)
        index = Csp(ctx).enroll(spec, key.key_size, args.name, key_blob=blob, index=args.index)
    print(f"container {index}: {key.key_size}-bit {spec_name} key imported")
    return 0


def _container_delete(args: argparse.Namespace) -> int:
    from driver.csp import Csp

    pin = _pin(args)
    with _card(args) as ctx:
        ctx.authenticate_pin("user", pin)
        Csp(ctx).delete(args.index)
    print(f"container {args.index} deleted")
    return 0


def _container_key_spec(ctx: CardContext, index: int) -> int:
    """The real key spec of the container's key (RSA, ECDSA or ECDH, with its curve)."""
    from driver.csp import Csp

    return Csp(ctx).container_key(index)[0]


def _sign(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from driver.structures import BCRYPT_PSS_PADDING_INFO, CARD_SIGNING_INFO
    from wire import minidriver as k

    digest = hashlib.new(args.hash, _read_input(args.input)).digest()
    pin = _pin(args)
    with _card(args) as ctx:
        spec = _container_key_spec(ctx, args.index)
        if spec not in RSA_SPECS and args.pss:
            raise CliError(f"container {args.index} holds an EC key: --pss is for RSA keys")
        ctx.authenticate_pin("user", pin)
        if spec not in RSA_SPECS:
            # ECDSA signs the hash itself; the card answers r || s, openssl writes DER.
            rs = ctx.sign_data(CARD_SIGNING_INFO(2, args.index, spec, 0, 0, digest)).signed_data
            half = len(rs or b"") // 2
            signature = encode_dss_signature(
                int.from_bytes((rs or b"")[:half], "big"), int.from_bytes((rs or b"")[half:], "big")
            )
            _write_output(args.out, signature, None if args.out else signature.hex())
            return 0
        if args.pss:
            name = {"sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}.get(
                args.hash
            )
            if name is None:
                raise CliError("PSS needs a SHA hash")
            info = CARD_SIGNING_INFO(
                2,
                args.index,
                spec,
                k.CARD_PADDING_INFO_PRESENT,
                0,
                digest,
                padding_info=BCRYPT_PSS_PADDING_INFO(name, len(digest)),
                padding_type=k.CARD_PADDING_PSS,
            )
        else:
            info = CARD_SIGNING_INFO(2, args.index, spec, 0, HASHES[args.hash], digest)
        signature = (ctx.sign_data(info).signed_data or b"")[::-1]
    _write_output(args.out, signature, None if args.out else signature.hex())
    return 0


def _decrypt(args: argparse.Namespace) -> int:
    from driver.structures import BCRYPT_OAEP_PADDING_INFO, CARD_RSA_DECRYPT_INFO
    from wire import minidriver as k

    ciphertext = _read_input(args.input)
    pin = _pin(args)
    with _card(args) as ctx:
        spec = _container_key_spec(ctx, args.index)
        if spec not in RSA_SPECS:
            raise CliError(f"container {args.index} holds an EC key: only RSA keys decrypt")
        ctx.authenticate_pin("user", pin)
        if args.oaep:
            padding = BCRYPT_OAEP_PADDING_INFO(args.oaep.upper(), None)
            info = CARD_RSA_DECRYPT_INFO(
                2, args.index, spec, ciphertext[::-1], padding, k.CARD_PADDING_OAEP
            )
        else:
            info = CARD_RSA_DECRYPT_INFO(
                2, args.index, spec, ciphertext[::-1], None, k.CARD_PADDING_PKCS1
            )
        plain = (ctx.rsa_decrypt(info).data or b"")[::-1]
    _write_output(args.out, plain)
    return 0


def _load_certificate(path: str) -> object:
    from cryptography import x509

    raw = _read_input(path)
    try:
        if raw.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError as e:
        raise CliError(f"{path}: not an X.509 certificate ({e})") from None


def _cert_put(args: argparse.Namespace) -> int:
    from cryptography import x509

    from driver.csp import Csp

    cert = _load_certificate(args.certificate)
    assert isinstance(cert, x509.Certificate)
    pin = _pin(args)
    with _card(args) as ctx:
        spec = _container_key_spec(ctx, args.index)
        ctx.authenticate_pin("user", pin)
        name = Csp(ctx).put_certificate(args.index, spec, cert)
    print(f"certificate stored in mscp/{name}")
    return 0


def _cert_get(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from driver.csp import Csp

    with _card(args) as ctx:
        spec = _container_key_spec(ctx, args.index)
        cert = Csp(ctx).get_certificate(args.index, spec)
    if cert is None:
        raise CliError(f"container {args.index} has no certificate")
    if args.out:
        _write_output(args.out, cert.public_bytes(Encoding.DER))
    else:
        sys.stdout.write(cert.public_bytes(Encoding.PEM).decode())
    return 0
