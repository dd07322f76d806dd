"""The RFID reader driver over a real pseudo-terminal pair behind a symlink: pyserial opens the
slave end by the link's path, the simulator plays the reader on the master end."""
import time

import pytest
import serial
from zope.interface.verify import verifyObject

from lps_core.contract import ICardReader, ICardReaderDriver, IDeviceSimulator, Misread, TagRead
from lps_rfid_reader import SerialRfidDriver
from lps_rfid_reader.frames import checksum, frame_of

pytest_plugins = ["lps_core.testing"]

TAG = "0A1B2C3D4E"
OTHER_TAG = "1100A2B3C4"
DRIVER = SerialRfidDriver()


@pytest.fixture
def terminal(pty_socket):
    reader = DRIVER.open(port=pty_socket.path, repeat_interval="0.5")
    simulator = DRIVER.simulator(pty_socket.master)
    yield simulator, reader
    simulator.close()
    reader.close()


def test_the_driver_is_registered_from_its_entry_point(plugins):
    component = plugins.component("card_reader", "serial_rfid")
    assert verifyObject(ICardReaderDriver, component.obj)
    assert (component.plugin, component.distribution) == ("rfid_reader", "lps-rfid-reader")


def test_the_frame_is_stx_ten_hex_digits_xor_checksum_crlf_etx():
    assert checksum(bytes.fromhex(TAG)) == 0x0A ^ 0x1B ^ 0x2C ^ 0x3D ^ 0x4E == 0x4E
    assert frame_of(TAG) == b"\x020A1B2C3D4E4E\r\n\x03"
    assert len(frame_of(TAG)) == 16


def test_a_tap_reads_the_tag_id(terminal):
    simulator, reader = terminal
    assert verifyObject(ICardReader, reader) and verifyObject(IDeviceSimulator, simulator)
    simulator.present(TAG)
    assert reader.read_card(timeout=2) == TagRead(TAG)


def test_lower_case_hex_is_read_as_upper_case(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x020a1b2c3d4e4e\r\n\x03")
    assert reader.read_card(timeout=2) == TagRead(TAG)


def test_the_decimal_format_gives_the_number_printed_on_the_card(pty_socket):
    reader = DRIVER.open(port=pty_socket.path, tag_format="decimal")
    try:
        DRIVER.simulator(pty_socket.master).present(TAG)
        assert reader.read_card(timeout=2) == TagRead(f"{0x1B2C3D4E:010d}")
    finally:
        reader.close()


def test_a_tag_held_in_the_field_counts_once_until_it_is_presented_again(pty_socket):
    reader = DRIVER.open(port=pty_socket.path, repeat_interval="0.5")
    simulator = DRIVER.simulator(pty_socket.master, repeat=5)
    try:
        simulator.present(TAG)
        assert reader.read_card(timeout=2) == TagRead(TAG)
        assert reader.read_card(timeout=0.2) is None
        simulator.present(OTHER_TAG)
        assert reader.read_card(timeout=2) == TagRead(OTHER_TAG)
        time.sleep(0.6)
        simulator.present(OTHER_TAG)
        assert reader.read_card(timeout=2) == TagRead(OTHER_TAG)
    finally:
        reader.close()


def test_a_wrong_checksum_is_a_misread_never_a_tag(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x020A1B2C3D4E4F\r\n\x03")
    assert reader.read_card(timeout=2) == Misread("the tag's checksum is wrong: please present the card again")


def test_garbage_between_frames_is_ignored(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x00\xff\r\ngarbage")
    assert reader.read_card(timeout=0.5) is None
    simulator.send_raw(b"\xfe\xfe" + frame_of(TAG) + b"junk")
    assert reader.read_card(timeout=2) == TagRead(TAG)


def test_a_damaged_frame_is_a_misread(terminal):
    simulator, reader = terminal
    simulator.send_raw(b"\x02XYZ\x03")
    assert reader.read_card(timeout=2).reason.startswith("the tag reader sent a damaged frame")


def test_half_a_frame_cut_by_the_next_is_a_misread_and_the_next_reads(terminal):
    simulator, reader = terminal
    simulator.send_raw(frame_of(TAG)[:7] + frame_of(OTHER_TAG))
    assert reader.read_card(timeout=2) == Misread("half a tag frame came: please present the card again")
    assert reader.read_card(timeout=2) == TagRead(OTHER_TAG)


def test_half_a_frame_then_silence_is_a_misread(terminal):
    simulator, reader = terminal
    simulator.send_raw(frame_of(TAG)[:9])
    started = time.monotonic()
    assert reader.read_card(timeout=2) == Misread("half a tag frame came: please present the card again")
    assert 0.25 <= time.monotonic() - started < 1.5


def test_a_timeout_without_a_tag_gives_none(terminal):
    _, reader = terminal
    started = time.monotonic()
    assert reader.read_card(timeout=0.2) is None
    assert time.monotonic() - started >= 0.2


def test_a_reader_unplugged_and_plugged_back_in_is_read_again(terminal, pty_socket):
    simulator, reader = terminal
    simulator.present(TAG)
    assert reader.read_card(timeout=2) == TagRead(TAG)
    simulator.send_raw(frame_of(OTHER_TAG)[:5])
    pty_socket.unplug()
    assert reader.read_card(timeout=0.3) is None
    assert not reader.connected
    pty_socket.plug_in()
    simulator = DRIVER.simulator(pty_socket.master)
    deadline = time.monotonic() + 5
    while not reader.connected and time.monotonic() < deadline:
        assert reader.read_card(timeout=0.1) is None
    simulator.present(OTHER_TAG)
    assert reader.read_card(timeout=2) == TagRead(OTHER_TAG)


@pytest.mark.parametrize(("options", "message"), [
    ({}, "needs a port"),
    ({"port": "/dev/null", "format": "hex"}, "unknown RFID reader option"),
    ({"port": "/dev/null", "tag_format": "wiegand"}, "tag_format is invalid"),
    ({"port": "/dev/null", "gap": "0"}, "gap is invalid"),
])
def test_open_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        DRIVER.open(**options)


def test_open_reports_a_missing_device():
    with pytest.raises(serial.SerialException):
        DRIVER.open(port="/dev/lps-no-such-reader")
