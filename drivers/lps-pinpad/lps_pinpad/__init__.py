"""A PIN-pad driver: PIN entry on a serial PIN pad speaking LPS-PAD/1 (lps_pinpad.protocol).

The driver is named "serial_pinpad". The guest types the PIN on the pad; LPS gets an ISO 9564-1
format-0 PIN block (contract.PinBlock), which the caller checks against the card's PIN hash
(lps_core.cards.pins.verify_pin_block). `open()` takes these options (values may be strings):
- port, baudrate (9600), bytesize (8), parity ("N"), stopbits (1), reconnect_interval (0.5), as
  for every serial driver of LPS (lps_serial_reader.link);
- ack_timeout: seconds to wait for the pad's ACK before sending a frame again (0.5).
"""
from zope.interface import implementer

from lps_core.contract import IPinPadDriver, hookimpl
from lps_serial_reader.link import SerialLink, parse_options

from lps_pinpad.pad import SerialPinPad
from lps_pinpad.simulator import PinPadSimulator


def _ack_timeout(value):
    seconds = float(value)
    if not 0.05 <= seconds <= 10:
        raise ValueError
    return seconds


@implementer(IPinPadDriver)
class SerialPinPadDriver:
    name = "serial_pinpad"
    description = "PIN pads on a serial port speaking LPS-PAD/1 (ISO 9564 format-0 PIN blocks)"

    def open(self, **options):
        settings, own = parse_options(options, {"ack_timeout": _ack_timeout}, {"ack_timeout": 0.5}, who="PIN pad")
        return SerialPinPad(SerialLink(**settings), **own)

    def simulator(self, port, **options):
        return PinPadSimulator(port, **options)


@hookimpl
def lps_pin_pads():
    return [SerialPinPadDriver()]
