"""A card-reader driver for magnetic-stripe and keyboard-style readers on a serial port (pyserial).

The driver is named "serial_magstripe". `open()` takes these options (values may be strings, as
they come from an ini file or the command line):
- port: the device, e.g. "/dev/ttyUSB0" or "COM3", or a pyserial URL such as "socket://host:4001"
  for a reader behind a serial-to-network adapter (required);
- baudrate: default 9600; bytesize: 5 to 8, default 8; parity: "N", "E", "O", "M" or "S",
  default "N"; stopbits: 1, 1.5 or 2, default 1.

A reader sends one line per card, ended by CR, LF or CR LF. The line is either the track-2 frame of
a magnetic stripe, `;<card number>=<expiry and other data>?` (a track-1 frame `%...?` before it is
ignored), or the card number as plain digits, as typed by a keyboard-style or barcode reader.
A card number whose Luhn check digit is wrong, or a line that holds no card number, raises
contract.CardMisread, so the terminal can ask for the card again; data left over from before
`open()` is discarded. `simulator()` plays such a reader (lps_serial_reader.simulator).
"""
import serial
from zope.interface import implementer

from lps_core.contract import ICardReaderDriver, hookimpl

from lps_serial_reader.reader import SerialCardReader
from lps_serial_reader.simulator import MagstripeSimulator

OPTION_TYPES = {"port": str, "baudrate": int, "bytesize": int, "parity": str, "stopbits": float}


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


@implementer(ICardReaderDriver)
class SerialMagstripeDriver:
    name = "serial_magstripe"
    description = "Magnetic-stripe (track 2) and keyboard-style card readers on a serial port"

    def open(self, **options):
        cleaned = _options(options)
        port = serial.serial_for_url(cleaned.pop("port"), **cleaned)
        port.reset_input_buffer()
        return SerialCardReader(port)

    def simulator(self, port, **options):
        return MagstripeSimulator(port, **options)


@hookimpl
def lps_card_readers():
    return [SerialMagstripeDriver()]
