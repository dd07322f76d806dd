"""Reading card numbers from the lines a magnetic-stripe or keyboard-style reader sends."""
import re
import time

import serial
from zope.interface import implementer

from lps_core.contract import CardMisread, ICardReader, luhn_valid

TRACK_2 = re.compile(r";(?P<number>\d{1,19})(?:=[^?]*)?\?")
PLAIN_DIGITS = re.compile(r"(?P<number>\d{2,19})")
LINE_END = re.compile(rb"[\r\n]")
MAX_LINE_BYTES = 512


def card_number_from_line(line: str) -> str:
    """The card number in one line sent by a reader; raise CardMisread if it holds none."""
    text = line.strip()
    match = TRACK_2.search(text) or PLAIN_DIGITS.fullmatch(text)
    if match is None:
        raise CardMisread(f"unreadable card data ({len(text)} characters), please present the card again")
    number = match.group("number")
    if not luhn_valid(number):
        raise CardMisread("card number fails its check digit, please present the card again")
    return number


@implementer(ICardReader)
class SerialCardReader:
    """An open serial port that yields one card number per line."""

    def __init__(self, port: serial.SerialBase):
        self._port = port
        self._pending = b""

    def read_card(self, timeout):
        """Return the next card number, None after `timeout` seconds (None: wait for ever) without
        one. A line begun but not ended in time is kept for the next call."""
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
                raise CardMisread("the reader sent a line too long to be a card, please present the card again")

    def _next_line(self):
        match = LINE_END.search(self._pending)
        if match is None:
            return None
        line, self._pending = self._pending[:match.start()], self._pending[match.end():]
        return line

    def close(self):
        self._port.close()
