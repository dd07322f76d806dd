"""The terminal agent (`lps terminal`): runs on the cashier's PC, reads the card reader through the
driver contract (lps_core.contract: a CardRead, TagRead, Misread or None) and sends each swipe to
LPS with the terminal's key (POST /api/v1/terminal/swipes).

- A reader thread puts each read in a bounded buffer (`buffer_size`; when full the oldest swipe is
  dropped: the guest at the till is the newest one). A misread is logged, never sent.
- The sender takes the oldest swipe and posts it, with the seconds it has left. A swipe older than
  `expire_after` seconds is dropped, never delivered late.
- Each swipe has an id (a UUID) and is sent again with the same id when no answer came, so LPS,
  which stores a swipe once by its id, hands it to a cashier screen at most once.
- When LPS cannot be reached (network or server down, a 5xx) the sender waits and tries again,
  doubling the wait from 1 s up to `max_backoff` seconds; the reader keeps reading meanwhile.
- A key LPS refuses (401: revoked or wrong) stops the agent with a message saying so; it is not
  retried, since no retry can succeed.
Uses only the standard library's HTTP client: the cashier's PC needs nothing but LPS itself."""
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass

from lps_core.contract import CardRead, Misread, TagRead

log = logging.getLogger("lps.terminal")
# The exit code of a refused key: a service manager restarts the agent after any other exit (a
# reader that cannot be opened yet), but not after this one, which no restart can mend.
KEY_REFUSED = 3


class KeyRefused(Exception):
    """LPS refused the terminal's key: the terminal was revoked, or the key is wrong."""


class Unreachable(Exception):
    """No answer from LPS (network, server down, timeout) or a 5xx: try again later."""


@dataclass
class Swipe:
    id: str
    card_no: str | None
    tag_id: str | None
    read_at: float  # time.monotonic() when it was read: the PC's wall clock may be wrong

    def body(self, seconds_left) -> dict:
        found = {"card_no": self.card_no} if self.card_no is not None else {"tag_id": self.tag_id}
        return {"id": self.id, **found, "expires_in": round(seconds_left, 3)}


class SwipeBuffer:
    """The swipes read and not yet delivered, oldest first, at most `size` of them."""

    def __init__(self, size):
        self._swipes = deque()
        self._size = size
        self._ready = threading.Condition()

    def put(self, swipe):
        with self._ready:
            if len(self._swipes) >= self._size:
                dropped = self._swipes.popleft()
                log.warning("buffer full (%d swipes): the oldest swipe %s is dropped", self._size, dropped.id)
            self._swipes.append(swipe)
            self._ready.notify_all()

    def oldest(self, timeout) -> Swipe | None:
        with self._ready:
            if not self._swipes:
                self._ready.wait(timeout)
            return self._swipes[0] if self._swipes else None

    def remove(self, swipe):
        with self._ready:
            if self._swipes and self._swipes[0] is swipe:
                self._swipes.popleft()

    def __len__(self):
        return len(self._swipes)


