"""Which active endpoints subscribe to which event, as a snapshot cached in the process.

The earn request is budgeted to four statements on PostgreSQL (tests/test_statement_budget.py),
and its lps_on_points_posted listener runs on every bill. So the listener asks this snapshot, not
the database: with no endpoint subscribed to the event it issues no SQL at all. The snapshot is
read again after lps.webhooks.cache_seconds (one SELECT per process per period, two when an
endpoint exists: the outlets' codes that payloads name), and at once in the process that changed an
endpoint (forget(), called by the services, again after their commit). Another process sees a
change within cache_seconds, like the plugin switches and API keys.

Snapshots are kept per database URL, so the sessions of one process on one database (the web app,
a command, the worker, a test's own session) share one."""
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import event, select

from lps_core.webhooks.models import WebhookEndpoint


@dataclass(frozen=True)
class Snapshot:
    by_event: dict  # event type -> tuple of endpoint ids
    outlet_codes: dict = field(default_factory=dict)  # outlet id -> code, read only when an endpoint exists

    def endpoints_for(self, event_type) -> tuple:
        return self.by_event.get(event_type, ())


_lock = threading.Lock()
_cached: dict = {}  # database URL -> (expires at, Snapshot)


def snapshot(db, cache_seconds) -> Snapshot:
    """The subscriptions as of at most `cache_seconds` ago; read in `db`'s transaction on a miss."""
    key = _key_of(db)
    now = time.monotonic()
    found = _cached.get(key)
    if found is not None and found[0] > now:
        return found[1]
    by_event = {}
    for endpoint_id, events in db.execute(select(WebhookEndpoint.id, WebhookEndpoint.events)
                                          .where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)):
        for event_type in events or ():
            by_event.setdefault(event_type, []).append(endpoint_id)
    outlet_codes = {}
    if by_event:
        from lps_core.outlets.models import Outlet

        outlet_codes = dict(db.execute(select(Outlet.id, Outlet.code)).all())
    fresh = Snapshot({name: tuple(ids) for name, ids in by_event.items()}, outlet_codes)
    if cache_seconds > 0:
        with _lock:
            _cached[key] = (now + cache_seconds, fresh)
    return fresh


def forget(db=None):
    """Drop the cached snapshots now and, given the session that changed an endpoint, once more
    after it commits: a request of this process that read the old list between the change and the
    commit must not keep it for a whole period."""
    with _lock:
        _cached.clear()
    if db is not None:
        event.listen(db, "after_commit", _forget_after_commit, once=True)


def _forget_after_commit(session):
    with _lock:
        _cached.clear()


def _key_of(db) -> str:
    return db.get_bind().url.render_as_string(hide_password=True)
