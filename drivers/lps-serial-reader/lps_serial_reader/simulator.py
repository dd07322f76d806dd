"""A magnetic-stripe reader played in software: what the driver's tests (and `lps drivers --probe`
on a bench) read from, over a pseudo-terminal pair or a null-modem cable."""
from zope.interface import implementer

from lps_core.contract import IDeviceSimulator

from lps_serial_reader.link import DeviceEnd
from lps_serial_reader.reader import lrc_character

TRACK_OPTIONS = {"expiry": "2912", "service_code": "101", "discretionary": "", "holder": None, "line_end": "\r\n",
                 "lrc": True}


def track_frame(track: int, data: str, lrc: bool = True) -> str:
    """A track as a reader sends it: start sentinel, data, end sentinel, and its LRC character."""
    frame = ("%" if track == 1 else ";") + data + "?"
    return frame + (lrc_character(track, frame) if lrc else "")


@implementer(IDeviceSimulator)
class MagstripeSimulator:
    """Sends one line per swipe, as a reader in ASCII mode does: the track-1 frame
    `%B<card number>^<holder>^<expiry YYMM><service code><discretionary>?` when the card has a
    holder's name, the track-2 frame `;<card number>=<expiry><service code><discretionary>?`, each
    followed by its LRC character (unless lrc=False), then the line end.

    `port` is a file descriptor (the master end of os.openpty(), left open on close, since the
    caller owns it) or a serial port name or pyserial URL, opened here at `baudrate`."""

    def __init__(self, port, baudrate=9600, **options):
        unknown = sorted(set(options) - set(TRACK_OPTIONS))
        if unknown:
            raise ValueError(f"unknown magstripe simulator option(s): {', '.join(unknown)}")
        self.track = {**TRACK_OPTIONS, **options}
        self._end = DeviceEnd(port, baudrate)

    def swipe_line(self, card_no) -> bytes:
        track = self.track
        tail = f"{track['expiry']}{track['service_code']}{track['discretionary']}"
        line = track_frame(2, f"{card_no}={tail}", track["lrc"])
        if track["holder"]:
            line = track_frame(1, f"B{card_no}^{track['holder']}^{tail}", track["lrc"]) + line
        return (line + track["line_end"]).encode("ascii")

    def present(self, card_no):
        self.send_raw(self.swipe_line(card_no))

    def send_raw(self, data):
        self._end.write(data)

    def close(self):
        self._end.close()
