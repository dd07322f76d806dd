"""Creating and checking API keys.

A key reads `lps_<prefix>_<secret>`. The prefix finds the row; the secret is compared by its
SHA-256 (a random 32-byte secret needs no slow hash). Verified keys are cached for a few seconds
(`lps.api.key_cache_seconds`), so the earn hot path does not query the key on every request;
a revoked key therefore stops working within that many seconds.
"""
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from lps_core.apikeys.models import ApiKey
from lps_core.apikeys.scopes import DEFAULT_SCOPES, SCOPES
from lps_core.earning.services import OutletContext
from lps_core.errors import NotFound, ValidationFailed
from lps_core.outlets.models import Outlet, Property
from lps_core.timeutil import utcnow


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(db, outlet_code, scopes=DEFAULT_SCOPES, label=None) -> str:
    """Store a new key for an outlet and return it in clear text: the only time it is ever seen.
    Without `scopes` it gets DEFAULT_SCOPES only."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValidationFailed(f"scopes must be among {', '.join(SCOPES)}", {"scope": f"unknown: {unknown}"})
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == outlet_code))
    if outlet_id is None:
        raise NotFound(f"outlet {outlet_code!r} does not exist", {"outlet": "no such outlet"})
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    db.execute(insert(ApiKey).values(outlet_id=outlet_id, prefix=prefix, secret_hash=_hash(secret),
                                     scopes=" ".join(scopes), label=label, created_at=utcnow()))
    return f"lps_{prefix}_{secret}"


def revoke_api_key(db, prefix) -> bool:
    return bool(db.execute(update(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
                           .values(revoked_at=utcnow())).rowcount)


@dataclass(frozen=True)
class VerifiedKey:
    """A live key as its check found it: enough to authorise a request and to name it in the records
    (the audit log, a bill's or settlement's api_key_id) without reading api_keys again.
    `standing` is the status of the outlet's property (a partner's: active, suspended or ended),
    read in the same statement, so that refusing a suspended partner's postings costs no query."""
    id: int
    prefix: str
    label: str | None
    outlet: OutletContext
    scopes: frozenset
    standing: str = "active"
    property_code: str | None = None


class ApiKeyChecker:
    """Resolves a bearer token to its VerifiedKey, with a short-lived in-process cache."""

    def __init__(self, cache_seconds=5.0):
        self.cache_seconds = cache_seconds
        self._cache = {}
        self._lock = threading.Lock()

    def check(self, db, token):
        """The token's VerifiedKey, or None if the token is not a live key."""
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached and cached[0] > now:
            return cached[1]
        result = self._lookup(db, token)
        if result and self.cache_seconds > 0:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = (now + self.cache_seconds, result)
        return result

    def clear(self):
        """Forget every cached key: called when this process changes a partner's standing, so that
        its own requests see the change at once (other processes within the cache's seconds)."""
        with self._lock:
            self._cache.clear()

    @staticmethod
    def _lookup(db, token):
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "lps":
            return None
        row = db.execute(
            select(ApiKey.id.label("key_id"), ApiKey.label, ApiKey.secret_hash, ApiKey.scopes, Outlet.id, Outlet.code,
                   Property.status, Property.code.label("property_code"))
            .join(Outlet, Outlet.id == ApiKey.outlet_id).join(Property, Property.id == Outlet.property_id)
            .where(ApiKey.prefix == parts[1], ApiKey.revoked_at.is_(None), Outlet.active.is_(True))
        ).one_or_none()
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(parts[2])):
            return None
        return VerifiedKey(row.key_id, parts[1], row.label, OutletContext(row.id, row.code, row.key_id),
                           frozenset(row.scopes.split()), row.status, row.property_code)
