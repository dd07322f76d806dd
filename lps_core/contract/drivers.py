"""Card-reader drivers and the device simulators their tests run against.

A driver opens a device and reads one card at a time from it; its simulator plays the device on
the other end of a serial line (a pseudo-terminal pair in tests, a null-modem cable on a bench),
sending the bytes the real device sends, so that a driver is tested without the hardware.

What a read gives is a value, never an exception: a CardRead (a card number, from a magnetic stripe
or a keyboard-style reader), a TagRead (the id of an RFID/NFC tag, which LPS maps to the card it
is registered on), a Misread (a card was presented but could not be read: the till asks again), or
None (nothing was presented in time). A misread is thus never mistaken for a card number, and a
terminal handles all four in one place."""
from dataclasses import dataclass

from zope.interface import Attribute, Interface


@dataclass(frozen=True)
class CardRead:
    """A card number read from a card. `track` is the magnetic-stripe track it came from (1 or 2),
    None for a reader that sends plain digits."""

    card_no: str
    track: int | None = None


@dataclass(frozen=True)
class TagRead:
    """The id of an RFID/NFC tag, in the form the driver documents (e.g. 10 upper-case hex digits).
    It is no card number: LPS finds the card whose registered tag id it is (cards.tag_id)."""

    tag_id: str


@dataclass(frozen=True)
class Misread:
    """A card was presented but could not be read (a wrong LRC or checksum, a half frame, a
    character a track cannot hold, a wrong check digit): ask for it again. `reason` is one sentence
    for the cashier and the log; it never holds the card's data."""

    reason: str


class ICardReaderDriver(Interface):
    """A kind of card reader, e.g. a magnetic-stripe reader on a serial port."""

    name = Attribute("Unique driver name, e.g. 'serial_magstripe'")
    description = Attribute("One line for hotel IT: the devices it reads, e.g. 'Magnetic-stripe readers on a "
                            "serial port'")

    def open(**options):
        """Open a device (options such as port and baudrate) and return an ICardReader. Raise
        ValueError naming a bad option; OSError (serial.SerialException) when the device is missing."""

    def simulator(port, **options):
        """Return an IDeviceSimulator that plays this driver's device on `port`: a serial port name
        or pyserial URL, or an open file descriptor such as the master end of os.openpty(), whose
        slave end the driver opens."""


class ICardReader(Interface):
    """An open card reader."""

    connected = Attribute("False while the device is unplugged (the reader keeps trying to reopen it)")

    def read_card(timeout):
        """Block up to `timeout` seconds (None: until something happens); return a CardRead or a
        TagRead, a Misread when a card was presented but misread, or None when nothing was read in
        time. A device unplugged meanwhile is reopened at the same port when it comes back."""

    def close():
        """Release the device."""


class IDeviceSimulator(Interface):
    """Plays a device on the other end of a serial line."""

    def present(card_no):
        """Send the bytes the device sends when the card `card_no` (or the tag id, for a tag reader)
        is swiped or tapped."""

    def send_raw(data):
        """Send raw bytes (garbage, half frames), to test how the driver copes."""

    def close():
        """Release the port."""
