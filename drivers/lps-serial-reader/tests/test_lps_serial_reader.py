"""The serial magnetic-stripe driver, read for real through a pseudo-terminal pair: pyserial opens
the slave end (through a symlink, as udev names a reader), the driver's own simulator plays the
reader on the master end."""
import os
import select
import threading
import time

import pytest
import serial
from zope.interface.verify import verifyObject

from lps_core.contract import CardRead, ICardReader, ICardReaderDriver, IDeviceSimulator, Misread
from lps_serial_reader import SerialMagstripeDriver
from lps_serial_reader.reader import FieldExtractor, lrc_character
from lps_serial_reader.simulator import track_frame

pytest_plugins = ["lps_core.testing"]

CARD = "8800000000000013"
OTHER_CARD = "8800000000000021"
BAD_CHECK_DIGIT = "8800000000000012"
DRIVER = SerialMagstripeDriver()


@pytest.fixture
def terminal(pty_socket):
    """(simulator, open reader): what the simulator sends arrives at the reader's port."""
    reader = DRIVER.open(port=pty_socket.path, baudrate="9600")
    simulator = DRIVER.simulator(pty_socket.master)
    yield simulator, reader
    simulator.close()
    reader.close()


def read_swipe(pty_socket, line, **options):
    reader = DRIVER.open(port=pty_socket.path, **options)
    try:
        DRIVER.simulator(pty_socket.master).send_raw(line)
        return reader.read_card(timeout=2)
    finally:
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
    assert reader.connected


def test_a_good_swipe_reads_track_2(terminal):
    simulator, reader = terminal
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)


def test_the_lrc_is_the_xor_of_the_characters_values():
    # ";1=?" : values 0xB ^ 0x1 ^ 0xD ^ 0xF = 0x8 -> "8"; "%A?" : 0x05 ^ 0x21 ^ 0x1F = 0x3B -> "["
    assert lrc_character(2, ";1=?") == "8"
    assert lrc_character(1, "%A?") == "["
    assert track_frame(2, "1=") == ";1=?8"


@pytest.mark.parametrize(("options", "track"), [({"track": "1"}, 1), ({"track": "any"}, 2), ({}, 2)])
def test_the_configured_track_is_read(pty_socket, options, track):
    line = DRIVER.simulator(pty_socket.master, holder="GUEST/TEST").swipe_line(CARD)
    assert read_swipe(pty_socket, line, **options) == CardRead(CARD, track)


def test_any_track_falls_back_to_track_1(pty_socket):
    line = (track_frame(1, f"B{CARD}^GUEST/TEST^2912101") + "\r\n").encode()
    assert read_swipe(pty_socket, line, track="any") == CardRead(CARD, 1)
    assert read_swipe(pty_socket, line) == Misread("the swipe has no track 2: please swipe the card again")


@pytest.mark.parametrize(("field", "data", "number"), [
    ("slice:0:16", f"{CARD}=2912101", CARD),
    ("slice:7:23", f"1234567{CARD}=2912101", CARD),
    ("regex:=\\d{7}(?P<card>\\d{16})", f"40000002=2912101{CARD}", CARD),
    ("regex:^\\d{4}(\\d{16})", f"9999{CARD}=2912", CARD),
])
def test_the_card_number_is_taken_from_the_configured_field(pty_socket, field, data, number):
    assert read_swipe(pty_socket, (track_frame(2, data) + "\r\n").encode(), field=field) == CardRead(number, 2)


def test_a_field_that_holds_no_number_is_a_misread(pty_socket):
    line = (track_frame(2, f"{CARD}=2912101") + "\r\n").encode()
    read = read_swipe(pty_socket, line, field="regex:(?P<card>\\d{30})")
    assert read == Misread("track 2 holds no card number where the reader is set to find it")


