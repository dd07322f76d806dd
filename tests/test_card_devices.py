"""What LPS does with what the drivers read: RFID tags registered on cards and found by the
cashier's look-up, and PIN blocks from a PIN pad checked against the card's PIN. The devices are
the drivers' simulators on real pseudo-terminal pairs."""
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import transaction
from sqlalchemy import select, update

from lps_core.cards.models import Card
from lps_core.cards.pins import MAX_PIN_FAILURES, hash_pin, verify_pin_block
from lps_core.cards.tags import normalize_tag_id, register_tag, remove_tag
from lps_core.cashier.lookup import look_up_tag
from lps_core.contract import PinBlock
from lps_core.db import get_session_factory
from lps_core.errors import Conflict, Forbidden, NotFound, Unprocessable, ValidationFailed
from lps_core.testing import TEST_INI_LINES, PtySocket, audited, statements_sent

LPS = str(Path(sys.executable).with_name("lps"))
TAG = "0A1B2C3D4E"


def test_tag_ids_are_kept_as_the_reader_gives_them():
    assert normalize_tag_id(" 0a:1b:2c:3d:4e ") == TAG
    assert normalize_tag_id("0a-1b 2c3d4e") == TAG
    for bad in ("", "  ", "ab", "0A1B2C3D4E!", "X" * 33, None):
        with pytest.raises(ValidationFailed):
            normalize_tag_id(bad)


def test_a_registered_tag_finds_its_card_in_one_statement(db, seed):
    card_no = seed.member_card("Tag Holder")
    register_tag(db, card_no, "0a1b2c3d4e")
    db.commit()
    with statements_sent(db.get_bind()) as statements:
        [picture] = look_up_tag(db, "REST", datetime.now(UTC), "0A:1B:2C:3D:4E")
    assert [statement.split()[0] for statement in statements if statement != "BEGIN"] == ["SELECT"]
    assert picture["card_no"] == card_no and picture["member"]["name"] == "Tag Holder" and picture["usable"]
    assert look_up_tag(db, "REST", datetime.now(UTC), "FFFFFFFFFF") == []


def test_a_tag_is_on_one_card_at_most(db, seed):
    first, second = seed.member_card("First"), seed.member_card("Second")
    register_tag(db, first, TAG)
    with pytest.raises(Conflict) as conflict:
        register_tag(db, second, TAG)
    assert conflict.value.fields == {"tag_id": f"registered on card {first}"}
    register_tag(db, first, "1100A2B3C4")  # a new tag replaces the card's old one
    register_tag(db, second, TAG)
    db.commit()
    assert [picture["card_no"] for picture in look_up_tag(db, "REST", datetime.now(UTC), TAG)] == [second]
    assert remove_tag(db, second) == TAG
    assert remove_tag(db, second) is None
    db.commit()
    entries = [(entry.target_id, entry.before, entry.after, entry.actor_kind) for entry in audited(db, "card.tag")]
    assert entries == [(first, {"tag_id": None}, {"tag_id": TAG}, "system"),
                       (first, {"tag_id": TAG}, {"tag_id": "1100A2B3C4"}, "system"),
                       (second, {"tag_id": None}, {"tag_id": TAG}, "system"),
                       (second, {"tag_id": TAG}, {"tag_id": None}, "system")]
    assert look_up_tag(db, "REST", datetime.now(UTC), TAG) == []
    with pytest.raises(NotFound):
        register_tag(db, "7799999999999991", TAG)  # a well-formed number of no card


