"""On PostgreSQL, a transaction's BEGIN travels with its first statement: one round trip saved on
every transaction, one of the four of an earn request.

psycopg sends BEGIN on its own and waits for the answer before it sends the first statement of
each transaction. `attach(engine)` changes that for every transaction SQLAlchemy begins on the
engine:

- when SQLAlchemy begins, the connection goes into psycopg's autocommit mode (it is idle then), so
  psycopg sends no BEGIN of its own;
- the first statement then goes out in pipeline mode behind an explicit BEGIN, both before one
  Sync, and psycopg reads both answers in one wait. Every statement after it runs in that
  transaction, as before: the server is in a transaction block;
- COMMIT and ROLLBACK are sent as before (psycopg's commit() and rollback() look at the server's
  transaction status, not at autocommit), and once the transaction has ended the connection
  leaves autocommit mode again, so that whatever uses it next finds psycopg as it was.

A first statement that is not a plain execute (executemany, COPY, a server-side cursor of
`yield_per`) sends its BEGIN alone first, as psycopg did. The BEGIN carries the connection's
isolation level (`sqlalchemy.isolation_level` in the ini file), as psycopg's own would. A block
that asks for its own (`execution_options(isolation_level=...)`, as an AUTOCOMMIT block for
CREATE DATABASE does) is left to psycopg.

It pays on a database reached over the network, where a round trip costs more than the pipeline's
bookkeeping. On PostgreSQL on the same machine it saves a wait of some tens of microseconds and
costs about 6% more instructions per earn request (psycopg's pipeline in Python, more polls of the
socket: bench/README.md), so by default (`lps.db.pipelined_begin = auto`) a connection that
reached the server through a Unix socket or a loopback address keeps psycopg's own BEGIN. `true`
pipelines every connection (as behind a pooler on this host in front of a remote server), `false`
none."""
import ipaddress

import psycopg
from psycopg import pq
from sqlalchemy import event

from lps_core.db import cursors

IDLE = pq.TransactionStatus.IDLE

# Kept on psycopg's connection object, which one thread uses at a time: whether its transaction
# has begun for SQLAlchemy but not yet on the server, and whether it was put into autocommit mode
# here (to be taken out of it when the transaction ends).
PENDING, SWITCHED = "_lps_begin_pending", "_lps_autocommit_switched"
PIPELINED = "_lps_pipelined_begin"  # set on connect on the connections whose BEGIN goes with the statement


def _begin_pending(conn) -> bool:
    """Whether the next statement on `conn` must begin the transaction (and it no longer will)."""
    if getattr(conn, PENDING, False):
        setattr(conn, PENDING, False)
        return conn.pgconn.transaction_status == IDLE
    return False


def begin_statement(conn) -> str:
    """The BEGIN psycopg itself would send: with the connection's isolation level (SQLAlchemy sets
    one for `sqlalchemy.isolation_level`, and READ COMMITTED back after an AUTOCOMMIT block), its
    read-only and its deferrable modes."""
    words = ["BEGIN"]
    if conn.isolation_level is not None:
        words.append("ISOLATION LEVEL " + conn.isolation_level.name.replace("_", " "))
    if conn.read_only is not None:
        words.append("READ ONLY" if conn.read_only else "READ WRITE")
    if conn.deferrable is not None:
        words.append("DEFERRABLE" if conn.deferrable else "NOT DEFERRABLE")
    return " ".join(words)


def _begin_alone(conn) -> None:
    if _begin_pending(conn):
        psycopg.Cursor(conn).execute(begin_statement(conn))


class Cursor(cursors.Cursor):
    """LPS's cursor (lps_core.db.cursors), sending a pending BEGIN with the statement."""

    def execute(self, query, params=None, **kwargs):
        conn = self._conn
        if not _begin_pending(conn):
            return super().execute(query, params, **kwargs)
        with conn.pipeline():  # leaving it sends the Sync and reads both answers
            psycopg.Cursor(conn).execute(begin_statement(conn))
            super().execute(query, params, **kwargs)
        return self

    def executemany(self, query, params_seq, **kwargs):
        _begin_alone(self._conn)
        return super().executemany(query, params_seq, **kwargs)

    def copy(self, statement, params=None, **kwargs):
        _begin_alone(self._conn)
        return super().copy(statement, params, **kwargs)

    def stream(self, query, params=None, **kwargs):
        _begin_alone(self._conn)
        return super().stream(query, params, **kwargs)


class ServerCursor(psycopg.ServerCursor):
    """A named cursor (SQLAlchemy's stream_results) is declared inside the transaction."""

    def execute(self, query, params=None, **kwargs):
        _begin_alone(self._conn)
        return super().execute(query, params, **kwargs)


def attach(engine, remote_only=False) -> bool:
    """Begin the transactions of `engine` with their first statement, when it is PostgreSQL through
    psycopg (3), whose cursors these are, and libpq has pipeline mode (libpq 14 and later): True
    then. Any other engine is left as it is. With `remote_only`, a connection to a server on this
    machine (on_this_host) is left to psycopg too. lps_core.db.cursors.attach(engine) comes first:
    the connections left to psycopg keep its cursor class."""
    if engine.url.get_driver_name() != "psycopg" or not psycopg.Pipeline.is_supported():
        return False

    def on_connect(dbapi_connection, connection_record):
        if remote_only and on_this_host(dbapi_connection.info):
            return
        dbapi_connection.cursor_factory, dbapi_connection.server_cursor_factory = Cursor, ServerCursor
        setattr(dbapi_connection, PIPELINED, True)

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", _on_begin)
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection):
        try:
            commit(dbapi_connection)
        finally:
            _ended(dbapi_connection)

    def do_rollback(dbapi_connection):
        try:
            rollback(dbapi_connection)
        finally:
            _ended(dbapi_connection)

    # Instance attributes, as the statement watchdog wraps do_ping: the pool's reset on return
    # rolls back through the same dialect.
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback
    return True


def on_this_host(info) -> bool:
    """Whether a psycopg connection (its `info`) reached the server through a Unix socket (no host
    address) or a loopback address, not over a network."""
    try:
        address = info.hostaddr
    except psycopg.NotSupportedError:  # libpq < 12: take it as remote, where the pipeline pays
        return False
    return not address or ipaddress.ip_address(address).is_loopback


def _on_begin(connection):
    conn = connection.connection.driver_connection
    if not getattr(conn, PIPELINED, False) or connection.get_execution_options().get("isolation_level"):
        return
    if conn.closed or conn.pgconn.transaction_status != IDLE:
        return  # already in a transaction (a pre-ping's): psycopg's BEGIN was sent
    if conn.autocommit and not getattr(conn, SWITCHED, False):
        return  # autocommit asked for through SQLAlchemy
    conn.autocommit = True
    setattr(conn, SWITCHED, True)
    setattr(conn, PENDING, True)


def _ended(dbapi_connection):
    conn = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    setattr(conn, PENDING, False)
    if getattr(conn, SWITCHED, False) and not conn.closed and conn.pgconn.transaction_status == IDLE:
        setattr(conn, SWITCHED, False)
        conn.autocommit = False