def test_a_wrong_lrc_is_a_misread_and_never_a_card_number(terminal):
    simulator, reader = terminal
    good = track_frame(2, f"{CARD}=2912101")
    bad_lrc = chr(ord(good[-1]) ^ 1)
    simulator.send_raw((good[:-1] + bad_lrc + "\r\n").encode())
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == Misread("track 2 fails its LRC check: please swipe the card again")
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)


def test_a_flipped_bit_in_the_data_fails_the_lrc(terminal):
    simulator, reader = terminal
    frame = track_frame(2, f"{CARD}=2912101")
    simulator.send_raw((frame.replace("8800", "8810", 1) + "\r\n").encode())
    assert isinstance(reader.read_card(timeout=2), Misread)


def test_a_character_outside_the_tracks_set_is_a_parity_misread(pty_socket):
    frame = f";{CARD}A=2912?"
    read = read_swipe(pty_socket, (frame + lrc_character(2, frame.replace("A", "0")) + "\r\n").encode())
    assert read.reason.startswith("track 2 holds a character it cannot hold")


def test_the_readers_own_error_for_a_track_is_a_misread(pty_socket):
    assert read_swipe(pty_socket, b"%E?;E?\r\n", track="any") == Misread(
        "the reader could not read track 2: please swipe the card again")


def test_without_lrc_the_reader_has_checked_it(pty_socket):
    line = DRIVER.simulator(pty_socket.master, lrc=False).swipe_line(CARD)
    assert read_swipe(pty_socket, line, lrc="no") == CardRead(CARD, 2)
    assert read_swipe(pty_socket, line).reason == "track 2 has no LRC character: please swipe again"


@pytest.mark.parametrize("options", [
    {"expiry": "3001", "service_code": "201", "discretionary": "0000123"},
    {"holder": "GUEST/TEST"},
    {"line_end": "\r"},
    {"line_end": "\n"},
])
def test_reads_the_swipes_of_differently_set_readers(pty_socket, options):
    assert read_swipe(pty_socket, DRIVER.simulator(pty_socket.master, **options).swipe_line(CARD)) == CardRead(CARD, 2)


def test_a_reader_that_sends_no_line_end_is_read_after_a_gap(pty_socket):
    line = DRIVER.simulator(pty_socket.master, line_end="").swipe_line(CARD)
    assert read_swipe(pty_socket, line, gap="0.1") == CardRead(CARD, 2)


def test_reads_plain_digits_of_a_keyboard_style_reader(terminal):
    simulator, reader = terminal
    simulator.send_raw(f"{CARD}\r\n".encode())
    assert reader.read_card(timeout=2) == CardRead(CARD, None)


def test_garbage_bytes_are_a_misread_and_the_next_swipe_still_reads(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x00\xff%%;;??garbage\r\n")
    assert reader.read_card(timeout=2) == Misread("unreadable card data, please swipe the card again")
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)


def test_garbage_that_never_ends_a_line_is_a_misread(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"x" * 600)
    assert "more than a card holds" in reader.read_card(timeout=2).reason


def test_half_a_swipe_is_a_misread_once_the_reader_falls_silent(terminal):
    simulator, reader = terminal
    line = simulator.swipe_line(CARD)
    simulator.send_raw(line[:9])
    started = time.monotonic()
    assert reader.read_card(timeout=2) == Misread("track 2 has no end sentinel (half a swipe): please swipe again")
    assert 0.25 <= time.monotonic() - started < 1.5
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)


def test_a_timeout_shorter_than_the_gap_keeps_the_swipe_coming_in(terminal):
    simulator, reader = terminal
    line = simulator.swipe_line(CARD)
    simulator.send_raw(line[:9])
    assert reader.read_card(timeout=0.05) is None
    simulator.send_raw(line[9:])
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)


def test_returns_none_when_no_card_is_presented_in_time(terminal):
    _, reader = terminal
    started = time.monotonic()
    assert reader.read_card(timeout=0.2) is None
    assert 0.2 <= time.monotonic() - started < 1


