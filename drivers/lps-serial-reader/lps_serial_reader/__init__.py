"""A card-reader driver for magnetic-stripe and keyboard-style readers on a serial port (pyserial).

The driver is named "serial_magstripe". `open()` takes these options (values may be strings, as
they come from an ini file):
- port: the device, e.g. "/dev/ttyUSB0" or "COM3", or a pyserial URL such as "socket://host:4001"
  for a reader behind a serial-to-network adapter (required);
- baudrate: default 9600; bytesize: 5 to 8, default 8; parity: "N", "E", "O", "M" or "S",
  default "N"; stopbits: 1, 1.5 or 2, default 1.

A reader sends one line per card, ended by CR, LF or CR LF. The line is either the track-2 frame of
a magnetic stripe, `;<card number>=<expiry and other data>?` (a track-1 frame `%...?` before it is
ignored), or the card number as plain digits, as typed by a keyboard-style or barcode reader.
A card number whose Luhn check digit is wrong, or a line that holds no card number, raises
CardReadError, so the terminal can ask for the card again; data left over from before `open()`
is discarded.
"""
import re
import time

import serial
from zope.interface import implementer

from lps_core.contract import hookimpl
from lps_core.cards.luhn import luhn_valid
from lps_core.contract import ICardReader, ICardReaderDriver

TRACK_2 = re.compile(r";(?P<number>\d{1,19})(?:=[^?]*)?\?")
PLAIN_DIGITS = re.compile(r"(?P<number>\d{2,19})")
LINE_END = re.compile(rb"[\r\n]")
MAX_LINE_BYTES = 512
OPTION_TYPES = {"port": str, "baudrate": int, "bytesize": int, "parity": str, "stopbits": float}


class CardReadError(ValueError):
    """A card was presented but no valid card number could be read from it."""


def card_number_from_line(line: str) -> str:
    """The card number in one line sent by a reader; raise CardReadError if it holds none."""
    text = line.strip()
    match = TRACK_2.search(text) or PLAIN_DIGITS.fullmatch(text)
    if match is None:
        raise CardReadError(f"unreadable card data ({len(text)} characters), please present the card again")
    number = match.group("number")
    if not luhn_valid(number):
        raise CardReadError("card number fails its check digit, please present the card again")
    return number


def _options(options):
    unknown = sorted(set(options) - set(OPTION_TYPES))
    if unknown:
        raise ValueError(f"unknown serial reader option(s): {', '.join(unknown)}")
    if not options.get("port"):
        raise ValueError("the serial reader needs a port, e.g. port=/dev/ttyUSB0")
    cleaned = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
    for name, value in options.items():
        try:
            cleaned[name] = OPTION_TYPES[name](value)
        except (TypeError, ValueError):
            raise ValueError(f"serial reader option {name} is invalid: {value!r}") from None
    return cleaned


@implementer(ICardReader)
class SerialCardReader:
    """An open serial port that yields one card number per line."""

    def __init__(self, port: serial.SerialBase):
        self._port = port
        self._pending = b""

    def read_card(self, timeout):
        """Return the next card number, None after `timeout` seconds (None: wait for ever) without one."""
        if not self._port.is_open:
            raise serial.PortNotOpenError()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            line = self._next_line()
            if line is not None:
                if line.strip():
                    return card_number_from_line(line.decode("ascii", errors="replace"))
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self._port.timeout = remaining
            self._pending += self._port.read(max(1, self._port.in_waiting))
            if len(self._pending) > MAX_LINE_BYTES and LINE_END.search(self._pending) is None:
                self._pending = b""
                raise CardReadError("the reader sent a line too long to be a card, please present the card again")

    def _next_line(self):
        match = LINE_END.search(self._pending)
        if match is None:
            return None
        line, self._pending = self._pending[:match.start()], self._pending[match.end():]
        return line

    def close(self):
        self._port.close()


@implementer(ICardReaderDriver)
class SerialMagstripeDriver:
    name = "serial_magstripe"

    def open(self, **options):
        cleaned = _options(options)
        port = serial.serial_for_url(cleaned.pop("port"), **cleaned)
        port.reset_input_buffer()
        return SerialCardReader(port)


@hookimpl
def lps_card_readers():
    return [SerialMagstripeDriver()]
