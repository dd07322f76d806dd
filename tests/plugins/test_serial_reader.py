"""The serial magnetic-stripe driver, read for real through a pseudo-terminal pair."""
import os
import threading
import time

import pytest
import serial
from zope.interface.verify import verifyObject

from lps_core.contract import ICardReader, ICardReaderDriver
from lps_serial_reader import CardReadError, SerialMagstripeDriver, card_number_from_line

CARD = "8800000000000013"
OTHER_CARD = "8800000000000021"
BAD_CHECK_DIGIT = "8800000000000012"


@pytest.fixture
def terminal():
    """(master fd, open reader): bytes written to the master arrive at the reader's port."""
    master, slave = os.openpty()
    reader = SerialMagstripeDriver().open(port=os.ttyname(slave), baudrate="9600")
    yield master, reader
    reader.close()
    os.close(master)
    os.close(slave)


def test_the_driver_is_registered_from_its_entry_point(plugins):
    driver = plugins.card_readers["serial_magstripe"]
    assert verifyObject(ICardReaderDriver, driver)
    assert "serial_reader" in plugins.plugin_names()


def test_an_open_reader_provides_icardreader(terminal):
    _, reader = terminal
    assert verifyObject(ICardReader, reader)


@pytest.mark.parametrize("sent", [
    f";{CARD}=29121010000012300000?\r\n".encode(),
    f";{CARD}=2912?\r".encode(),
    f"%B{CARD}^HOLDER/TEST^2912101?;{CARD}=2912101?\n".encode(),
    f"{CARD}\r\n".encode(),
    f"{CARD}\n".encode(),
])
def test_reads_track_2_frames_and_plain_digits(terminal, sent):
    master, reader = terminal
    os.write(master, sent)
    assert reader.read_card(timeout=2) == CARD


def test_returns_none_when_no_card_is_presented_in_time(terminal):
    _, reader = terminal
    started = time.monotonic()
    assert reader.read_card(timeout=0.3) is None
    assert 0.3 <= time.monotonic() - started < 1.5


def test_waits_for_a_card_swiped_during_the_read(terminal):
    master, reader = terminal
    swipe = threading.Timer(0.2, os.write, (master, f";{CARD}=2912?\r\n".encode()))
    swipe.start()
    try:
        assert reader.read_card(timeout=5) == CARD
    finally:
        swipe.join()


def test_keeps_a_partial_line_across_a_timeout(terminal):
    master, reader = terminal
    os.write(master, f";{CARD[:6]}".encode())
    assert reader.read_card(timeout=0.2) is None
    os.write(master, f"{CARD[6:]}=2912?\r\n".encode())
    assert reader.read_card(timeout=2) == CARD


def test_reads_cards_one_per_call_and_skips_blank_lines(terminal):
    master, reader = terminal
    os.write(master, f"\r\n{CARD}\r\n\r\n;{OTHER_CARD}=2912?\r\n".encode())
    assert reader.read_card(timeout=2) == CARD
    assert reader.read_card(timeout=2) == OTHER_CARD
    assert reader.read_card(timeout=0.1) is None


def test_a_wrong_check_digit_is_an_error_and_the_next_swipe_still_reads(terminal):
    master, reader = terminal
    os.write(master, f";{BAD_CHECK_DIGIT}=2912?\r\n;{CARD}=2912?\r\n".encode())
    with pytest.raises(CardReadError, match="check digit"):
        reader.read_card(timeout=2)
    assert reader.read_card(timeout=2) == CARD


def test_garbage_that_never_ends_a_line_is_an_error(terminal):
    master, reader = terminal
    os.write(master, b"x" * 600)
    with pytest.raises(CardReadError, match="too long"):
        reader.read_card(timeout=2)


def test_data_sent_before_open_is_discarded():
    master, slave = os.openpty()
    try:
        os.write(master, f"{OTHER_CARD}\r\n".encode())
        reader = SerialMagstripeDriver().open(port=os.ttyname(slave))
        try:
            os.write(master, f"{CARD}\r\n".encode())
            assert reader.read_card(timeout=2) == CARD
        finally:
            reader.close()
    finally:
        os.close(master)
        os.close(slave)


def test_close_releases_the_port(terminal):
    _, reader = terminal
    reader.close()
    with pytest.raises(serial.PortNotOpenError):
        reader.read_card(timeout=0.1)


@pytest.mark.parametrize(("options", "message"), [
    ({}, "needs a port"),
    ({"port": "/dev/null", "speed": 9600}, "unknown serial reader option"),
    ({"port": "/dev/null", "baudrate": "fast"}, "baudrate is invalid"),
])
def test_open_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        SerialMagstripeDriver().open(**options)


def test_open_reports_a_missing_device():
    with pytest.raises(serial.SerialException):
        SerialMagstripeDriver().open(port="/dev/lps-no-such-reader")


@pytest.mark.parametrize("line", ["", "   ", ";=2912?", "%BNOTANUMBER^X?", "8800 0000 0000 0013", "ABC"])
def test_lines_without_a_card_number_are_unreadable(line):
    with pytest.raises(CardReadError, match="unreadable"):
        card_number_from_line(line)
