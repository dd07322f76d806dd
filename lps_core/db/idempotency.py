"""The one idempotency pattern of LPS: claim the row, then replay or conflict.

A write keyed by a business key (an outlet's bill no., a redemption's request no., a ledger entry's
key) claims the key by inserting its row with INSERT ... ON CONFLICT DO NOTHING RETURNING id. An id
back means this request owns the key and goes on. No id means another request claimed it first; on
PostgreSQL the insert has waited for that request to commit, so its row can be read. The stored row
is then replayed when it was written with the same content (the same fingerprint), and is a
Conflict naming the field otherwise.
"""
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.errors import Conflict

DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}

# (table, key columns, dialect name) -> the claim statement, built on first use: building it on
# every call would cost the hot path (the earn endpoint) Python time for nothing.
_CLAIMS = {}


def claim(db, table, key_columns, values) -> int | None:
    """Insert `values` as a row of `table` unless a row with the same `key_columns` (a tuple naming
    a unique constraint's columns) exists: the new row's id, or None when the key was claimed before."""
    dialect = db.get_bind().dialect.name
    statement = _CLAIMS.get((table, key_columns, dialect))
    if statement is None:
        statement = _CLAIMS[table, key_columns, dialect] = (
            DIALECTS[dialect].insert(table).on_conflict_do_nothing(index_elements=list(key_columns))
            .returning(table.c.id))
    return db.scalar(statement, values)


def replay_or_conflict(stored_fingerprint, fingerprint, message, fields) -> None:
    """Return when the row stored under a business key was written with this request's content, so
    the caller replays it; raise Conflict(message, fields) when the key was used with other content."""
    if stored_fingerprint != fingerprint:
        raise Conflict(message, fields)
