"""psycopg's cursor with a description that is built when it is read.

psycopg builds `cursor.description`, one `Column` object per column of the result, every time it
is asked for. SQLAlchemy asks after every statement, but for a statement whose result it has seen
before it only checks that there is a description: its compiled form keeps the result's columns.
The earn request's two statements made 28 `Column` objects for nothing, about 7% of its
instructions (bench/README.md). Here the description is a sequence of the same columns, made on
first reading.

`attach(engine)` gives every connection of a psycopg engine this cursor class; the cursors of
lps_core.db.begin are of it too."""
from collections.abc import Sequence

import psycopg
from psycopg import pq
from sqlalchemy import event

# The statuses for which psycopg describes a result even with no columns ("SELECT ;").
_ROWS = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _ResultOf:
    """What psycopg's Column reads of a cursor, for the result the description was taken of."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult, cursor):
        self.pgresult, self._encoding, self.adapters = pgresult, cursor._encoding, cursor.adapters


class Description(Sequence):
    """The columns of one result, as psycopg's `description` lists them."""

    __slots__ = ("_cursor", "_pgresult", "_columns")

    def __init__(self, cursor, pgresult):
        self._cursor, self._pgresult, self._columns = cursor, pgresult, None

    def _made(self) -> list:
        if self._columns is None:
            # The cursor may have moved on to another result since: describe the one taken.
            source = self._cursor
            if source.pgresult is not self._pgresult:
                source = _ResultOf(self._pgresult, source)
            self._columns = [psycopg.Column(source, i) for i in range(self._pgresult.nfields)]
        return self._columns

    def __len__(self):
        return self._pgresult.nfields

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def __repr__(self):
        return repr(self._made())


class Cursor(psycopg.Cursor):
    """psycopg's cursor, its `description` a Description (None when psycopg's is None)."""

    @property
    def description(self):
        result = self.pgresult
        if result and (result.nfields or result.status in _ROWS):
            return Description(self, result)
        return None


def attach(engine) -> None:
    """Give the connections of `engine` this cursor class, when it is PostgreSQL through psycopg (3).
    lps_core.db.begin.attach, attached after it, gives some connections its subclass."""
    if engine.url.get_driver_name() != "psycopg":
        return

    def on_connect(dbapi_connection, connection_record):
        dbapi_connection.cursor_factory = Cursor

    event.listen(engine, "connect", on_connect)
