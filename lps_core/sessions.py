"""Sessions kept on the server, so that they can be ended: the staff's (staff_sessions, lps_core.operators)
and the members' portal's (portal_sessions, lps_core.portal), one table each.

Signing in starts a session: a random token (256 bits) goes to the browser in a cookie, and only its
SHA-256 is stored with its owner and the time last seen. Every request looks the token up, so a session
ends for good, whatever cookie a browser kept, when its row is deleted."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from lps_core.timeutil import as_utc

TOKEN_BYTES = 32
# The time last seen is rewritten at most this often, so not every request writes.
SEEN_RESOLUTION = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionTable:
    """The sessions of one table, whose rows have token_hash, address, created_at, last_seen_at and
    the owner's id in `owner` (operator_id, member_id)."""

    def __init__(self, model, owner: str):
        self.model, self.owner = model, getattr(model, owner)
        self._owner_name = owner

    def start(self, db, owner_id, now: datetime, *, address=None, idle_seconds=None) -> str:
        """A new session for the owner; returns the token for the cookie (never stored). Sessions
        idle for longer than `idle_seconds`, anyone's, are cleared out on the way."""
        if idle_seconds is not None:
            db.execute(delete(self.model).where(self.model.last_seen_at < now - timedelta(seconds=idle_seconds)))
        token = secrets.token_urlsafe(TOKEN_BYTES)
        db.execute(insert(self.model).values(token_hash=_hash(token), address=(address or None) and address[:64],
                                             created_at=now, last_seen_at=now, **{self._owner_name: owner_id}))
        return token

    def check(self, db, token, now: datetime, idle_seconds) -> tuple[int | None, bool]:
        """(the owner a token signs in or None, whether its session has just ended from idleness)."""
        if not token or len(token) > 100:
            return None, False
        model = self.model
        row = db.execute(select(model.id, self.owner.label("owner_id"), model.last_seen_at)
                         .where(model.token_hash == _hash(token))).one_or_none()
        if row is None:
            return None, False
        last_seen = as_utc(row.last_seen_at)
        if now - last_seen > timedelta(seconds=idle_seconds):
            db.execute(delete(model).where(model.id == row.id))
            return None, True
        if now - last_seen > SEEN_RESOLUTION:
            db.execute(update(model).where(model.id == row.id).values(last_seen_at=now))
        return row.owner_id, False

    def end(self, db, token) -> bool:
        """Sign-out: the session of this token ends."""
        if not token:
            return False
        return bool(db.execute(delete(self.model).where(self.model.token_hash == _hash(token))).rowcount)

    def end_all(self, db, owner_id, *, keep_token=None) -> int:
        """End every session of an owner (but the one of `keep_token`, if given); how many ended."""
        query = delete(self.model).where(self.owner == owner_id)
        if keep_token:
            query = query.where(self.model.token_hash != _hash(keep_token))
        return db.execute(query).rowcount

    def count(self, db, owner_id) -> int:
        """How many sessions of the owner are stored (idle ones not yet cleared out included)."""
        return db.scalar(select(func.count()).select_from(self.model).where(self.owner == owner_id))