class LpsClient:
    """The two calls of the terminal API, over urllib."""

    def __init__(self, url, key, timeout=5.0):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def _call(self, method, path, body=None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read()
        except (OSError, ValueError) as exc:  # refused, reset, timed out, name not resolved, half an answer
            raise Unreachable(str(exc)) from None
        if status == 401:
            raise KeyRefused("LPS refused the terminal key: the terminal was revoked or the key is wrong")
        if status >= 500 or status in (408, 429):
            raise Unreachable(f"LPS answered {status}")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {}

    def whoami(self) -> dict:
        return self._call("GET", "/api/v1/terminal")[1]

    def send(self, swipe, seconds_left) -> tuple[int, dict]:
        return self._call("POST", "/api/v1/terminal/swipes", swipe.body(seconds_left))


class TerminalAgent:
    """Reads `reader` (an ICardReader) and delivers its swipes through `client`; see the module."""

    def __init__(self, reader, client, *, expire_after=30.0, buffer_size=20, max_backoff=30.0, clock=time.monotonic):
        self.reader = reader
        self.client = client
        self.expire_after = expire_after
        self.buffer = SwipeBuffer(buffer_size)
        self.max_backoff = max_backoff
        self.clock = clock
        self.stopping = threading.Event()
        self.delivered = []  # the ids of swipes LPS received, in order: what the agent's log also says
        self.refused = None  # the KeyRefused that stopped the agent, if one did

    def stop(self):
        self.stopping.set()

    def read_forever(self):
        """The reader thread: every read into the buffer until the agent stops."""
        was_connected = True
        while not self.stopping.is_set():
            read = self.reader.read_card(0.5)
            connected = bool(getattr(self.reader, "connected", True))
            if connected != was_connected:
                log.warning("card reader %s", "connected again" if connected else "unplugged: waiting for it")
                was_connected = connected
            if isinstance(read, Misread):
                log.info("misread, not sent: %s", read.reason)
            elif isinstance(read, (CardRead, TagRead)):
                swipe = Swipe(str(uuid.uuid4()), getattr(read, "card_no", None), getattr(read, "tag_id", None),
                              self.clock())
                log.info("swipe %s read", swipe.id)
                self.buffer.put(swipe)

    def _seconds_left(self, swipe) -> float:
        return self.expire_after - (self.clock() - swipe.read_at)

    def deliver_forever(self):
        """The sender: deliver the oldest swipe, drop expired ones, back off while LPS is away."""
        backoff = min(1.0, self.max_backoff)
        while not self.stopping.is_set():
            swipe = self.buffer.oldest(0.5)
            if swipe is None:
                continue
            left = self._seconds_left(swipe)
            if left <= 0:
                log.warning("swipe %s expired after %g s without reaching LPS: dropped", swipe.id, self.expire_after)
                self.buffer.remove(swipe)
                continue
            try:
                status, answer = self.client.send(swipe, left)
            except Unreachable as exc:
                log.warning("LPS unreachable (%s): %d swipe(s) waiting, trying again in %g s", exc, len(self.buffer),
                            backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = min(1.0, self.max_backoff)
            self.buffer.remove(swipe)
            if status in (200, 201):
                self.delivered.append(swipe.id)
                log.info("swipe %s delivered%s%s", swipe.id, " (again)" if answer.get("duplicate") else "",
                         "" if answer.get("card_found", True) else ": the tag is on no card")
            else:
                log.error("swipe %s refused by LPS (%d): %s", swipe.id, status, answer.get("fields") or answer)

    def check_key(self):
        """Ask LPS who this terminal is, until it answers (it may still be starting): the terminal's
        name and outlet. Raises KeyRefused at once for a revoked or wrong key."""
        backoff = min(1.0, self.max_backoff)
        while not self.stopping.is_set():
            try:
                return self.client.whoami()
            except Unreachable as exc:
                log.warning("LPS unreachable (%s): trying again in %g s", exc, backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        return None

    def run(self) -> int:
        """Run until stopped (0) or until LPS refuses the key (KEY_REFUSED, with the message logged)."""
        reader_thread = None
        try:
            terminal = self.check_key()
            if terminal is not None:
                log.info("terminal %r of outlet %s: reading cards", terminal.get("name"), terminal.get("outlet"))
                reader_thread = threading.Thread(target=self.read_forever, name="lps-terminal-reader", daemon=True)
                reader_thread.start()
                self.deliver_forever()
        except KeyRefused as exc:
            self.refused = exc
            log.error("%s. Stopping: register the terminal again on the terminals screen and use its new key.", exc)
            return KEY_REFUSED
        finally:
            self.stopping.set()
            if reader_thread is not None:
                reader_thread.join(5)
        return 0


def run_terminal(driver, url, key, port, options, *, expire_after, buffer_size, timeout) -> int:
    """`lps terminal`: open the reader with `driver` (an ICardReaderDriver) and run the agent until
    Ctrl-C or a refused key. The exit code: 0 stopped, 1 a reader that cannot be opened, KEY_REFUSED."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        reader = driver.open(port=port, **options)
    except (OSError, ValueError) as exc:
        log.error("%s cannot open %s: %s", driver.name, port, exc)
        return 1
    agent = TerminalAgent(reader, LpsClient(url, key, timeout), expire_after=expire_after, buffer_size=buffer_size)
    try:
        return agent.run()
    except KeyboardInterrupt:
        agent.stop()
        return 0
    finally:
        reader.close()
