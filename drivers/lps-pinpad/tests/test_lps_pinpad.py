"""The PIN-pad driver over a real pseudo-terminal pair behind a symlink: pyserial opens the slave
end by the link's path, the simulator plays the pad (and the guest) on the master end."""
import logging
import time

import pytest
import serial
from zope.interface.verify import verifyObject

from lps_core.contract import IPinPad, IPinPadDriver, IPinPadSimulator, PinBlock, PinNotEntered
from lps_core.contract.pinpad import CANCELLED, GARBLED, REFUSED, TIMED_OUT, UNAVAILABLE
from lps_pinpad import SerialPinPadDriver
from lps_pinpad.protocol import FrameScanner, encode, lrc

pytest_plugins = ["lps_core.testing"]

CARD = "8800000000000013"
DRIVER = SerialPinPadDriver()


@pytest.fixture
def pad(pty_socket):
    pad = DRIVER.open(port=pty_socket.path)
    yield pad
    pad.close()


@pytest.fixture
def simulator(pty_socket, pad):
    simulator = DRIVER.simulator(pty_socket.master)
    yield simulator
    simulator.close()


def test_the_driver_is_registered_from_its_entry_point(plugins):
    component = plugins.component("pin_pad", "serial_pinpad")
    assert verifyObject(IPinPadDriver, component.obj)
    assert (component.plugin, component.distribution) == ("pinpad", "lps-pinpad")


def test_frames_carry_an_lrc_over_the_message_and_etx():
    assert encode("I") == b"\x02I\x03" + bytes((ord("I") ^ 0x03,))
    assert lrc(b"I\x03") == 0x4A
    scanner = FrameScanner()
    assert scanner.feed(b"noise\x06" + encode("c1") + encode("c1", damaged=True) + b"\x15") == [
        ("ack", None), ("frame", "c1"), ("damaged", None), ("nak", None)]


def test_the_pad_identifies_itself(pad, simulator):
    assert verifyObject(IPinPad, pad) and verifyObject(IPinPadSimulator, simulator)
    assert pad.identify(timeout=2) == "LPS-SIM-PAD;1.0"


def test_a_pin_typed_on_the_pad_comes_back_as_a_pin_block_of_that_card(pad, simulator, caplog):
    caplog.set_level(logging.DEBUG)
    simulator.enter("4321")
    block = pad.request_pin(CARD, timeout=5)
    assert isinstance(block, PinBlock)
    assert block.pin_for(CARD) == "4321"
    assert block == PinBlock.format_0("4321", CARD)
    assert "4321" not in repr(block) and "4321" not in str(block) and block.block.hex() not in repr(block)
    assert "4321" not in caplog.text
    with pytest.raises(ValueError, match="not a format-0 block for this card"):
        block.pin_for("8800000000000021")


def test_the_pad_is_sent_only_the_twelve_digits_the_pin_block_needs(pad, simulator):
    simulator.enter("123456")
    assert pad.request_pin(CARD, timeout=5, min_length=4, max_length=6).pin_for(CARD) == "123456"
    request = simulator.requests[-1]
    assert request == "P" + request[1] + "0406005" + "000000000001"
    assert CARD not in request


def test_the_guest_cancels(pad, simulator):
    simulator.cancel()
    assert pad.request_pin(CARD, timeout=5) == PinNotEntered(CANCELLED, "the guest cancelled the PIN entry")


def test_the_pad_times_out_when_the_guest_types_nothing(pad, simulator):
    started = time.monotonic()
    assert pad.request_pin(CARD, timeout=1.5).reason == TIMED_OUT
    assert 1 <= time.monotonic() - started < 3


def test_the_till_gives_up_and_aborts_the_entry(pad, simulator):
    simulator.pad_timeout = 60  # a pad that would wait longer than the till
    assert pad.request_pin(CARD, timeout=1.5) == PinNotEntered(TIMED_OUT, "no PIN was entered in time")
    deadline = time.monotonic() + 2
    while not simulator.requests[-1].startswith("X") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert simulator.requests[-1] == "X" + simulator.requests[-2][1]
    simulator.enter("4321")  # the next entry is a new one, not the abandoned one's
    assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "4321"


def test_a_pin_of_the_wrong_length_is_refused_by_the_pad(pad, simulator):
    simulator.enter("12")
    assert pad.request_pin(CARD, timeout=5) == PinNotEntered(REFUSED, "the PIN pad refused: PIN length out of range")


def test_an_answer_damaged_once_is_sent_again(pad, simulator):
    simulator.damage_answers = 1
    simulator.enter("4321")
    assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "4321"


def test_an_answer_damaged_every_time_is_garbled(pad, simulator):
    simulator.damage_answers = 10
    simulator.enter("4321")
    assert pad.request_pin(CARD, timeout=5).reason == GARBLED


def test_garbage_and_half_frames_on_the_line_do_not_stop_an_entry(pad, simulator):
    simulator.send_raw(b"\x00\xffgarbage\x02half a fra")
    simulator.enter("4321")
    assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "4321"
    simulator.enter("5678")
    simulator.send_raw(b"\x02half")
    assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "5678"


def test_a_pad_that_does_not_answer_is_unavailable(pty_socket, pad):
    simulator = DRIVER.simulator(pty_socket.master, silent=True)
    try:
        assert pad.request_pin(CARD, timeout=2) == PinNotEntered(
            UNAVAILABLE, "the PIN pad does not answer: is it plugged in?")
        assert pad.identify(timeout=0.5) is None
    finally:
        simulator.close()


def test_a_pad_unplugged_and_plugged_back_in_is_used_again(pty_socket, pad, simulator):
    simulator.enter("4321")
    assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "4321"
    simulator.close()
    pty_socket.unplug()
    assert pad.request_pin(CARD, timeout=1).reason == UNAVAILABLE
    assert not pad.connected
    pty_socket.plug_in()
    simulator = DRIVER.simulator(pty_socket.master)
    try:
        simulator.enter("9999")
        assert pad.request_pin(CARD, timeout=5).pin_for(CARD) == "9999"
        assert pad.connected
    finally:
        simulator.close()


@pytest.mark.parametrize(("card_no", "lengths"), [("1234", (4, 6)), (CARD, (3, 6)), (CARD, (6, 4))])
def test_bad_requests_are_the_callers_error(pad, card_no, lengths):
    with pytest.raises(ValueError):
        pad.request_pin(card_no, 1, *lengths)


@pytest.mark.parametrize(("options", "message"), [
    ({}, "needs a port"),
    ({"port": "/dev/null", "pin": "1"}, "unknown PIN pad option"),
    ({"port": "/dev/null", "ack_timeout": "0"}, "ack_timeout is invalid"),
])
def test_open_rejects_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        DRIVER.open(**options)


def test_open_reports_a_missing_device():
    with pytest.raises(serial.SerialException):
        DRIVER.open(port="/dev/lps-no-such-pad")
