"""LPS-PAD/1: the serial protocol between LPS and a PIN pad (documented in this distribution's README).

Every message travels in a frame: STX (0x02), the message in printable ASCII, ETX (0x03), and the LRC
byte, the XOR of every byte after STX up to and including ETX. The receiver answers a good frame
with ACK (0x06) and a damaged one (a wrong LRC, a frame cut short by the next STX) with NAK (0x15);
the sender sends a frame again when it gets a NAK or no ACK within the ACK timeout, up to 3 times.

Messages from LPS to the pad (<seq> is one digit, 0-9, new for each PIN entry):
    I                               identify yourself
    P<seq><min><max><secs><pan12>   PIN entry: min and max PIN length (2 digits each), how long the
                                    guest has (3 digits, seconds), and the 12 rightmost digits of the
                                    card number without its check digit (the format-0 PAN field)
    X<seq>                          abort the PIN entry under way (the till gave up)
Messages from the pad to LPS:
    i<model>;<firmware>             the answer to I
    p<seq><16 hex digits>           the PIN block (ISO 9564-1 format 0) of the PIN the guest typed
    c<seq>                          the guest pressed Cancel
    t<seq>                          the guest typed nothing within the time given
    r<seq><reason>                  the pad refuses the request (busy, malformed)
A PIN entry sent again with the same <seq> (its ACK was lost) is one entry: the pad goes on with it,
or sends its answer again if it has answered. An answer with another <seq> than the entry's belongs
to an abandoned entry: LPS ACKs and drops it.
"""
STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15
MAX_MESSAGE_BYTES = 64
RETRIES = 3


def lrc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode(message: str, damaged: bool = False) -> bytes:
    """The frame of `message`; damaged=True gives it a wrong LRC (for simulators)."""
    body = message.encode("ascii") + bytes((ETX,))
    return bytes((STX,)) + body + bytes((lrc(body) ^ (0xFF if damaged else 0),))


def pin_entry_request(seq: int, pan12: str, min_length: int, max_length: int, seconds: int) -> str:
    return f"P{seq}{min_length:02d}{max_length:02d}{seconds:03d}{pan12}"


class FrameScanner:
    """Finds frames, ACKs and NAKs in a byte stream. feed() returns the events: ("frame", message),
    ("damaged", None), ("ack", None), ("nak", None). Other bytes between frames are noise."""

    def __init__(self):
        self.reset()

    def reset(self):
        self._frame = None
        self._await_lrc = False

    def feed(self, data: bytes) -> list:
        events = []
        for byte in data:
            if self._await_lrc:
                body, self._frame, self._await_lrc = self._frame + bytes((ETX,)), None, False
                good = lrc(body) == byte and all(0x20 <= b <= 0x7E for b in body[:-1])
                events.append(("frame", body[:-1].decode("ascii")) if good else ("damaged", None))
            elif byte == STX:
                if self._frame is not None:
                    events.append(("damaged", None))
                self._frame = b""
            elif self._frame is None:
                if byte in (ACK, NAK):
                    events.append(("ack" if byte == ACK else "nak", None))
            elif byte == ETX:
                self._await_lrc = True
            else:
                self._frame += bytes((byte,))
                if len(self._frame) > MAX_MESSAGE_BYTES:
                    self._frame = None
                    events.append(("damaged", None))
        return events
