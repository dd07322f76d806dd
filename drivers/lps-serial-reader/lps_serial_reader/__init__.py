"""A card-reader driver for magnetic-stripe and keyboard-style readers on a serial port (pyserial).

The driver is named "serial_magstripe". `open()` takes these options (values may be strings, as
they come from an ini file or the command line):
- port: the device, e.g. "/dev/ttyUSB0", a udev symlink, "COM3", or a pyserial URL such as
  "socket://host:4001" for a reader behind a serial-to-network adapter (required);
- baudrate (9600), bytesize (5-8, 8), parity ("N", "E", "O", "M", "S"; "N"), stopbits (1, 1.5, 2; 1);
- track: "2" (default), "1", "3" or "any" (track 2, else track 1): where the card number is;
- field: "pan" (default), "slice:START:END" or "regex:PATTERN": which part of the track it is;
- check_digit: "luhn" (default) or "none";
- lrc: "yes" (default: each track's LRC character follows its end sentinel and is checked) or "no"
  (the reader checks and strips it);
- gap: seconds of silence that end a swipe sent without a line end, or a half swipe (0.3);
- reconnect_interval: seconds between tries to reopen a device that was unplugged (0.5).

read_card() returns a contract.CardRead, a contract.Misread, or None; lps_serial_reader.reader
decodes the tracks, lps_serial_reader.link keeps the port open across unplugging, and `simulator()`
plays such a reader (lps_serial_reader.simulator).
"""
import re

from zope.interface import implementer

from lps_core.contract import ICardReader, ICardReaderDriver, hookimpl

from lps_serial_reader.link import FramedReader, SerialLink, parse_options
from lps_serial_reader.reader import FieldExtractor, SwipeParser
from lps_serial_reader.simulator import MagstripeSimulator

YES, NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")


def _choice(*choices):
    def convert(value):
        if str(value) not in choices:
            raise ValueError
        return str(value)
    return convert


def _field(value):
    value = str(value)
    if value == "pan":
        return value
    if value.startswith("slice:"):
        start, colon, end = value[len("slice:"):].partition(":")
        if not colon or not all(part == "" or part.lstrip("-").isdigit() for part in (start, end)):
            raise ValueError
        return value
    if value.startswith("regex:"):
        try:
            re.compile(value[len("regex:"):])
        except re.error:
            raise ValueError from None
        return value
    raise ValueError


def flag(value) -> bool:
    text = str(value).lower()
    if text not in YES + NO:
        raise ValueError
    return text in YES


def _gap(value):
    seconds = float(value)
    if not 0.01 <= seconds <= 10:
        raise ValueError
    return seconds


MAGSTRIPE_OPTIONS = {"track": _choice("1", "2", "3", "any"), "field": _field, "check_digit": _choice("luhn", "none"),
                     "lrc": flag, "gap": _gap}
MAGSTRIPE_DEFAULTS = {"track": "2", "field": "pan", "check_digit": "luhn", "lrc": True, "gap": 0.3}


@implementer(ICardReader)
class MagstripeReader(FramedReader):
    """An open magnetic-stripe reader: one CardRead or Misread per swipe."""


@implementer(ICardReaderDriver)
class SerialMagstripeDriver:
    name = "serial_magstripe"
    description = "Magnetic-stripe (ISO 7813 tracks 1 and 2) and keyboard-style card readers on a serial port"

    def open(self, **options):
        settings, own = parse_options(options, MAGSTRIPE_OPTIONS, MAGSTRIPE_DEFAULTS, who="magstripe reader")
        extractor = FieldExtractor(track=own["track"], field=own["field"], check_digit=own["check_digit"],
                                   lrc=own["lrc"])
        return MagstripeReader(SerialLink(**settings), SwipeParser(extractor, own["gap"]))

    def simulator(self, port, **options):
        return MagstripeSimulator(port, **options)


@hookimpl
def lps_card_readers():
    return [SerialMagstripeDriver()]