def test_a_tag_read_at_the_desk_is_registered_with_the_command(db, seed, tmp_path, database_url, plugins):
    card_no = seed.member_card("Desk Guest")
    db.commit()
    ini = tmp_path / "lps.ini"
    ini.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}")
    socket = PtySocket(str(tmp_path))
    simulator = plugins.component("card_reader", "serial_rfid").obj.simulator(socket.master)
    try:
        process = subprocess.Popen([LPS, "-c", str(ini), "cards", "tag", card_no, "--read", "serial_rfid",
                                    "--port", socket.path, "--timeout", "20"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            simulator.present(TAG)  # a tag held to the reader: sent again and again
            time.sleep(0.2)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        simulator.close()
        socket.close()
    assert process.returncode == 0, stderr
    assert stdout == f"tag {TAG} registered on card {card_no}\n"
    db.rollback()
    assert db.scalar(select(Card.tag_id).where(Card.card_no == card_no)) == TAG
    removed = subprocess.run([LPS, "-c", str(ini), "cards", "tag", card_no, "--remove"], capture_output=True,
                             text=True, timeout=120)
    assert removed.stdout == f"tag {TAG} removed from card {card_no}\n"
    both = subprocess.run([LPS, "-c", str(ini), "cards", "tag", card_no, TAG, "--remove"], capture_output=True,
                          text=True, timeout=120)
    assert both.returncode == 2 and "give a tag id, --read DRIVER --port PORT, or --remove" in both.stderr


# -- PIN pads --------------------------------------------------------------------------------------

@pytest.fixture
def pin_card(seed, db):
    card_no = seed.member_card()
    db.execute(update(Card).where(Card.card_no == card_no).values(pin_hash=hash_pin("2468")))
    db.commit()
    return card_no


@pytest.fixture
def pad_and_guest(tmp_path, plugins):
    """(an open PIN pad, its simulator) on a pseudo-terminal pair."""
    driver = plugins.component("pin_pad", "serial_pinpad").obj
    socket = PtySocket(str(tmp_path))
    pad = driver.open(port=socket.path)
    guest = driver.simulator(socket.master)
    yield pad, guest
    guest.close()
    pad.close()
    socket.close()


def check_block_in_a_request(engine, card_no, block):
    """verify_pin_block as a request runs it: inside transaction.manager, aborted when it raises."""
    with transaction.manager:
        session = get_session_factory(engine)()
        card = session.scalar(select(Card).where(Card.card_no == card_no))
        verify_pin_block(session, card, block)


def failures(db, card_no):
    db.rollback()
    return db.scalar(select(Card.pin_failures).where(Card.card_no == card_no))


def test_a_pin_typed_on_the_pad_is_checked_against_the_cards_pin(engine, db, pin_card, pad_and_guest, caplog):
    pad, guest = pad_and_guest
    guest.enter("2468")
    check_block_in_a_request(engine, pin_card, pad.request_pin(pin_card, timeout=5))
    guest.enter("1357")
    with pytest.raises(Forbidden) as wrong:
        check_block_in_a_request(engine, pin_card, pad.request_pin(pin_card, timeout=5))
    assert wrong.value.fields == {"pin_block": f"wrong PIN, {MAX_PIN_FAILURES - 1} tries left"}
    assert failures(db, pin_card) == 1
    assert "2468" not in caplog.text and "1357" not in caplog.text


def test_a_block_made_for_another_card_counts_as_a_wrong_pin(engine, db, pin_card):
    with pytest.raises(Forbidden):
        check_block_in_a_request(engine, pin_card, PinBlock.format_0("2468", "8800000000000021"))
    assert failures(db, pin_card) == 1
    with pytest.raises(Unprocessable) as missing:
        check_block_in_a_request(engine, pin_card, None)
    assert missing.value.fields == {"pin_block": "is required for this card"}


def test_a_pin_entry_can_wait_for_the_guest_while_the_till_waits(pin_card, pad_and_guest):
    pad, guest = pad_and_guest
    typing = threading.Timer(0.5, guest.enter, ("2468",))
    typing.start()
    try:
        assert pad.request_pin(pin_card, timeout=10).pin_for(pin_card) == "2468"
    finally:
        typing.join()


# -- lps drivers ------------------------------------------------------------------------------------

def probe(tmp_path, driver, *extra):
    return subprocess.Popen([LPS, "-c", str(tmp_path / "none.ini"), "drivers", "--probe", driver, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_drivers_lists_the_tag_reader_and_the_pin_pad(tmp_path):
    listing = subprocess.run([LPS, "-c", str(tmp_path / "none.ini"), "drivers"], capture_output=True, text=True,
                             timeout=120).stdout
    assert {"serial_magstripe", "serial_pinpad", "serial_rfid"} <= {line.split()[0] for line in listing.splitlines()}
    assert "from lps-pinpad" in listing and "from lps-rfid-reader" in listing


def test_drivers_probe_prints_the_tag_read(tmp_path, plugins):
    socket = PtySocket(str(tmp_path))
    simulator = plugins.component("card_reader", "serial_rfid").obj.simulator(socket.master)
    try:
        process = probe(tmp_path, "serial_rfid", "--port", socket.path, "--timeout", "20")
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            simulator.present(TAG)
            time.sleep(0.2)
        stdout, _ = process.communicate(timeout=60)
    finally:
        simulator.close()
        socket.close()
    assert (process.returncode, stdout) == (0, f"tag {TAG}\n")


def test_drivers_probe_asks_a_pin_pad_who_it_is_and_never_for_a_pin(tmp_path, plugins):
    socket = PtySocket(str(tmp_path))
    simulator = plugins.component("pin_pad", "serial_pinpad").obj.simulator(socket.master)
    try:
        stdout, stderr = probe(tmp_path, "serial_pinpad", "--port", socket.path, "--timeout", "20").communicate(
            timeout=60)
        assert stdout == "LPS-SIM-PAD;1.0\n"
        assert "asking the PIN pad" in stderr
        assert simulator.requests == ["I"]
    finally:
        simulator.close()
        socket.close()
    silent_socket = PtySocket(str(tmp_path), "ttyLPS1")
    try:
        process = probe(tmp_path, "serial_pinpad", "--port", silent_socket.path, "--timeout", "1")
        stdout, _ = process.communicate(timeout=60)
        assert (process.returncode, stdout) == (1, "no answer within 1 s\n")
    finally:
        silent_socket.close()