def test_waits_for_a_card_swiped_during_the_read(terminal):
    simulator, reader = terminal
    swipe = threading.Timer(0.2, simulator.present, (CARD,))
    swipe.start()
    try:
        assert reader.read_card(timeout=5) == CardRead(CARD, 2)
    finally:
        swipe.join()


def test_reads_cards_one_per_call_and_skips_blank_lines(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\r\n")
    simulator.present(CARD)
    simulator.send_raw(b"\r\n\r\n")
    simulator.present(OTHER_CARD)
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)
    assert reader.read_card(timeout=2) == CardRead(OTHER_CARD, 2)
    assert reader.read_card(timeout=0.1) is None


def test_a_wrong_check_digit_is_a_misread_unless_switched_off(pty_socket):
    line = DRIVER.simulator(pty_socket.master).swipe_line(BAD_CHECK_DIGIT)
    assert read_swipe(pty_socket, line).reason.startswith("the card number fails its check digit")
    assert read_swipe(pty_socket, line, check_digit="none") == CardRead(BAD_CHECK_DIGIT, 2)


def test_a_swipe_before_open_is_discarded(pty_socket):
    simulator = DRIVER.simulator(pty_socket.master)
    simulator.present(OTHER_CARD)
    reader = DRIVER.open(port=pty_socket.path)
    try:
        simulator.present(CARD)
        assert reader.read_card(timeout=2) == CardRead(CARD, 2)
    finally:
        reader.close()


def test_a_reader_unplugged_and_plugged_back_in_is_read_again(terminal, pty_socket):
    simulator, reader = terminal
    simulator.present(CARD)
    assert reader.read_card(timeout=2) == CardRead(CARD, 2)
    pty_socket.unplug()
    assert reader.read_card(timeout=0.3) is None
    assert not reader.connected
    pty_socket.plug_in()  # a new pseudo-terminal behind the same path
    simulator = DRIVER.simulator(pty_socket.master)
    deadline = time.monotonic() + 5
    while not reader.connected and time.monotonic() < deadline:
        assert reader.read_card(timeout=0.1) is None
    assert reader.connected
    simulator.present(OTHER_CARD)
    assert reader.read_card(timeout=2) == CardRead(OTHER_CARD, 2)


def test_the_simulator_opens_a_port_by_name(pty_socket):
    """On a bench the simulator drives a real port, by its name: here the slave end, read at the master."""
    simulator = DRIVER.simulator(pty_socket.path, baudrate="9600")
    try:
        simulator.present(CARD)
        expected = simulator.swipe_line(CARD)
        received = b""
        while len(received) < len(expected) and select.select([pty_socket.master], [], [], 2)[0]:
            received += os.read(pty_socket.master, 64)
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
    ({"port": "/dev/null", "speed": 9600}, "unknown magstripe reader option"),
    ({"port": "/dev/null", "baudrate": "fast"}, "baudrate is invalid"),
    ({"port": "/dev/null", "track": "4"}, "track is invalid"),
    ({"port": "/dev/null", "field": "regex:("}, "field is invalid"),
    ({"port": "/dev/null", "field": "slice:a:b"}, "field is invalid"),
    ({"port": "/dev/null", "lrc": "maybe"}, "lrc is invalid"),
    ({"port": "/dev/null", "parity": "X"}, "parity is invalid"),
])
def test_open_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        DRIVER.open(**options)


def test_the_simulator_rejects_unknown_options(pty_socket):
    with pytest.raises(ValueError, match="unknown magstripe simulator option"):
        DRIVER.simulator(pty_socket.master, track=3)


def test_open_reports_a_missing_device():
    with pytest.raises(serial.SerialException):
        DRIVER.open(port="/dev/lps-no-such-reader")


@pytest.mark.parametrize("line", [b"   x", b";=2912?", b"%BNOTANUMBER^X?", b"8800 0000 0000 0013", b"ABC"])
def test_lines_without_a_card_number_are_misreads(line):
    assert isinstance(FieldExtractor(lrc=False).card_from_line(line), Misread)
