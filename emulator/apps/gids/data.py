"""File commands: SELECT by FID, CREATE/ACTIVATE/DELETE FILE, TERMINATE DF, GET/PUT DATA."""

from __future__ import annotations

from wire import tlv
from wire.apdu import CommandApdu
from wire.gids import (
    CARD_ID_VENDOR,
    EF_ATR_CONTENT,
    PARTIAL_DO_THRESHOLD,
    SELECT_P2_OCCURRENCE_MASK,
    SELECT_P2_RESPONSE_MASK,
    AccessMode,
    Ef,
    Fid,
    Ins,
    LifeCycle,
    SelectP1,
    SelectP2,
    Tag,
)
from wire.iso7816 import SW

from ...core.application import Result, Session, command
from ...core.errors import CardError
from . import crypto, pins
from .base import GidsBase
from .filesystem import DoFile, file_from_fcp
from .session import GidsSession

_APPLICATION_FIDS = (Fid.APPLICATION_DF, Fid.CURRENT_APPLICATION)
# GET DATA 5C 00 and 5C 01 5C both read the whole EF (GidsApplet has no tag-list reply).
_WHOLE_EF = (b"", bytes((Tag.TAG_LIST,)))


def _session(session: Session) -> GidsSession:
    assert isinstance(session, GidsSession)
    return session


def _require_p1p2_zero(apdu: CommandApdu) -> None:
    if apdu.p1 or apdu.p2:
        raise CardError(SW.INCORRECT_P1P2)


