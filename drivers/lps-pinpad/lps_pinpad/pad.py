"""LPS's side of LPS-PAD/1: asking the pad for a PIN entry and taking its answer.

Nothing here logs or keeps what the pad sends: the PIN block goes to the caller inside a PinBlock,
whose repr hides it. The pad is sent only the 12 digits of the card number that the format-0 PIN
block needs, never the whole number."""
import time
from collections import deque

from zope.interface import implementer

from lps_core.contract import IPinPad, PinBlock, PinNotEntered
from lps_core.contract.pinpad import CANCELLED, GARBLED, REFUSED, TIMED_OUT, UNAVAILABLE

from lps_pinpad.protocol import ACK, NAK, RETRIES, FrameScanner, encode, pin_entry_request

ABORT_SECONDS = 1.0  # how long an abort may take after the till gave up
_DAMAGED = object()  # what _receive gives when the pad's frames keep arriving damaged


@implementer(IPinPad)
class SerialPinPad:
    def __init__(self, link, ack_timeout=0.5):
        self._link = link
        self._ack_timeout = ack_timeout
        self._scanner = FrameScanner()
        self._inbox = deque()  # events read while waiting for something else
        self._seq = 0  # of the last PIN entry

    @property
    def connected(self) -> bool:
        return self._link.connected

    def _events(self, until):
        """The next events, read until `until` (a monotonic time); [] when nothing came."""
        if self._inbox:
            events = list(self._inbox)
            self._inbox.clear()
            return events
        remaining = until - time.monotonic()
        if remaining <= 0:
            return []
        return self._scanner.feed(self._link.read(remaining))

    def _send(self, message, deadline) -> bool:
        """Send a frame until the pad ACKs it; False when it never does before `deadline`."""
        frame = encode(message)
        for _ in range(RETRIES):
            if time.monotonic() >= deadline:
                return False
            if not self._link.write(frame):
                self._link.read(min(self._ack_timeout, max(deadline - time.monotonic(), 0)))  # look for the pad
                continue
            if self._acknowledged(min(time.monotonic() + self._ack_timeout, deadline)):
                return True
        return False

    def _acknowledged(self, until) -> bool:
        """True when the pad ACKs before `until`, False on a NAK or silence. What comes with or
        after the ACK (the answer) waits in the inbox for _receive."""
        while time.monotonic() < until:
            events = self._events(until)
            for position, (kind, _) in enumerate(events):
                if kind in ("ack", "nak"):
                    self._inbox.extend(events[position + 1:])
                    return kind == "ack"
        return False

    def _receive(self, deadline, seq=None):
        """The pad's next message (of PIN entry `seq`, if given); None at the deadline; _DAMAGED
        when it came damaged as many times as the pad sends it."""
        damaged = 0
        while time.monotonic() < deadline:
            for kind, message in self._events(deadline):
                if kind == "frame":
                    self._link.write(bytes((ACK,)))
                    if seq is None or message[1:2] == str(seq):
                        return message
                elif kind == "damaged":
                    damaged += 1
                    if damaged >= RETRIES:
                        return _DAMAGED
                    self._link.write(bytes((NAK,)))
        return None

    def _start(self):
        """A clean line before a request: answers to an earlier, abandoned request are dropped."""
        self._link.discard_input()
        self._scanner.reset()
        self._inbox.clear()

    def identify(self, timeout):
        deadline = time.monotonic() + timeout
        self._start()
        if not self._send("I", deadline):
            return None
        answer = self._receive(deadline)
        return answer[1:] if isinstance(answer, str) and answer.startswith("i") else None

    def request_pin(self, card_no, timeout, min_length=4, max_length=6):
        digits = str(card_no)
        if not digits.isdigit() or len(digits) < 13:
            raise ValueError("a PIN entry needs a card number of at least 13 digits")
        if not 4 <= min_length <= max_length <= 12:
            raise ValueError("PIN lengths must be 4 <= min_length <= max_length <= 12")
        deadline = time.monotonic() + timeout
        self._start()
        seconds = max(1, min(999, int(timeout)))
        self._seq = seq = (self._seq + 1) % 10
        if not self._send(pin_entry_request(seq, digits[:-1][-12:], min_length, max_length, seconds), deadline):
            return PinNotEntered(UNAVAILABLE, "the PIN pad does not answer: is it plugged in?")
        answer = self._receive(deadline, seq)
        if answer is None:
            self._send(f"X{seq}", time.monotonic() + ABORT_SECONDS)
            return PinNotEntered(TIMED_OUT, "no PIN was entered in time")
        return self._outcome(answer)

    @staticmethod
    def _outcome(answer):
        if answer is _DAMAGED:
            return PinNotEntered(GARBLED, "the PIN pad's answer was damaged on the line: please try again")
        kind, detail = answer[:1], answer[2:]
        if kind == "p" and len(detail) == 16:
            try:
                return PinBlock(bytes.fromhex(detail))
            except ValueError:
                pass
        if kind == "c":
            return PinNotEntered(CANCELLED, "the guest cancelled the PIN entry")
        if kind == "t":
            return PinNotEntered(TIMED_OUT, "no PIN was entered in time")
        if kind == "r":
            return PinNotEntered(REFUSED, f"the PIN pad refused: {detail or 'no reason given'}")
        return PinNotEntered(GARBLED, "the PIN pad gave an answer this driver does not know")

    def close(self):
        self._link.close()
