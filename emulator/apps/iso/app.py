"""The MF application: SELECT, READ/UPDATE BINARY, CREATE/DELETE FILE, PINs.

Security conditions (SCBs) on this card: 00 always, FF never, and 1n = the PIN
with reference 8n verified on this channel (b5 "user authentication" of ISO
7816-4 table 20, with the low nibble naming the PIN).
"""

from __future__ import annotations

from typing import Any

from wire import tlv
from wire.apdu import CommandApdu, ResponseApdu
from wire.iso7816 import SW, Ins

from ...core.application import Application, Result, Session, command
from ...core.errors import CardError
from ...core.filesystem import (
    CURRENT_DF_FID,
    DF,
    EF,
    FDB_DF,
    LCS_ACTIVATED,
    MF_FID,
    TAG_DF_NAME,
    TAG_FCI,
    TAG_FCP,
    TAG_FDB,
    TAG_FID,
    TAG_FILE_SIZE,
    TAG_SECURITY_COMPACT,
    TAG_SFI,
    Node,
    node_from_state,
    node_to_state,
)
from ...core.pin import Pin
from ...core.security import (
    DF_CREATE_DF,
    DF_CREATE_EF,
    DF_DELETE_CHILD,
    SCB_ALWAYS,
    AccessMode,
    CompactSecurityAttribute,
)

SCB_USER_AUTH = 0x10

# SELECT P1 (ISO 7816-4 table 39).
SELECT_BY_FID = 0x00
SELECT_CHILD_DF = 0x01
SELECT_EF_UNDER_CURRENT = 0x02
SELECT_PARENT = 0x03
SELECT_BY_NAME = 0x04
SELECT_PATH_FROM_MF = 0x08
SELECT_PATH_FROM_CURRENT = 0x09

# SELECT P2 b4-b3: what to answer.
P2_FCI = 0x00
P2_FCP = 0x04
P2_FMD = 0x08
P2_NONE = 0x0C

# VERIFY P1.
VERIFY_P1_CHECK = 0x00
VERIFY_P1_RESET_STATUS = 0xFF

# RESET RETRY COUNTER P1.
RRC_CODE_AND_NEW = 0x00
RRC_CODE_ONLY = 0x01

CHALLENGE_MAX = 256


def pin_scb(reference: int) -> int:
    return SCB_USER_AUTH | (reference & 0x0F)


class IsoSession(Session):
    def __init__(self, mf: DF) -> None:
        super().__init__()
        self.current_df: DF = mf
        self.current_ef: EF | None = None
        self.pins: set[int] = set()