class DataCommands(GidsBase):
    # -- SELECT by FID (SELECT by DF name is routed by the core to `select`) ----------------

    @command(Ins.SELECT, chaining=False)
    def select_file(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.p1 != SelectP1.BY_FID or apdu.p2 & SELECT_P2_OCCURRENCE_MASK:
            raise CardError(SW.INCORRECT_P1P2)
        if not apdu.data or int.from_bytes(apdu.data, "big") in _APPLICATION_FIDS:
            if apdu.data and len(apdu.data) != 2:
                raise CardError(SW.WRONG_LENGTH)
            s.current_ef = None
            return self.application_template(apdu.p2)
        if len(apdu.data) != 2:
            raise CardError(SW.WRONG_LENGTH)
        target = self.files.get(int.from_bytes(apdu.data, "big"))
        if target is None:
            raise CardError(SW.FILE_NOT_FOUND)
        answer = apdu.p2 & SELECT_P2_RESPONSE_MASK
        if answer in (SelectP2.FCI, SelectP2.FMD):
            raise CardError(SW.INCORRECT_P1P2, "EFs have no FCI or FMD")
        s.current_ef = target.fid
        return target.fcp if answer == SelectP2.FCP else b""

    # -- file life cycle ------------------------------------------------------------------

    @command(Ins.CREATE_FILE, chaining=False)
    def create_file(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        _require_p1p2_zero(apdu)
        self.check_application(s, AccessMode.CREATE_EF)
        new = file_from_fcp(apdu.data)
        self.files.add(new)
        s.current_ef = new.fid
        self.changed()
        return b""

    @command(Ins.ACTIVATE_FILE, chaining=False)
    def activate_file(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        _require_p1p2_zero(apdu)
        target = self.files.get(s.current_ef) if s.current_ef is not None else None
        if target is None:
            self.check_application(s, AccessMode.ACTIVATE)
            if self.life_cycle != LifeCycle.OPERATIONAL:
                # End of initialization: access rules apply from now on.
                self.life_cycle = LifeCycle.OPERATIONAL
                s.log_out()
                self.changed()
            return b""
        if target.state != LifeCycle.OPERATIONAL:
            target.state = LifeCycle.OPERATIONAL
            self.changed()
        return b""

    @command(Ins.DELETE_FILE, chaining=False)
    def delete_file(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        if apdu.data:
            raise CardError(SW.WRONG_LENGTH)
        _require_p1p2_zero(apdu)
        target = self.files.get(s.current_ef) if s.current_ef is not None else None
        if target is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF, "the application cannot be deleted")
        # Only the file's own DELETE bit counts; the standard FCPs leave it out (allowed).
        self.check_file(s, target, AccessMode.DELETE_SELF)
        self.files.remove(target.fid)
        s.current_ef = None
        if s.environment is not None and (s.environment.key_ref | 0xB000) == target.fid:
            s.environment = None
        self.changed()
        return b""

    @command(Ins.TERMINATE_DF, chaining=False)
    def terminate_df(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        _require_p1p2_zero(apdu)
        self.check_application(s, AccessMode.TERMINATE)
        self.life_cycle = LifeCycle.TERMINATED
        s.log_out()
        self.changed()
        return b""

    # -- GET DATA / PUT DATA --------------------------------------------------------------

    @command(Ins.GET_DATA, chaining=False)
    def get_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        fid = (apdu.p1 << 8) | apdu.p2
        if fid == Fid.CURRENT_APPLICATION:
            return self._get_application_data(s, apdu.data)
        if fid == Fid.EF_ATR:
            if apdu.data != bytes((Tag.TAG_LIST, 0)):
                raise CardError(SW.DATA_INVALID)
            return EF_ATR_CONTENT
        target = self._data_file(s, fid)
        self.check_file(s, target, AccessMode.GET_DATA)
        s.current_ef = target.fid
        request = crypto.tag_list(apdu.data)
        if request in _WHOLE_EF:
            return target.everything()
        found = target.encoded(int.from_bytes(request, "big"))
        if found is None:
            raise CardError(SW.REFERENCE_NOT_FOUND)
        return found

    def _get_application_data(self, s: GidsSession, data: bytes) -> Result:
        """3FFF serves only GET PUBLIC KEY and the PIN status DOs (gids.md 2.9)."""
        if len(data) == 10 and data[0] == Tag.KEY_USAGE_TEMPLATE:
            return crypto.get_public_key(self, s, data)
        if len(data) == 4 and data[:2] == bytes((Tag.TAG_LIST, 2)):
            return pins.pin_status(self, int.from_bytes(data[2:], "big"))
        raise CardError(SW.DATA_INVALID)

    def _data_file(self, s: GidsSession, fid: int) -> DoFile:
        if fid == Fid.CURRENT_EF:
            if s.current_ef is None:
                raise CardError(SW.COMMAND_NOT_ALLOWED_NO_EF)
            fid = s.current_ef
        if fid in (Fid.EF_DIR, Fid.APPLICATION_DF):
            raise CardError(SW.FILE_NOT_FOUND)
        return self.files.do_file(fid)

    @command(Ins.PUT_DATA)
    def put_data(self, session: Session, apdu: CommandApdu) -> Result:
        s = _session(session)
        fid = (apdu.p1 << 8) | apdu.p2
        if fid == Fid.CURRENT_APPLICATION:
            crypto.put_key(self, s, apdu.data)
            return b""
        if fid == Fid.INVALID:
            raise CardError(SW.INCORRECT_P1P2)
        target = self._data_file(s, fid)
        self.check_file(s, target, AccessMode.PUT_DATA)
        s.current_ef = target.fid
        tag, value = _one_do(apdu.data)
        target.put(tag, value)
        self.changed()
        return b""

    # -- Windows Plug-and-Play identity ---------------------------------------------------

    @command(Ins.GET_DATA_EVEN, chaining=False)
    def get_card_id(self, session: Session, apdu: CommandApdu) -> Result:
        """GET DATA 7F68: the smart-card framework CardID, first GUID = this card's cardid."""
        if (apdu.p1 << 8) | apdu.p2 != Tag.CARD_ID:
            raise CardError(SW.INS_NOT_SUPPORTED)
        cardid = self.cardid()
        if cardid is None:
            raise CardError(SW.REFERENCE_NOT_FOUND, "the card has no cardid yet")
        guids = tlv.encode(0x30, tlv.encode(0x04, cardid))
        body = tlv.encode(0x02, b"\x00") + tlv.encode(0x16, CARD_ID_VENDOR) + guids
        return tlv.encode(0x30, body)

    def cardid(self) -> bytes | None:
        found = self.files.get(Ef.EVERYONE_READ_ADMIN_WRITE)
        if not isinstance(found, DoFile):
            return None
        value = found.get(Tag.CARDID)
        return value if value and len(value) == 16 else None


def _one_do(data: bytes) -> tuple[int, bytes]:
    """The DO a PUT DATA carries; trailing bytes are ignored as GidsApplet does."""
    try:
        tag, pos = tlv.read_tag(data, 0)
        length, pos = tlv.read_length(data, pos)
    except tlv.TlvError:
        raise CardError(SW.DATA_INVALID, "no TLV header") from None
    value = data[pos : pos + length]
    if len(value) < length:
        # GidsApplet zero-fills a short DO of >= 240 bytes; softcard stores nothing.
        reason = "DO shorter than announced"
        if length >= PARTIAL_DO_THRESHOLD:
            reason += " (incomplete command chain?)"
        raise CardError(SW.DATA_INVALID, reason)
    return tag, bytes(value)
