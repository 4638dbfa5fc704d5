"""cardnote against softcard's cards: only the public fixtures of softcard's pytest plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from cardnote import CardError, open_notes, pin_tries, read_note, read_secret_note, verify
from smartcard.Exceptions import CardConnectionException


def test_reads_the_public_note(softcard_connection):
    open_notes(softcard_connection)
    assert read_note(softcard_connection).startswith("serial ")


def test_secret_note_needs_the_pin(softcard_connection):
    open_notes(softcard_connection)
    with pytest.raises(CardError) as refused:
        read_note(softcard_connection, 0x5002)
    assert refused.value.sw == 0x6982
    assert read_secret_note(softcard_connection, "123456") == "the secret note"


@pytest.mark.parametrize("attempt", [1, 2])
def test_every_test_gets_a_fresh_card(softcard_connection, attempt):
    # A wrong PIN costs a try; the next test's card has all three again.
    open_notes(softcard_connection)
    assert pin_tries(softcard_connection) == 3
    with pytest.raises(CardError):
        verify(softcard_connection, "000000")
    assert pin_tries(softcard_connection) == 2


def test_reports_where_it_ran(softcard_card):
    # Evidence for parallel runs: each worker has its own pcscd socket.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    print(
        f"softcard-stack worker={worker} reader={softcard_card.reader!r} "
        f"socket={softcard_card.socket_path}"
    )
    assert softcard_card.present


def test_card_removed_and_inserted(softcard_card):
    conn = softcard_card.connection
    open_notes(conn)
    softcard_card.remove()
    with pytest.raises(CardConnectionException):  # pyscard's, whatever the transport
        open_notes(conn)
    softcard_card.insert()
    open_notes(softcard_card.connection)  # a new connection to the card that came back
    assert read_note(softcard_card.connection).startswith("serial ")


def test_a_fault_rule(softcard_card):
    softcard_card.add_fault("status sw=6581 ins=B0")
    open_notes(softcard_card.connection)
    with pytest.raises(CardError) as failed:
        read_note(softcard_card.connection)
    assert failed.value.sw == 0x6581


def test_the_trace_masks_the_pin(softcard_card):
    read_secret_note(softcard_card.connection, "123456")
    text = softcard_card.trace_text(verbosity=2)
    assert "VERIFY" in text and "READ BINARY" in text
    assert "31 32 33 34 35 36" not in text  # "123456", masked


@pytest.mark.softcard(transport="embedded")
def test_without_pcscd(softcard_card):
    assert softcard_card.socket_path is None
    open_notes(softcard_card.connection)
    assert read_secret_note(softcard_card.connection, "123456") == "the secret note"


def test_two_cards_at_once(softcard_factory):
    first, second = softcard_factory("iso", seed=1), softcard_factory("iso", seed=2)
    assert first.reader != second.reader
    notes = []
    for card in (first, second):
        open_notes(card.connection)
        notes.append(read_note(card.connection))
    assert notes[0] != notes[1]  # different seeds, different serial numbers


def test_a_card_image_is_forked(softcard_factory, tmp_path):
    image = tmp_path / "iso.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "softcard",
            "image",
            "new",
            "--card",
            "iso",
            "--seed",
            "7",
            str(image),
        ],
        check=True,
        capture_output=True,
    )
    before = image.read_bytes()
    card = softcard_factory(image=image)
    open_notes(card.connection)
    with pytest.raises(CardError):
        verify(card.connection, "000000")
    assert image.read_bytes() == before  # the test's card was a copy
    assert card.image != image and card.image.exists()


@pytest.mark.softcard(kind="piv", transport="vpcd")  # a subprocess needs pcscd
def test_a_real_client_sees_the_card(softcard_card):
    tool = shutil.which("opensc-tool")
    if tool is None:
        pytest.fail("opensc-tool is not installed (Debian package opensc)")
    out = subprocess.run(
        [tool, "-r", softcard_card.reader, "-n"],
        env=softcard_card.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Personal Identity Verification" in out.stdout
