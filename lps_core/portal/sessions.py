"""Members' portal sessions, kept on the server so that they can be ended.

Signing in starts a session: a random token (256 bits) goes to the browser in the `lps_member`
cookie, and only its SHA-256 is stored in portal_sessions with the member and the time last seen.
Every request looks the token up, so a session ends for good when its row is deleted: on
sign-out, when the member's password changes (every other session of theirs), or when it was idle
for longer than lps.portal.idle_timeout. The staff's sessions (staff_sessions, `lps_staff`) are
another table and another cookie: neither signs anyone in on the other's pages."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from lps_core.portal.models import PortalSession
from lps_core.timeutil import as_utc

TOKEN_BYTES = 32
SEEN_RESOLUTION = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db, member_id, now: datetime, *, address=None, idle_seconds=None) -> str:
    """A new session for the member; returns the token for the cookie (never stored). Sessions
    idle for longer than `idle_seconds`, anyone's, are cleared out on the way."""
    if idle_seconds is not None:
        db.execute(delete(PortalSession).where(PortalSession.last_seen_at < now - timedelta(seconds=idle_seconds)))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.execute(insert(PortalSession).values(token_hash=_hash(token), member_id=member_id,
                                            address=(address or None) and address[:64],
                                            created_at=now, last_seen_at=now))
    return token


def session_member(db, token, now: datetime, idle_seconds) -> tuple[int | None, bool]:
    """(the member a token signs in or None, whether it has just ended from idleness)."""
    if not token or len(token) > 100:
        return None, False
    row = db.execute(select(PortalSession.id, PortalSession.member_id, PortalSession.last_seen_at)
                     .where(PortalSession.token_hash == _hash(token))).one_or_none()
    if row is None:
        return None, False
    last_seen = as_utc(row.last_seen_at)
    if now - last_seen > timedelta(seconds=idle_seconds):
        db.execute(delete(PortalSession).where(PortalSession.id == row.id))
        return None, True
    if now - last_seen > SEEN_RESOLUTION:
        db.execute(update(PortalSession).where(PortalSession.id == row.id).values(last_seen_at=now))
    return row.member_id, False


def end_session(db, token) -> bool:
    if not token:
        return False
    return bool(db.execute(delete(PortalSession).where(PortalSession.token_hash == _hash(token))).rowcount)


def end_sessions(db, member_id, *, keep_token=None) -> int:
    """End every portal session of a member (but the one of `keep_token`); how many ended."""
    query = delete(PortalSession).where(PortalSession.member_id == member_id)
    if keep_token:
        query = query.where(PortalSession.token_hash != _hash(keep_token))
    return db.execute(query).rowcount
