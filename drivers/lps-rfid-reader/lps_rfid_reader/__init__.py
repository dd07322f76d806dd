"""A card-reader driver for 125 kHz RFID readers that send STX/ETX ASCII frames on a serial port.

The driver is named "serial_rfid". A tap gives a contract.TagRead: the tag's id, which LPS maps to
the card it is registered on (cards.tag_id), not a card number. The frame is documented in
lps_rfid_reader.frames and in this distribution's README. `open()` takes these options (values may
be strings):
- port, baudrate (9600), bytesize (8), parity ("N"), stopbits (1), reconnect_interval (0.5), as
  for every serial driver of LPS (lps_serial_reader.link);
- tag_format: "hex" (default: the 10 hex digits of the frame, upper case) or "decimal" (the last
  4 bytes as the 10-digit decimal number printed on many cards);
- repeat_interval: seconds within which the same tag read again counts once (1.5);
- gap: seconds after which a frame begun but not finished is a misread (0.3).
"""
from zope.interface import implementer

from lps_core.contract import ICardReader, ICardReaderDriver, hookimpl
from lps_serial_reader.link import FramedReader, SerialLink, parse_options

from lps_rfid_reader.frames import TagFrameParser
from lps_rfid_reader.simulator import RfidReaderSimulator


def _tag_format(value):
    if value not in ("hex", "decimal"):
        raise ValueError
    return value


def _seconds(lowest):
    def convert(value):
        seconds = float(value)
        if not lowest <= seconds <= 60:
            raise ValueError
        return seconds
    return convert


RFID_OPTIONS = {"tag_format": _tag_format, "repeat_interval": _seconds(0), "gap": _seconds(0.01)}
RFID_DEFAULTS = {"tag_format": "hex", "repeat_interval": 1.5, "gap": 0.3}


@implementer(ICardReader)
class RfidReader(FramedReader):
    """An open RFID reader: one TagRead or Misread per tap."""


@implementer(ICardReaderDriver)
class SerialRfidDriver:
    name = "serial_rfid"
    description = "125 kHz RFID readers sending STX/ETX ASCII frames (10 hex digits, XOR checksum) on a serial port"

    def open(self, **options):
        settings, own = parse_options(options, RFID_OPTIONS, RFID_DEFAULTS, who="RFID reader")
        return RfidReader(SerialLink(**settings), TagFrameParser(**own))

    def simulator(self, port, **options):
        return RfidReaderSimulator(port, **options)


@hookimpl
def lps_card_readers():
    return [SerialRfidDriver()]
