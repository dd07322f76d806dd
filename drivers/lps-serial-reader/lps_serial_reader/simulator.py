"""A magnetic-stripe reader played in software: what the driver's tests (and `lps drivers --probe`
on a bench) read from, over a pseudo-terminal pair or a null-modem cable."""
import os

import serial
from zope.interface import implementer

from lps_core.contract import IDeviceSimulator

TRACK_OPTIONS = {"expiry": "2912", "service_code": "101", "holder": None, "line_end": "\r\n"}


@implementer(IDeviceSimulator)
class MagstripeSimulator:
    """Sends one line per swipe, as a reader in ASCII mode does: the track-2 frame
    `;<card number>=<expiry YYMM><service code>?`, after a track-1 frame `%B...?` when the card
    has a holder's name, then the line end.

    `port` is a file descriptor (the master end of os.openpty(), left open on close, since the
    caller owns it) or a serial port name or pyserial URL, opened here at `baudrate`."""

    def __init__(self, port, baudrate=9600, **options):
        unknown = sorted(set(options) - set(TRACK_OPTIONS))
        if unknown:
            raise ValueError(f"unknown magstripe simulator option(s): {', '.join(unknown)}")
        self.track = {**TRACK_OPTIONS, **options}
        self._fd = port if isinstance(port, int) else None
        self._serial = None if self._fd is not None else serial.serial_for_url(port, baudrate=int(baudrate))

    def swipe_line(self, card_no) -> bytes:
        track = self.track
        line = f";{card_no}={track['expiry']}{track['service_code']}?"
        if track["holder"]:
            line = f"%B{card_no}^{track['holder']}^{track['expiry']}{track['service_code']}?" + line
        return (line + track["line_end"]).encode("ascii")

    def present(self, card_no):
        self.send_raw(self.swipe_line(card_no))

    def send_raw(self, data):
        if self._serial is not None:
            self._serial.write(data)
            self._serial.flush()
            return
        while data:
            data = data[os.write(self._fd, data):]

    def close(self):
        if self._serial is not None:
            self._serial.close()
