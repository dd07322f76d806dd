"""PIN pads: the PIN is typed on the device, in the guest's hand, and never on the till's screen.

LPS asks the pad for a PIN entry for a card; the pad answers with a PIN block, never with the PIN
digits, or says why no PIN was entered. The PIN block (ISO 9564-1 format 0: the PIN field XORed
with the card number) is handed to the caller, which checks it against the card's PIN hash
(lps_core.cards.pins.verify_pin_block) inside the request that uses the card. Nothing here logs,
prints or keeps the PIN: a PinBlock's repr and str hide its bytes, and the PIN decoded from it
lives only as long as the check."""
from dataclasses import dataclass

from zope.interface import Attribute, Interface

PIN_BLOCK_BYTES = 8
MIN_PIN_LENGTH, MAX_PIN_LENGTH = 4, 12  # what ISO 9564 allows

# Why a PIN entry gave no PIN block (PinNotEntered.reason)
CANCELLED = "cancelled"  # the guest pressed Cancel on the pad
TIMED_OUT = "timeout"  # the pad waited for the guest's keys and gave up, or the pad did not answer in time
GARBLED = "garbled"  # the pad's answer was damaged on the line (a wrong LRC, a half frame)
REFUSED = "refused"  # the pad refused the request (busy, or a request it cannot carry out)
UNAVAILABLE = "unavailable"  # the pad did not take the request: unplugged, switched off, or not answering


def _pan_field(card_no: str) -> bytes:
    """The PAN field of format 0: 0000 and the 12 rightmost digits of the card number without its
    check digit."""
    digits = str(card_no)
    if not digits.isdigit() or len(digits) < 13:
        raise ValueError("a format-0 PIN block needs a card number of at least 13 digits")
    return bytes.fromhex("0000" + digits[:-1][-12:])


@dataclass(frozen=True, repr=False)
class PinBlock:
    """An ISO 9564-1 format-0 PIN block: 8 bytes, `PIN field XOR PAN field`. The PIN can only be
    read back with the card number it was made for (pin_for)."""

    block: bytes

    def __post_init__(self):
        if not isinstance(self.block, bytes) or len(self.block) != PIN_BLOCK_BYTES:
            raise ValueError(f"a PIN block is {PIN_BLOCK_BYTES} bytes")

    @classmethod
    def format_0(cls, pin: str, card_no: str) -> "PinBlock":
        """The PIN block of `pin` for the card `card_no`, as a pad makes it. Only the 12 digits before
        the check digit are used, so a pad that was sent those 12 digits passes them with any digit
        appended."""
        if not (isinstance(pin, str) and pin.isdigit() and MIN_PIN_LENGTH <= len(pin) <= MAX_PIN_LENGTH):
            raise ValueError(f"a PIN is {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} digits")
        pin_field = bytes.fromhex(f"0{len(pin):X}{pin}".ljust(16, "F"))
        return cls(bytes(a ^ b for a, b in zip(pin_field, _pan_field(card_no))))

    def pin_for(self, card_no: str) -> str:
        """The PIN, given the card number the block was made for; ValueError when the block does not
        decode as a format-0 block for that card (another card's block, or a damaged one)."""
        pin_field = bytes(a ^ b for a, b in zip(self.block, _pan_field(card_no))).hex().upper()
        length = int(pin_field[1], 16)
        digits, padding = pin_field[2:2 + length], pin_field[2 + length:]
        if pin_field[0] != "0" or not MIN_PIN_LENGTH <= length <= MAX_PIN_LENGTH or not digits.isdigit() \
                or padding != "F" * len(padding):
            raise ValueError("the PIN block is not a format-0 block for this card")
        return digits

    def __repr__(self):
        return "PinBlock(<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class PinNotEntered:
    """A PIN entry that gave no PIN block: `reason` is one of CANCELLED, TIMED_OUT, GARBLED,
    REFUSED, UNAVAILABLE; `detail` one sentence for the cashier (never a PIN digit)."""

    reason: str
    detail: str = ""


class IPinPadDriver(Interface):
    """A kind of PIN pad, e.g. a pad on a serial port speaking a given protocol."""

    name = Attribute("Unique driver name, e.g. 'serial_pinpad'")
    description = Attribute("One line for hotel IT: the pads it drives")

    def open(**options):
        """Open a pad (options such as port and baudrate) and return an IPinPad. Raise ValueError
        naming a bad option; OSError (serial.SerialException) when the device is missing."""

    def simulator(port, **options):
        """Return an IPinPadSimulator that plays this driver's pad on `port` (a port name or pyserial
        URL, or an open file descriptor such as the master end of os.openpty())."""


class IPinPad(Interface):
    """An open PIN pad."""

    connected = Attribute("False while the pad is unplugged (it is reopened at the same port when it is back)")

    def identify(timeout):
        """The pad's model and firmware as it reports them (a str), or None if it does not answer
        within `timeout` seconds."""

    def request_pin(card_no, timeout, min_length=4, max_length=6):
        """Ask the guest to type the PIN of card `card_no` on the pad, waiting up to `timeout`
        seconds; return a PinBlock, or a PinNotEntered saying why there is none. Never raises for
        what the guest or the line does."""

    def close():
        """Release the pad."""


class IPinPadSimulator(Interface):
    """Plays a PIN pad and the guest in front of it, on the other end of a serial line."""

    def enter(pin):
        """The guest types `pin` at the next request for a PIN (or the one waiting)."""

    def cancel():
        """The guest presses Cancel at the next request for a PIN (or the one waiting)."""

    def send_raw(data):
        """Send raw bytes (garbage, half frames), to test how the driver copes."""

    def close():
        """Stop playing and release the port."""
