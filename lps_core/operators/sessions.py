"""Staff sessions kept on the server, so that they can be ended.

Signing in starts a session: a random token (256 bits) goes to the browser in a cookie, and only
its SHA-256 is stored in staff_sessions with the operator and the time last seen. Every request
looks the token up, so a session ends for good, whatever cookie a browser kept, when its row is
deleted: on sign-out, when the operator's password changes (every other session of theirs), when
the operator is disabled, or when it was idle for longer than lps.session.idle_timeout."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from lps_core.operators.models import StaffSession
from lps_core.timeutil import as_utc

TOKEN_BYTES = 32
# The time last seen is rewritten at most this often, so not every request writes.
SEEN_RESOLUTION = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionCheck:
    """What a token stands for: the operator, or None with `idle` set when it ended from idleness."""

    operator_id: int | None
    idle: bool = False


def start_session(db, operator_id, now: datetime, *, address=None, idle_seconds=None) -> str:
    """A new session for the operator; returns the token for the cookie (never stored). Sessions
    idle for longer than `idle_seconds`, anyone's, are cleared out on the way."""
    if idle_seconds is not None:
        db.execute(delete(StaffSession).where(StaffSession.last_seen_at < now - timedelta(seconds=idle_seconds)))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.execute(insert(StaffSession).values(token_hash=_hash(token), operator_id=operator_id,
                                           address=(address or None) and address[:64],
                                           created_at=now, last_seen_at=now))
    return token


def check_session(db, token, now: datetime, idle_seconds) -> SessionCheck:
    """The operator a token signs in, if its session is live; a session idle for too long is ended."""
    if not token or len(token) > 100:
        return SessionCheck(None)
    token_hash = _hash(token)
    row = db.execute(select(StaffSession.id, StaffSession.operator_id, StaffSession.last_seen_at)
                     .where(StaffSession.token_hash == token_hash)).one_or_none()
    if row is None:
        return SessionCheck(None)
    last_seen = as_utc(row.last_seen_at)
    if now - last_seen > timedelta(seconds=idle_seconds):
        db.execute(delete(StaffSession).where(StaffSession.id == row.id))
        return SessionCheck(None, idle=True)
    if now - last_seen > SEEN_RESOLUTION:
        db.execute(update(StaffSession).where(StaffSession.id == row.id).values(last_seen_at=now))
    return SessionCheck(row.operator_id)


def end_session(db, token) -> bool:
    """Sign-out: the session of this token ends."""
    if not token:
        return False
    return bool(db.execute(delete(StaffSession).where(StaffSession.token_hash == _hash(token))).rowcount)


def end_sessions(db, operator_id, *, keep_token=None) -> int:
    """End every session of an operator (but the one of `keep_token`, if given); how many ended."""
    query = delete(StaffSession).where(StaffSession.operator_id == operator_id)
    if keep_token:
        query = query.where(StaffSession.token_hash != _hash(keep_token))
    return db.execute(query).rowcount


def session_count(db, operator_id) -> int:
    """How many sessions of the operator are stored (idle ones not yet cleared out included)."""
    return db.scalar(select(func.count()).select_from(StaffSession).where(StaffSession.operator_id == operator_id))
