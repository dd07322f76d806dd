"""The serial magnetic-stripe driver, read for real through a pseudo-terminal pair: pyserial opens
the slave end, the driver's own simulator plays the reader on the master end."""
import os
import select
import threading
import time

import pytest
import serial
from zope.interface.verify import verifyObject

from lps_core.contract import CardMisread, ICardReader, ICardReaderDriver, IDeviceSimulator
from lps_serial_reader import SerialMagstripeDriver
from lps_serial_reader.reader import card_number_from_line

pytest_plugins = ["lps_core.testing"]

CARD = "8800000000000013"
OTHER_CARD = "8800000000000021"
BAD_CHECK_DIGIT = "8800000000000012"
DRIVER = SerialMagstripeDriver()


@pytest.fixture
def pty_pair():
    """(master fd, slave path) of a new pseudo-terminal."""
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def terminal(pty_pair):
    """(simulator, open reader): what the simulator sends arrives at the reader's port."""
    master, path = pty_pair
    reader = DRIVER.open(port=path, baudrate="9600")
    simulator = DRIVER.simulator(master)
    yield simulator, reader
    simulator.close()
    reader.close()


def test_the_driver_is_registered_from_its_entry_point(plugins):
    component = plugins.component("card_reader", "serial_magstripe")
    assert verifyObject(ICardReaderDriver, component.obj)
    assert (component.plugin, component.distribution) == ("serial_reader", "lps-serial-reader")
    assert "serial port" in component.obj.description


def test_an_open_reader_and_its_simulator_provide_their_interfaces(terminal):
    simulator, reader = terminal
    assert verifyObject(ICardReader, reader)
    assert verifyObject(IDeviceSimulator, simulator)


def test_a_good_swipe_reads_the_card(terminal):
    simulator, reader = terminal
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CARD


@pytest.mark.parametrize("options", [
    {"expiry": "3001", "service_code": "201"},
    {"holder": "GUEST/TEST"},
    {"line_end": "\r"},
    {"line_end": "\n"},
])
def test_reads_the_swipes_of_differently_set_readers(pty_pair, options):
    master, path = pty_pair
    reader = DRIVER.open(port=path)
    try:
        DRIVER.simulator(master, **options).present(CARD)
        assert reader.read_card(timeout=2) == CARD
    finally:
        reader.close()


def test_reads_plain_digits_of_a_keyboard_style_reader(terminal):
    simulator, reader = terminal
    simulator.send_raw(f"{CARD}\r\n".encode())
    assert reader.read_card(timeout=2) == CARD


def test_garbage_bytes_are_a_misread_and_the_next_swipe_still_reads(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x00\xff%%;;??garbage\r\n")
    with pytest.raises(CardMisread, match="unreadable"):
        reader.read_card(timeout=2)
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CARD


def test_garbage_that_never_ends_a_line_is_a_misread(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"x" * 600)
    with pytest.raises(CardMisread, match="too long"):
        reader.read_card(timeout=2)


def test_a_half_line_then_a_timeout_gives_no_card_and_the_rest_completes_it(terminal):
    simulator, reader = terminal
    line = simulator.swipe_line(CARD)
    simulator.send_raw(line[:9])
    started = time.monotonic()
    assert reader.read_card(timeout=0.3) is None
    assert 0.3 <= time.monotonic() - started < 1.5
    simulator.send_raw(line[9:])
    assert reader.read_card(timeout=2) == CARD


def test_returns_none_when_no_card_is_presented_in_time(terminal):
    _, reader = terminal
    assert reader.read_card(timeout=0.2) is None


def test_waits_for_a_card_swiped_during_the_read(terminal):
    simulator, reader = terminal
    swipe = threading.Timer(0.2, simulator.present, (CARD,))
    swipe.start()
    try:
        assert reader.read_card(timeout=5) == CARD
    finally:
        swipe.join()


def test_reads_cards_one_per_call_and_skips_blank_lines(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\r\n")
    simulator.present(CARD)
    simulator.send_raw(b"\r\n\r\n")
    simulator.present(OTHER_CARD)
    assert reader.read_card(timeout=2) == CARD
    assert reader.read_card(timeout=2) == OTHER_CARD
    assert reader.read_card(timeout=0.1) is None


def test_a_wrong_check_digit_is_a_misread_and_the_next_swipe_still_reads(terminal):
    simulator, reader = terminal
    simulator.present(BAD_CHECK_DIGIT)
    simulator.present(CARD)
    with pytest.raises(CardMisread, match="check digit"):
        reader.read_card(timeout=2)
    assert reader.read_card(timeout=2) == CARD


def test_a_swipe_before_open_is_discarded(pty_pair):
    master, path = pty_pair
    simulator = DRIVER.simulator(master)
    simulator.present(OTHER_CARD)
    reader = DRIVER.open(port=path)
    try:
        simulator.present(CARD)
        assert reader.read_card(timeout=2) == CARD
    finally:
        reader.close()


def test_the_simulator_opens_a_port_by_name(pty_pair):
    """On a bench the simulator drives a real port, by its name: here the slave end, read at the master."""
    master, path = pty_pair
    simulator = DRIVER.simulator(path, baudrate="9600")
    try:
        simulator.present(CARD)
        expected = simulator.swipe_line(CARD)
        received = b""
        while len(received) < len(expected) and select.select([master], [], [], 2)[0]:
            received += os.read(master, 64)
        assert received == expected
    finally:
        simulator.close()


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
        DRIVER.open(**options)


def test_the_simulator_rejects_unknown_options(pty_pair):
    with pytest.raises(ValueError, match="unknown magstripe simulator option"):
        DRIVER.simulator(pty_pair[0], track=3)


def test_open_reports_a_missing_device():
    with pytest.raises(serial.SerialException):
        DRIVER.open(port="/dev/lps-no-such-reader")


@pytest.mark.parametrize("line", ["", "   ", ";=2912?", "%BNOTANUMBER^X?", "8800 0000 0000 0013", "ABC"])
def test_lines_without_a_card_number_are_misreads(line):
    with pytest.raises(CardMisread, match="unreadable"):
        card_number_from_line(line)
