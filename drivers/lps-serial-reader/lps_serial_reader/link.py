"""A serial line that survives its device being unplugged, and the framing every driver shares.

The PIN-pad and RFID drivers (lps-pinpad, lps-rfid-reader) build on this module too, so that
reopening a device and finding frames in a byte stream are written once.

SerialLink opens a port by its name or pyserial URL. When a read or a write fails because the
device went away (a USB adapter pulled out, a pseudo-terminal closed), it closes the port and tries
to open the same name again every `reconnect_interval` seconds while it is being read: a udev
symlink such as /dev/lps-reader, or COM3 on Windows, that comes back when the device is plugged in
again is found without restarting anything. Opening a port (pyserial's open) discards the bytes
that waited in it: they belong to nobody's swipe, and a swipe made before the device is found again
is lost, as it would be on a till that is switched off."""
import os
import select
import time

import serial

try:
    from termios import error as TermiosError
except ImportError:  # Windows
    TermiosError = OSError

# What pyserial raises when the device is gone: its SerialException (an OSError), or termios.error
# from a flush on a closed pseudo-terminal.
DEVICE_GONE = (serial.SerialException, OSError, TermiosError)
PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD, "M": serial.PARITY_MARK,
            "S": serial.PARITY_SPACE}
SERIAL_DEFAULTS = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}


def _baudrate(value):
    rate = int(value)
    if rate <= 0:
        raise ValueError
    return rate


def _bytesize(value):
    size = int(value)
    if size not in (5, 6, 7, 8):
        raise ValueError
    return size


def _parity(value):
    parity = str(value).upper()
    if parity not in PARITIES:
        raise ValueError
    return parity


def _stopbits(value):
    bits = float(value)
    if bits not in (1, 1.5, 2):
        raise ValueError
    return int(bits) if bits.is_integer() else bits


def _seconds(value):
    seconds = float(value)
    if not 0 < seconds <= 3600:
        raise ValueError
    return seconds


SERIAL_OPTIONS = {"port": str, "baudrate": _baudrate, "bytesize": _bytesize, "parity": _parity,
                  "stopbits": _stopbits, "reconnect_interval": _seconds}