class IsoFileSystem(Application):
    name = "iso"
    aid = b""

    def __init__(
        self,
        mf: DF | None = None,
        pins: dict[int, Pin] | None = None,
        unblockers: dict[int, int] | None = None,
    ) -> None:
        super().__init__()
        self.mf = mf or DF(MF_FID, CompactSecurityAttribute.build({}))
        self.pins = pins or {}
        # PIN reference -> reference of the resetting code (PUK) that unblocks it.
        self.unblockers = unblockers or {}

    def on_attach(self) -> None:
        for pin in self.pins.values():
            pin.commit = self.card.commit_now

    def new_session(self) -> IsoSession:
        return IsoSession(self.mf)

    # -- security -------------------------------------------------------------------------

    def _satisfied(self, session: IsoSession, scb: int) -> bool:
        if scb & 0xF0 == SCB_USER_AUTH:
            return (0x80 | (scb & 0x0F)) in session.pins
        return False

    def _require(self, session: IsoSession, node: Node, mode: int) -> None:
        scb = node.security.scb(mode)
        if scb == SCB_ALWAYS:  # the common case, without building a callback
            return
        node.security.evaluate(mode, lambda scb: self._satisfied(session, scb))

    # -- SELECT ---------------------------------------------------------------------------

    def select_unknown_name(self, session: Session, apdu: CommandApdu) -> Result:
        return self.select(session, apdu, reselected=True)

    @command(Ins.SELECT, chaining=False)
    def select(self, session: Session, apdu: CommandApdu, reselected: bool = False) -> Result:
        assert isinstance(session, IsoSession)
        p2 = apdu.p2
        if p2 & 0xF3:
            raise CardError(SW.INCORRECT_P1P2, "only first occurrence is supported")
        node = self._locate(session, apdu)
        if isinstance(node, DF):
            session.current_df, session.current_ef = node, None
        elif isinstance(node, EF):
            assert node.parent is not None
            session.current_df, session.current_ef = node.parent, node
        answer = p2 & 0x0C
        if answer == P2_NONE:
            return b""
        if answer == P2_FCP:
            return node.fcp()
        if answer == P2_FCI:
            return tlv.encode(TAG_FCI, tlv.parse_one(node.fcp(), TAG_FCP).value)
        raise CardError(SW.INCORRECT_P1P2, "no FMD on this card")

    def _locate(self, session: IsoSession, apdu: CommandApdu) -> Node:
        p1, data = apdu.p1, apdu.data
        if p1 == SELECT_BY_FID:
            if not data:
                return self.mf
            if len(data) != 2:
                raise CardError(SW.WRONG_LENGTH)
            fid = int.from_bytes(data, "big")
            if fid == MF_FID:
                return self.mf
            if fid == CURRENT_DF_FID:
                return session.current_df
            cur = session.current_df
            if fid in cur.children:
                return cur.children[fid]
            if cur.parent is not None and (cur.parent.fid == fid or fid in cur.parent.children):
                return cur.parent if cur.parent.fid == fid else cur.parent.children[fid]
            raise CardError(SW.FILE_NOT_FOUND)
        if p1 in (SELECT_CHILD_DF, SELECT_EF_UNDER_CURRENT):
            if len(data) != 2:
                raise CardError(SW.WRONG_LENGTH)
            node = session.current_df.child(int.from_bytes(data, "big"))
            if isinstance(node, DF) != (p1 == SELECT_CHILD_DF):
                raise CardError(SW.FILE_NOT_FOUND)
            return node
        if p1 == SELECT_PARENT:
            return session.current_df.parent or session.current_df
        if p1 == SELECT_BY_NAME:
            found = self.mf.find_name(data) if data else None
            if found is None:
                raise CardError(SW.FILE_NOT_FOUND)
            return found
        if p1 == SELECT_PATH_FROM_MF:
            if data[:2] == MF_FID.to_bytes(2, "big"):
                data = data[2:]
            return self.mf.resolve_path(data) if data else self.mf
        if p1 == SELECT_PATH_FROM_CURRENT:
            return session.current_df.resolve_path(data)
        raise CardError(SW.INCORRECT_P1P2)

    # -- binary files ---------------------------------------------------------------------

    def _target_ef(self, session: IsoSession, apdu: CommandApdu) -> tuple[EF, int]:
        """The EF and offset of READ/UPDATE BINARY (current EF, or by SFI)."""
        if apdu.p1 & 0x80:
            if apdu.p1 & 0x60:
                raise CardError(SW.INCORRECT_P1P2)
            ef = session.current_df.ef_by_sfi(apdu.p1 & 0x1F)
            session.current_ef = ef
            return ef, apdu.p2
        if session.current_ef is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
        return session.current_ef, (apdu.p1 << 8) | apdu.p2

    @command(Ins.READ_BINARY, chaining=False)
    def read_binary(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        ef, offset = self._target_ef(session, apdu)
        self._require(session, ef, AccessMode.READ)
        if offset > len(ef.data):
            raise CardError(SW.WRONG_P1P2, "offset beyond the end of the file")
        # Le absent: everything to the end of file, handed out by the core with 61xx.
        wanted = apdu.ne if apdu.ne is not None else len(ef.data)
        chunk = bytes(ef.data[offset : offset + wanted])
        if apdu.ne is not None and len(chunk) < apdu.ne and apdu.ne not in (256, 65536):
            return ResponseApdu(chunk, SW.END_OF_FILE)
        return chunk

    @command(Ins.UPDATE_BINARY)
    def update_binary(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        ef, offset = self._target_ef(session, apdu)
        self._require(session, ef, AccessMode.UPDATE)
        end = offset + len(apdu.data)
        if not apdu.data:
            raise CardError(SW.WRONG_LENGTH)
        if end > ef.max_size:
            raise CardError(SW.NOT_ENOUGH_MEMORY, "write beyond the file size")
        if end > len(ef.data):
            ef.data.extend(b"\x00" * (end - len(ef.data)))
        ef.data[offset:end] = apdu.data
        self.changed()
        return b""

    # -- file management ------------------------------------------------------------------

    @command(Ins.CREATE_FILE)
    def create_file(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        fcp = tlv.to_dict(tlv.parse_one(apdu.data, TAG_FCP).value)
        fdb, fid = fcp.get(TAG_FDB), fcp.get(TAG_FID)
        if not fdb or fid is None or len(fid) != 2:
            raise CardError(SW.WRONG_DATA, "FCP needs a descriptor byte and a FID")
        security = CompactSecurityAttribute.parse(fcp.get(TAG_SECURITY_COMPACT, bytes((0x00,))))
        parent = session.current_df
        is_df = fdb[0] == FDB_DF
        self._require(session, parent, DF_CREATE_DF if is_df else DF_CREATE_EF)
        fid_int = int.from_bytes(fid, "big")
        node: Node
        if is_df:
            node = DF(fid_int, security, LCS_ACTIVATED, name=fcp.get(TAG_DF_NAME))
        elif fdb[0] == 0x01:
            size = int.from_bytes(fcp.get(TAG_FILE_SIZE, b"\x00"), "big")
            sfi = fcp.get(TAG_SFI)
            node = EF(
                fid_int, security, LCS_ACTIVATED, max_size=size, sfi=(sfi[0] >> 3) if sfi else None
            )
        else:
            raise CardError(SW.FUNC_NOT_SUPPORTED, "only DFs and transparent EFs")
        parent.add(node)
        if isinstance(node, DF):
            session.current_df, session.current_ef = node, None
        else:
            session.current_ef = node
        self.changed()
        return b""

    @command(Ins.DELETE_FILE)
    def delete_file(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        node: Node
        if apdu.data:
            if len(apdu.data) != 2:
                raise CardError(SW.WRONG_LENGTH)
            node = session.current_df.child(int.from_bytes(apdu.data, "big"))
        else:
            node = session.current_ef or session.current_df
        parent = node.parent
        if parent is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "the MF cannot be deleted")
        self._require(session, node, AccessMode.DELETE)
        self._require(session, parent, DF_DELETE_CHILD)
        del parent.children[node.fid]
        session.current_df, session.current_ef = parent, None
        self.changed()
        return b""

    # -- PINs -----------------------------------------------------------------------------

    def _pin(self, p2: int) -> Pin:
        pin = self.pins.get(p2)
        if pin is None:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        return pin

    @command(Ins.VERIFY, chaining=False)
    def verify(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        pin = self._pin(apdu.p2)
        if apdu.p1 == VERIFY_P1_RESET_STATUS:
            if apdu.data:
                raise CardError(SW.WRONG_LENGTH)
            session.pins.discard(apdu.p2)
            return b""
        if apdu.p1 != VERIFY_P1_CHECK:
            raise CardError(SW.INCORRECT_P1P2)
        if not apdu.data:
            if apdu.p2 in session.pins:
                return b""
            raise CardError(pin.status())
        session.pins.discard(apdu.p2)
        pin.verify(apdu.data)
        self.changed()
        session.pins.add(apdu.p2)
        return b""

    @command(Ins.CHANGE_REFERENCE_DATA, chaining=False)
    def change_reference_data(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        pin = self._pin(apdu.p2)
        if apdu.p1 != 0x00:
            raise CardError(SW.INCORRECT_P1P2)
        # The data is old || new; the current length tells where the old value ends.
        old_len = len(pin.value)
        if len(apdu.data) <= old_len:
            raise CardError(SW.WRONG_LENGTH)
        pin.change(apdu.data[:old_len], apdu.data[old_len:])
        self.changed()
        session.pins.add(apdu.p2)
        return b""

    @command(Ins.RESET_RETRY_COUNTER, chaining=False)
    def reset_retry_counter(self, session: Session, apdu: CommandApdu) -> Result:
        assert isinstance(session, IsoSession)
        pin = self._pin(apdu.p2)
        puk_ref = self.unblockers.get(apdu.p2)
        if puk_ref is None:
            raise CardError(SW.CONDITIONS_NOT_SATISFIED, "this PIN has no resetting code")
        puk = self._pin(puk_ref)
        if apdu.p1 == RRC_CODE_AND_NEW:
            code_len = len(puk.value)
            code, new = apdu.data[:code_len], apdu.data[code_len:]
            pin.check_length(new)
            puk.verify(code)
            pin.unblock(new)
        elif apdu.p1 == RRC_CODE_ONLY:
            puk.verify(apdu.data)
            pin.unblock(pin.value)
        else:
            raise CardError(SW.INCORRECT_P1P2)
        self.changed()
        return b""

    @command(Ins.GET_CHALLENGE, chaining=False)
    def get_challenge(self, session: Session, apdu: CommandApdu) -> Result:
        if apdu.p1 or apdu.p2:
            raise CardError(SW.INCORRECT_P1P2)
        if apdu.data:
            raise CardError(SW.WRONG_LENGTH)
        n = apdu.ne or 8
        return self.card.rng.token_bytes(min(n, CHALLENGE_MAX))

    # -- persistence ----------------------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        return {
            "mf": node_to_state(self.mf),
            "pins": {f"{ref:02X}": pin.to_state() for ref, pin in self.pins.items()},
            "unblockers": {f"{k:02X}": f"{v:02X}" for k, v in self.unblockers.items()},
        }

    def import_state(self, state: dict[str, Any]) -> None:
        mf = node_from_state(state["mf"])
        if not isinstance(mf, DF):
            raise ValueError("the MF must be a DF")
        self.mf = mf
        self.pins = {int(k, 16): Pin.from_state(v) for k, v in state["pins"].items()}
        self.unblockers = {int(k, 16): int(v, 16) for k, v in state["unblockers"].items()}
        if self._card is not None:
            self.on_attach()
