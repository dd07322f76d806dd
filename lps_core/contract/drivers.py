"""Card-reader drivers and the device simulators their tests run against."""
from zope.interface import Attribute, Interface


class CardMisread(ValueError):
    """A card was presented but could not be read (bad parity, LRC, a half frame): ask again."""


class ICardReaderDriver(Interface):
    """A kind of card reader, e.g. a magnetic-stripe reader on a serial port."""

    name = Attribute("Unique driver name, e.g. 'serial_magstripe'")
    def open(**options):
        """Open a device (options such as port and baudrate) and return an ICardReader."""


class ICardReader(Interface):
    """An open card reader."""

    def read_card(timeout):
        """Block up to `timeout` seconds; return the card number read, or None if none was presented.
        Raise CardMisread when a card was presented but misread, so the terminal can ask again."""

    def close():
        """Release the device."""


class IDeviceSimulator(Interface):
    """Plays a device on the other end of a serial line."""

    def present(card_no):
        """Send the bytes the device sends when the card `card_no` is swiped or tapped."""

    def send_raw(data):
        """Send raw bytes (garbage, half frames), to test how the driver copes."""

    def close():
        """Release the port."""
