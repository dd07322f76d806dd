"""Card-reader drivers and the device simulators their tests run against.

A driver opens a device and reads one card at a time from it; its simulator plays the device on
the other end of a serial line (a pseudo-terminal pair in tests, a null-modem cable on a bench),
sending the bytes the real device sends, so that a driver is tested without the hardware."""
from zope.interface import Attribute, Interface


class CardMisread(ValueError):
    """A card was presented but could not be read (bad parity, LRC, a half frame): ask again."""


class ICardReaderDriver(Interface):
    """A kind of card reader, e.g. a magnetic-stripe reader on a serial port."""

    name = Attribute("Unique driver name, e.g. 'serial_magstripe'")
    description = Attribute("One line for hotel IT: the devices it reads, e.g. 'Magnetic-stripe readers on a "
                            "serial port'")

    def open(**options):
        """Open a device (options such as port and baudrate) and return an ICardReader."""

    def simulator(port, **options):
        """Return an IDeviceSimulator that plays this driver's device on `port`: a serial port name
        or pyserial URL, or an open file descriptor such as the master end of os.openpty(), whose
        slave end the driver opens."""


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
