"""The frames of a 125 kHz RFID reader (EM4100 / TK4100 tags) in its serial ASCII mode.

Each tag read is one 16-byte frame:

    STX (0x02) | 10 ASCII hex digits: the tag's 5 bytes | 2 ASCII hex digits: checksum | CR LF | ETX (0x03)

The checksum is the XOR of the 5 bytes of the id; hex digits may be upper or lower case. Many
readers send the frame again and again while the tag is held in the field. Bytes outside a frame
(noise on the line when the reader powers up) are ignored; a frame whose content is wrong, that is
cut short by the next STX, or that stays unfinished for `gap` seconds is a Misread."""
import re
from collections import deque

from lps_core.contract import Misread, TagRead

STX, ETX = b"\x02", b"\x03"
FRAME_BODY = re.compile(rb"([0-9A-Fa-f]{10})([0-9A-Fa-f]{2})\r\n")
MAX_FRAME_BYTES = 32


def checksum(tag_bytes: bytes) -> int:
    value = 0
    for byte in tag_bytes:
        value ^= byte
    return value


def frame_of(tag_id: str) -> bytes:
    """The frame a reader sends for the tag `tag_id` (10 hex digits)."""
    tag_bytes = bytes.fromhex(tag_id)
    if len(tag_bytes) != 5:
        raise ValueError("a tag id is 10 hex digits")
    return STX + tag_id.upper().encode("ascii") + b"%02X\r\n" % checksum(tag_bytes) + ETX


def tag_id_of(body: bytes, tag_format: str):
    """A TagRead or a Misread for what came between STX and ETX."""
    match = FRAME_BODY.fullmatch(body)
    if match is None:
        return Misread("the tag reader sent a damaged frame: please present the card again")
    tag_bytes = bytes.fromhex(match.group(1).decode("ascii"))
    if checksum(tag_bytes) != int(match.group(2), 16):
        return Misread("the tag's checksum is wrong: please present the card again")
    if tag_format == "decimal":  # the 10-digit number printed on many cards: the last 4 bytes in decimal
        return TagRead(f"{int.from_bytes(tag_bytes[1:], 'big'):010d}")
    return TagRead(tag_bytes.hex().upper())


class TagFrameParser:
    """Finds the frames in the byte stream; a tag read again within `repeat_interval` seconds of its
    last frame (held in the field) gives one TagRead."""

    def __init__(self, tag_format="hex", gap=0.3, repeat_interval=1.5):
        self._tag_format = tag_format
        self._gap = gap
        self._repeat_interval = repeat_interval
        self._frame = None  # bytes after an STX, or None outside a frame
        self._last_byte_at = None
        self._last_tag = (None, float("-inf"))  # (tag id, when last seen)
        self._results = deque()

    def feed(self, data, now):
        self._last_byte_at = now
        for byte in data:
            byte = bytes((byte,))
            if byte == STX:
                if self._frame is not None:
                    self._results.append(Misread("half a tag frame came: please present the card again"))
                self._frame = b""
            elif self._frame is None:
                continue  # noise between frames
            elif byte == ETX:
                self._found(tag_id_of(self._frame, self._tag_format), now)
                self._frame = None
            else:
                self._frame += byte
                if len(self._frame) > MAX_FRAME_BYTES:
                    self._frame = None
                    self._results.append(Misread("the tag reader sent a damaged frame: please present the card again"))

    def _found(self, read, now):
        if isinstance(read, TagRead):
            last_tag, last_seen = self._last_tag
            self._last_tag = (read.tag_id, now)
            if read.tag_id == last_tag and now - last_seen < self._repeat_interval:
                return
        self._results.append(read)

    def stale_in(self, now):
        if self._frame is None:
            return None
        return max(self._last_byte_at + self._gap - now, 0)

    def result(self, now):
        if not self._results and self.stale_in(now) == 0:
            self._frame = None
            self._results.append(Misread("half a tag frame came: please present the card again"))
        return self._results.popleft() if self._results else None

    def reset(self):
        self._frame = None
        self._results.clear()
