"""A 125 kHz RFID reader played in software, over a pseudo-terminal pair or a null-modem cable."""
from zope.interface import implementer

from lps_core.contract import IDeviceSimulator
from lps_serial_reader.link import DeviceEnd

from lps_rfid_reader.frames import frame_of


@implementer(IDeviceSimulator)
class RfidReaderSimulator:
    """Sends the frame of a tag each time it is presented, `repeat` times in a row as a reader does
    while the tag is held in the field (repeat=1: a quick tap).

    `port` is a file descriptor (the master end of os.openpty(), left open on close) or a serial
    port name or pyserial URL, opened here at `baudrate`."""

    def __init__(self, port, baudrate=9600, repeat=1):
        self.repeat = int(repeat)
        self._end = DeviceEnd(port, baudrate)

    def present(self, card_no):
        """Present the tag whose id is `card_no` (10 hex digits)."""
        self.send_raw(frame_of(card_no) * self.repeat)

    def send_raw(self, data):
        self._end.write(data)

    def close(self):
        self._end.close()
