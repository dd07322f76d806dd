"""A PIN pad and the guest in front of it, played in software on the pad's end of a serial line.

It speaks LPS-PAD/1 (lps_pinpad.protocol) from a thread: it ACKs good frames and NAKs damaged ones,
sends its answers again when LPS NAKs them or does not ACK them, and answers a PIN entry with what
the guest does (enter(pin), cancel()), or with `t` when the guest does nothing in the time given."""
import threading
import time
from collections import deque

from zope.interface import implementer

from lps_core.contract import IPinPadSimulator, PinBlock
from lps_serial_reader.link import DeviceEnd

from lps_pinpad.protocol import ACK, NAK, RETRIES, FrameScanner, encode

ACK_TIMEOUT = 0.5
PIN_ENTRY = "P"


@implementer(IPinPadSimulator)
class PinPadSimulator:
    """`port` is a file descriptor (the master end of os.openpty(), left open on close) or a port name
    or pyserial URL. `damage_answers` answers are first sent with a wrong LRC (a noisy line);
    `silent=True` plays a pad that is switched off (it never answers); `pad_timeout` plays a pad
    with a fixed time for the guest, whatever the request says (None: as requested)."""

    def __init__(self, port, baudrate=9600, model="LPS-SIM-PAD", firmware="1.0", damage_answers=0, silent=False,
                 pad_timeout=None):
        self.model, self.firmware = model, firmware
        self.pad_timeout = pad_timeout
        self.damage_answers = int(damage_answers)
        self.silent = silent
        self.requests = []  # every message LPS sent, for tests: what the pad was told
        self._end = DeviceEnd(port, baudrate)
        self._scanner = FrameScanner()
        self._guest = deque()  # what the guest will do at the next PIN entry
        self._entry = None  # (seq, pan12, min, max, deadline) of the PIN entry under way
        self._answered = (None, None)  # (seq, answer) of the last PIN entry answered
        self._unacked = None  # (answer frame, tries, when sent)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pin-pad-simulator", daemon=True)
        self._thread.start()

    def enter(self, pin):
        with self._lock:
            self._guest.append(("enter", pin))

    def cancel(self):
        with self._lock:
            self._guest.append(("cancel", None))

    def send_raw(self, data):
        self._end.write(data)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self._end.close()

    def _run(self):
        while not self._stop.is_set():
            for kind, message in self._scanner.feed(self._end.read(0.02)):
                if self.silent:
                    continue
                if kind == "frame":
                    self._end.write(bytes((ACK,)))
                    self._handle(message)
                elif kind == "damaged":
                    self._end.write(bytes((NAK,)))
                elif kind == "ack":
                    self._unacked = None
                elif kind == "nak" and self._unacked is not None:
                    self._resend()
            if self._unacked is not None and time.monotonic() - self._unacked[2] > ACK_TIMEOUT:
                self._resend()
            self._play_the_guest()

    def _handle(self, message):
        self.requests.append(message)
        if message == "I":
            self._answer(f"i{self.model};{self.firmware}")
        elif message.startswith("X"):
            if self._entry is not None and message[1:] == self._entry[0]:
                self._entry = None
        elif message.startswith(PIN_ENTRY) and len(message) == 21 and message[1:].isdigit():
            seq = message[1]
            if self._answered[0] == seq:  # LPS did not get our ACK and sent the entry again
                self._answer(self._answered[1])
            elif self._entry is None or self._entry[0] == seq:
                if self._entry is None:
                    lengths, seconds, pan12 = message[2:6], int(message[6:9]), message[9:]
                    seconds = seconds if self.pad_timeout is None else self.pad_timeout
                    self._entry = (seq, pan12, int(lengths[:2]), int(lengths[2:]), time.monotonic() + seconds)
            else:
                self._answer(f"r{seq}busy")
        else:
            self._answer("r0malformed request")

    def _play_the_guest(self):
        if self._entry is None:
            return
        seq, pan12, shortest, longest, deadline = self._entry
        with self._lock:
            action = self._guest.popleft() if self._guest else None
        if action is None:
            if time.monotonic() >= deadline:
                self._finish(seq, f"t{seq}")
            return
        kind, pin = action
        if kind == "cancel":
            self._finish(seq, f"c{seq}")
        elif not shortest <= len(pin) <= longest:
            self._finish(seq, f"r{seq}PIN length out of range")
        else:
            self._finish(seq, f"p{seq}" + PinBlock.format_0(pin, pan12 + "0").block.hex().upper())

    def _finish(self, seq, answer):
        self._entry = None
        self._answered = (seq, answer)
        self._answer(answer)

    def _answer(self, message):
        damaged = self.damage_answers > 0
        self.damage_answers -= damaged
        self._end.write(encode(message, damaged=damaged))
        self._unacked = (message, 1, time.monotonic())

    def _resend(self):
        message, tries, _ = self._unacked
        if tries >= RETRIES:
            self._unacked = None
            return
        damaged = self.damage_answers > 0
        self.damage_answers -= damaged
        self._end.write(encode(message, damaged=damaged))
        self._unacked = (message, tries + 1, time.monotonic())