def parse_options(options, own, defaults, *, who) -> tuple[dict, dict]:
    """(serial settings, the driver's own options) from `options` as given to open(): values may be
    strings (an ini file, `lps drivers --option`). `own` maps each of the driver's own options to a
    function that converts its value or raises ValueError; `defaults` gives their defaults. Raises
    ValueError naming the unknown or invalid option."""
    known = {**SERIAL_OPTIONS, **own}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"unknown {who} option(s): {', '.join(unknown)}")
    if not options.get("port"):
        raise ValueError(f"the {who} needs a port, e.g. port=/dev/ttyUSB0")
    cleaned = {**SERIAL_DEFAULTS, "reconnect_interval": 0.5, **defaults}
    for name, value in options.items():
        try:
            cleaned[name] = known[name](value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{who} option {name} is invalid: {value!r}") from None
    serial_settings = {name: cleaned.pop(name) for name in list(cleaned) if name in SERIAL_OPTIONS}
    return serial_settings, cleaned


class SerialLink:
    """A serial port by name that is reopened when its device comes back. The first open is strict
    (a missing device raises serial.SerialException, which is an OSError); later ones are retried."""

    def __init__(self, port, baudrate=9600, bytesize=8, parity="N", stopbits=1, reconnect_interval=0.5):
        self.port = port
        self.reconnect_interval = reconnect_interval
        self._settings = {"baudrate": baudrate, "bytesize": bytesize, "parity": PARITIES[parity],
                          "stopbits": stopbits}
        self._serial = None
        self._closed = False
        self._next_attempt = 0.0
        self.reconnections = 0  # how many times the device came back; a reader resets its framing on a change
        self._serial = self._open()

    @property
    def connected(self) -> bool:
        return self._serial is not None

    def _open(self):
        return serial.serial_for_url(self.port, **self._settings)

    def _drop(self):
        try:
            self._serial.close()
        except DEVICE_GONE:
            pass
        self._serial = None
        self._next_attempt = time.monotonic()

    def _reconnect(self) -> bool:
        now = time.monotonic()
        if now < self._next_attempt:
            return False
        try:
            self._serial = self._open()
        except (*DEVICE_GONE, ValueError):
            self._next_attempt = now + self.reconnect_interval
            return False
        self.reconnections += 1
        return True

    def read(self, timeout) -> bytes:
        """The bytes that arrive within `timeout` seconds (None: wait until some do), returned as soon
        as there are some; b"" when none came. While the device is away, it is looked for again."""
        if self._closed:
            raise serial.PortNotOpenError()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            if self._serial is None and not self._reconnect():
                if remaining == 0:
                    return b""
                pause = max(self._next_attempt - time.monotonic(), 0.01)
                time.sleep(pause if remaining is None else min(pause, remaining))
                continue
            try:
                self._serial.timeout = remaining
                data = self._serial.read(1)
                if data and self._serial.in_waiting:
                    data += self._serial.read(self._serial.in_waiting)
                return data
            except DEVICE_GONE:
                self._drop()
                if remaining == 0:
                    return b""

    def write(self, data) -> bool:
        """Send `data`; False when the device is away (it is looked for again at the next read)."""
        if self._closed:
            raise serial.PortNotOpenError()
        if self._serial is None and not self._reconnect():
            return False
        try:
            self._serial.write(data)
            self._serial.flush()
            return True
        except DEVICE_GONE:
            self._drop()
            return False

    def discard_input(self):
        """Drop what the device sent and nobody read yet (stale answers before a new request)."""
        if self._serial is not None:
            try:
                self._serial.reset_input_buffer()
            except DEVICE_GONE:
                self._drop()

    def close(self):
        self._closed = True
        if self._serial is not None:
            self._serial.close()
            self._serial = None


class DeviceEnd:
    """The device's end of a serial line, for simulators: an open file descriptor (the master end of
    os.openpty(), left open on close since the caller owns it) or a port name or URL opened here."""

    def __init__(self, port, baudrate=9600):
        self.fd = port if isinstance(port, int) else None
        self.serial = None if self.fd is not None else serial.serial_for_url(port, baudrate=int(baudrate), timeout=0.05)

    def write(self, data):
        if self.serial is not None:
            self.serial.write(data)
            self.serial.flush()
            return
        while data:
            data = data[os.write(self.fd, data):]

    def read(self, timeout) -> bytes:
        """What the driver sent within `timeout` seconds, b"" if nothing (or the line is gone)."""
        if self.serial is not None:
            self.serial.timeout = timeout
            try:
                return self.serial.read(max(1, self.serial.in_waiting))
            except DEVICE_GONE:
                return b""
        try:
            if not select.select([self.fd], [], [], timeout)[0]:
                return b""
            return os.read(self.fd, 256)
        except (OSError, ValueError):  # the pseudo-terminal is closed: nothing comes
            time.sleep(timeout)
            return b""

    def close(self):
        if self.serial is not None:
            self.serial.close()


class FramedReader:
    """The read loop of a card reader on a SerialLink: bytes go to a parser, whose first result is
    returned. A parser has feed(data, now), result(now) (the next CardRead, TagRead or Misread, or
    None; a frame begun but silent for too long becomes a Misread there), stale_in(now) (seconds
    until the frame begun goes stale, None when none is begun) and reset()."""

    def __init__(self, link, parser):
        self._link = link
        self._parser = parser

    @property
    def connected(self) -> bool:
        return self._link.connected

    def read_card(self, timeout):
        deadline = None if timeout is None else time.monotonic() + timeout
        generation = self._link.reconnections
        while True:
            now = time.monotonic()
            result = self._parser.result(now)
            if result is not None:
                return result
            remaining = None if deadline is None else max(deadline - now, 0)
            if remaining == 0:
                return None
            stale_in = self._parser.stale_in(now)
            wait = remaining if stale_in is None else stale_in if remaining is None else min(remaining, stale_in)
            data = self._link.read(wait)
            if self._link.reconnections != generation:  # what came before the device went away is lost
                generation = self._link.reconnections
                self._parser.reset()
            if data:
                self._parser.feed(data, time.monotonic())

    def close(self):
        self._link.close()
