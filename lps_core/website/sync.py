"""Incremental sync by cursor: the rows of a table that changed since a moment, page by page, in the
order of their change stamp and id, so that the website fetches only what changed.

Each list reads a table by its change stamp (members, bills, settlements and redemptions by
`updated_at`, which the database sets on every change; ledger entries, which never change, by
`created_at`) and pages by keyset on (stamp, id): a page is the rows after the cursor's position,
in that order, and the next cursor is the position of the page's last row. A row that changes
again moves to the end of the order, so the website meets it again later; none is skipped.

A stamp is written when its transaction runs but becomes visible only when it commits, so a slow
transaction could commit a stamp older than a cursor already handed out. A page therefore stops
short of the *horizon*: `lps.website.sync_settle_seconds` before the start of the oldest
transaction still open on the database (PostgreSQL's pg_stat_activity) or before now, whichever is
earlier. Rows changed after it come in a later page; `next_cursor` is given even on an empty page,
so the website asks again from there.

SQLite keeps stamps as text, written in two forms (with and without fractions of a second), so
there the stamp is compared and ordered in one normal form, to the millisecond."""
import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, text, tuple_

from lps_core.errors import ConfigurationError, Unprocessable
from lps_core.timeutil import as_utc, utcnow

SETTLE_SETTING = "lps.website.sync_settle_seconds"
DEFAULT_SETTLE_SECONDS = 2
MAX_SETTLE_SECONDS = 300

_VERSION = 1
_LAYOUT = struct.Struct(">Bqq")  # version, microseconds since the epoch, id
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)
_TICK = timedelta(microseconds=1)
_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%f"
BAD_CURSOR = "is not a cursor LPS gave: send the next_cursor of the previous page as it was given"

# The earlier of now() (this transaction's start) and the start of the oldest other transaction open
# on this database; least() passes over the NULL of none.
_LATEST_SAFE = text(
    "SELECT least(now(), min(xact_start)) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def settle_seconds(settings) -> int:
    """lps.website.sync_settle_seconds: a whole number from 0 to 300 (default 2)."""
    raw = (settings or {}).get(SETTLE_SETTING)
    if raw in (None, ""):
        return DEFAULT_SETTLE_SECONDS
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SETTLE_SECONDS:
        raise ConfigurationError(f"{SETTLE_SETTING} must be a whole number from 0 to {MAX_SETTLE_SECONDS}, "
                                 f"not {raw!r}")
    return value


@dataclass(frozen=True)
class Position:
    """Where a page ended: the change stamp and id of its last row."""

    changed_at: datetime
    id: int


def encode_cursor(position: Position) -> str:
    micros = (as_utc(position.changed_at) - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(_LAYOUT.pack(_VERSION, micros, position.id)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names. The schema has checked its form; a cursor LPS did not make
    (one edited or made up) is refused with 422 naming `cursor`."""
    try:
        version, micros, row_id = _LAYOUT.unpack(base64.urlsafe_b64decode(cursor + "="))
        changed_at = _EPOCH + timedelta(microseconds=micros)
    except (binascii.Error, struct.error, ValueError, OverflowError):
        raise Unprocessable("the cursor cannot be read", {"cursor": BAD_CURSOR}) from None
    if version != _VERSION or row_id < 0 or not _EARLIEST <= changed_at < _LATEST:
        raise Unprocessable("the cursor cannot be read", {"cursor": BAD_CURSOR})
    return Position(changed_at, row_id)


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str
    horizon: datetime
    more: bool


def horizon(db, settle: int) -> datetime:
    """The latest change stamp a page may include now (see the module's docstring)."""
    now = as_utc(db.scalar(_LATEST_SAFE)) if db.get_bind().dialect.name == "postgresql" else utcnow()
    return now - timedelta(seconds=settle)


def _sqlite_text(moment: datetime) -> str:
    moment = as_utc(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _sqlite_moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


def page_of(db, query, stamp, row_id, *, changed_since=None, cursor=None, limit, settle) -> Page:
    """A page of `query` (a SELECT of the table) in the order of (`stamp`, `row_id`) columns: the rows
    changed at or after `changed_since` and after the `cursor`'s position, up to the horizon. Each
    row of `rows` is the query's row followed by its stamp (`sync_stamp`) as the cursor saw it."""
    sqlite = db.get_bind().dialect.name == "sqlite"
    key = func.strftime(_SQLITE_FORMAT, stamp) if sqlite else stamp
    bound = _sqlite_text if sqlite else as_utc
    until = horizon(db, settle)
    conditions = [key < bound(until)]
    if changed_since is not None:
        conditions.append(key >= bound(changed_since))
    after = decode_cursor(cursor) if cursor is not None else None
    if after is not None:
        # A row-value comparison: PostgreSQL reads it as one range of the (stamp, id) index.
        conditions.append(tuple_(key, row_id) > tuple_(bound(after.changed_at), after.id))
    rows = db.execute(query.add_columns(key.label("sync_stamp")).where(*conditions)
                      .order_by(key, row_id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        last = rows[-1]
        stamp_value = _sqlite_moment(last.sync_stamp) if sqlite else as_utc(last.sync_stamp)
        position = Position(stamp_value, getattr(last, row_id.key))
    elif after is not None:
        position = after
    else:
        # Nothing changed between the start and the horizon: the next page starts at the later of
        # the two, so the website does not read that stretch again.
        start = as_utc(changed_since) if changed_since is not None else _EARLIEST
        position = Position(max(start, until, _EARLIEST + _TICK) - _TICK, 0)
    return Page(rows, encode_cursor(position), until, more)
