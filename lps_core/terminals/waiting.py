"""Long-polling for swipes, sized for waitress's fixed pool of threads.

A cashier screen asks for its swipes and the request waits up to `lps.terminals.poll_seconds`
(default 20) for one to arrive. Long-polling rather than server-sent events: a waiting request
holds one waitress thread whichever is used, but a poll ends by itself within seconds, so a thread
is never held by a screen left open all night, proxies and the browser's connection limit see
ordinary short requests, and a server restart costs the screen one failed poll, which it repeats.

A waiting request holds no database transaction (on SQLite a transaction holds the write lock): it
checks for swipes in a short transaction of its own, then sleeps on a condition that a swipe
recorded in this process wakes at once, or for a second at most, which finds swipes that another
process recorded. At most `lps.terminals.max_waiting` requests (default 4) wait at the same time;
beyond that a poll answers at once and the screen asks again a little later (short polling), so
cashier screens can never take every thread of the server."""
import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from zope.interface import Interface, implementer

from lps_core.errors import ConfigurationError
from lps_core.terminals.services import take_swipes

RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class PollSettings:
    poll_seconds: float = 20.0
    max_waiting: int = 4

    @classmethod
    def from_mapping(cls, settings) -> "PollSettings":
        return cls(_number(settings, "lps.terminals.poll_seconds", 20.0, 0, 60),
                   int(_number(settings, "lps.terminals.max_waiting", 4, 0, 1000)))


def _number(settings, name, default, low, high) -> float:
    raw = settings.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, not {raw!r}")
    return value


class ISwipeWaiters(Interface):
    """The process's SwipeWaiters."""

    def swipe_recorded():
        """Wake the waiting polls."""

    def wait_for_swipes(operator_id, outlet_id, page=None):
        """(swipes taken, whether the poll could wait)."""


@implementer(ISwipeWaiters)
class SwipeWaiters:
    """The process's waiting polls: a cap on how many, and the condition a new swipe wakes."""

    def __init__(self, engine, settings: PollSettings):
        self.settings = settings
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)  # outside the request's transaction
        self._condition = threading.Condition()
        self._waiting = 0
        self._newest_page = {}  # (operator id, outlet id) -> the page id of its newest poll

    def swipe_recorded(self):
        """Wake every waiting poll (called after the transaction that recorded a swipe commits)."""
        with self._condition:
            self._condition.notify_all()

    def _take(self, operator_id, outlet_id) -> list[dict]:
        with self._sessions.begin() as db:
            return take_swipes(db, operator_id, outlet_id)

    def wait_for_swipes(self, operator_id, outlet_id, page=None) -> tuple[list[dict], bool]:
        """(the swipes taken, whether this poll could wait): waits up to poll_seconds unless
        max_waiting polls already wait, in which case it only looks once.

        `page` names the page that polls (a random id per page load). A browser that leaves the
        page cannot call its poll back, and waitress cannot tell: the poll would wait on and take
        the next swipe for nobody. So the newest page of an operator at an outlet supersedes the
        older one's waiting poll, which ends with nothing taken."""
        screen = (operator_id, outlet_id)
        with self._condition:
            self._newest_page[screen] = page
            self._condition.notify_all()
        swipes = self._take(operator_id, outlet_id)
        if swipes or self.settings.poll_seconds <= 0:
            return swipes, True
        with self._condition:
            if self._waiting >= self.settings.max_waiting:
                return swipes, False
            self._waiting += 1
        try:
            deadline = time.monotonic() + self.settings.poll_seconds
            while not swipes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with self._condition:
                    self._condition.wait(min(RECHECK_SECONDS, remaining))
                    if self._newest_page.get(screen) != page:
                        break
                swipes = self._take(operator_id, outlet_id)
        finally:
            with self._condition:
                self._waiting -= 1
        return swipes, True
