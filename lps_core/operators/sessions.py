"""Staff sessions kept on the server (lps_core.sessions), in staff_sessions with the `lps_staff`
cookie. A session ends on sign-out, when the operator's password changes (every other session of
theirs), when the operator is disabled, or when it was idle for longer than lps.session.idle_timeout."""
from dataclasses import dataclass
from datetime import datetime

from lps_core.operators.models import StaffSession
from lps_core.sessions import SessionTable

SESSIONS = SessionTable(StaffSession, "operator_id")
start_session = SESSIONS.start
end_session = SESSIONS.end
end_sessions = SESSIONS.end_all
session_count = SESSIONS.count


@dataclass(frozen=True)
class SessionCheck:
    """What a token stands for: the operator, or None with `idle` set when it ended from idleness."""

    operator_id: int | None
    idle: bool = False


def check_session(db, token, now: datetime, idle_seconds) -> SessionCheck:
    """The operator a token signs in, if its session is live; a session idle for too long is ended."""
    return SessionCheck(*SESSIONS.check(db, token, now, idle_seconds))
