"""Magnetic-stripe swipes as a serial reader sends them (ISO/IEC 7813 tracks 1 and 2), decoded.

A reader in ASCII mode sends each swipe as the tracks it read, one after the other, then a line end
(CR, LF or CR LF; a reader that sends none is understood after `gap` seconds of silence):

- track 1 (format B, 6-bit characters 0x20-0x5F): `%B<card number>^<NAME>^<YYMM><service code><discretionary>?`
- track 2 (4-bit BCD characters 0x30-0x3F, "0"-"9" ":" ";" "<" "=" ">" "?"): `;<card number>=<YYMM><service code><discretionary>?`
- track 3 (if the reader reads it) like track 2, after it.

`%` and `;` are the start sentinels, `?` the end sentinel; after it comes the track's LRC character
(the XOR of the 6- or 4-bit values of every character from the start sentinel to the end
sentinel), unless the reader is set to check and strip it (option lrc=no). A track the reader could
not read comes as `%E?` or `;E?`. A keyboard-style or barcode reader sends the card number as plain
digits.

What the driver returns is a CardRead, or a Misread saying what was wrong (never the card's data):
a character a track cannot hold (a parity error), a wrong LRC, a missing end sentinel (half a
swipe), the configured track missing, no card number in the configured field, a wrong check digit."""
import re
from collections import deque

from lps_core.contract import CardRead, Misread, luhn_valid

START_SENTINELS = {"%": 1, ";": 2}
END_SENTINEL = "?"
CHARSETS = {1: (0x20, 0x5F), 2: (0x30, 0x3F), 3: (0x30, 0x3F)}  # track -> (lowest, highest) ASCII
MAX_LENGTHS = {1: 79, 2: 40, 3: 107}  # characters from the start to the end sentinel (ISO/IEC 7811)
PLAIN_DIGITS = re.compile(r"\d{2,19}")
CARD_NUMBER = re.compile(r"\d{2,32}")
LINE_END = re.compile(rb"[\r\n]")
MAX_LINE_BYTES = 512
UNREADABLE = "unreadable card data, please swipe the card again"


def lrc_character(track: int, frame: str) -> str:
    """The LRC character of a track's frame (start sentinel to end sentinel included)."""
    low = CHARSETS[track][0]
    value = 0
    for character in frame:
        value ^= ord(character) - low
    return chr(value + low)


class TrackProblem(str):
    """Why a track could not be used (a str, so it reads as the Misread's reason)."""


def _check_track(track, frame, lrc):
    """The data of a track's frame (sentinels removed), or a TrackProblem."""
    low, high = CHARSETS[track]
    if len(frame) > MAX_LENGTHS[track] or any(not low <= ord(character) <= high for character in frame):
        return TrackProblem(f"track {track} holds a character it cannot hold (a parity error): please swipe again")
    if lrc is not None and (not low <= ord(lrc) <= high or lrc != lrc_character(track, frame)):
        return TrackProblem(f"track {track} fails its LRC check: please swipe the card again")
    return frame[1:-1]


def split_tracks(text: str, with_lrc: bool) -> dict | None:
    """{track number: its data or a TrackProblem} of a swipe, or None when the text is not a swipe."""
    tracks, position = {}, 0
    while position < len(text):
        sentinel = text[position]
        if sentinel not in START_SENTINELS:
            return None
        track = START_SENTINELS[sentinel]
        track = 3 if track == 2 and 2 in tracks else track
        end = text.find(END_SENTINEL, position + 1)
        if end < 0:
            tracks[track] = TrackProblem(f"track {track} has no end sentinel (half a swipe): please swipe again")
            return tracks
        frame = text[position:end + 1]
        position = end + 1
        if frame[1:-1] == "E":  # the reader's own word that it could not read the track
            tracks[track] = TrackProblem(f"the reader could not read track {track}: please swipe the card again")
            if with_lrc and position < len(text) and text[position] not in START_SENTINELS:
                position += 1
            continue
        lrc = None
        if with_lrc:
            if position >= len(text):
                tracks[track] = TrackProblem(f"track {track} has no LRC character: please swipe again")
                return tracks
            lrc, position = text[position], position + 1
        tracks[track] = _check_track(track, frame, lrc)
    return tracks


def _pan(track, data):
    if track == 1:
        if not data.startswith("B") or "^" not in data:
            return None
        return data[1:data.index("^")]
    return data.split("=", 1)[0]


class FieldExtractor:
    """Which track, and which part of it, is the card number.

    `track`: 1, 2, 3 or "any" (track 2, else track 1); `field`: "pan" (the primary account number,
    before `^` on track 1 or `=` on track 2), "slice:START:END" (characters of the track's data,
    counted from 0 after the start sentinel, END excluded) or "regex:PATTERN" (the group named
    `card`, else the first group, else the whole match); `check_digit`: "luhn" or "none"."""

    def __init__(self, track="2", field="pan", check_digit="luhn", lrc=True):
        self.tracks = (2, 1) if track == "any" else (int(track),)
        self.field = field
        self.check_digit = check_digit
        self.lrc = lrc
        self._slice = self._pattern = None
        if field.startswith("slice:"):
            start, _, end = field[len("slice:"):].partition(":")
            self._slice = slice(int(start) if start else None, int(end) if end else None)
        elif field.startswith("regex:"):
            self._pattern = re.compile(field[len("regex:"):])

    def card_from_line(self, line: bytes):
        """A CardRead or a Misread for one swipe as the reader sent it."""
        text = line.decode("latin-1").strip()
        if PLAIN_DIGITS.fullmatch(text):
            return self._checked(text, None)
        tracks = split_tracks(text, self.lrc)
        if not tracks:
            return Misread(UNREADABLE)
        for track in self.tracks:
            if track in tracks:
                data = tracks[track]
                if isinstance(data, TrackProblem):
                    return Misread(str(data))
                number = self._extract(track, data)
                if number is None or not CARD_NUMBER.fullmatch(number):
                    return Misread(f"track {track} holds no card number where the reader is set to find it")
                return self._checked(number, track)
        wanted = " or ".join(str(track) for track in self.tracks)
        return Misread(f"the swipe has no track {wanted}: please swipe the card again")

    def _extract(self, track, data):
        if self._slice is not None:
            return data[self._slice]
        if self._pattern is not None:
            match = self._pattern.search(data)
            if match is None:
                return None
            if "card" in self._pattern.groupindex:
                return match.group("card")
            return match.group(1) if self._pattern.groups else match.group(0)
        return _pan(track, data)

    def _checked(self, number, track):
        if self.check_digit == "luhn" and not luhn_valid(number):
            return Misread("the card number fails its check digit: please swipe the card again")
        return CardRead(number, track)


class SwipeParser:
    """Cuts the byte stream into swipes: at a line end, or after `gap` seconds of silence."""

    def __init__(self, extractor, gap):
        self._extractor = extractor
        self._gap = gap
        self._pending = b""
        self._last_byte_at = None
        self._results = deque()

    def feed(self, data, now):
        self._pending += data
        self._last_byte_at = now
        while (match := LINE_END.search(self._pending)) is not None:
            line, self._pending = self._pending[:match.start()], self._pending[match.end():]
            if line.strip():
                self._results.append(self._extractor.card_from_line(line))
        if len(self._pending) > MAX_LINE_BYTES:
            self._pending = b""
            self._results.append(Misread("the reader sent more than a card holds: please swipe the card again"))

    def stale_in(self, now):
        if not self._pending.strip():
            return None
        return max(self._last_byte_at + self._gap - now, 0)

    def result(self, now):
        if not self._results and self.stale_in(now) == 0:
            line, self._pending = self._pending, b""
            self._results.append(self._extractor.card_from_line(line))
        return self._results.popleft() if self._results else None

    def reset(self):
        self._pending = b""
        self._results.clear()
