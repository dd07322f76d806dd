"""A client-side deadline for every PostgreSQL statement, so that a database that stops answering
cannot hold a request, or every thread of the server, for ever.

PostgreSQL's own `statement_timeout` cancels slow statements, but only while the server runs: a
paused server, or a network that drops packets without closing the connection, answers nothing,
and the operating system keeps the connection open. The watchdog notes when each statement (and
each COMMIT or ROLLBACK) starts on a connection, and one background thread shuts down the socket
of a connection whose statement has waited longer than the deadline. The waiting driver then
fails at once with a disconnect, SQLAlchemy throws that connection (and the rest of the pool,
which has likely lost its server too) away, and the request answers 503 (lps_core.db.outage).
Bookkeeping is a dict update per statement; the thread sleeps between checks."""
import logging
import socket
import threading
import time
import weakref

from sqlalchemy import event

log = logging.getLogger(__name__)


class StatementWatchdog:
    def __init__(self, deadline_seconds: float, check_every: float = 0.25):
        self.deadline_seconds = deadline_seconds
        self.check_every = check_every
        # id(dbapi connection) -> (started, weak reference to it, its socket's fileno). Each entry is
        # set or removed in one step under the GIL; the watching thread reads a copy.
        self._running = {}
        self._lock = threading.Lock()  # only for starting the thread
        self._thread = None

    def attach(self, engine):
        """Watch every statement, COMMIT, ROLLBACK and pre-ping of `engine` (PostgreSQL only)."""
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "after_cursor_execute", self._after_execute)
        event.listen(engine, "handle_error", self._after_error)
        event.listen(engine, "commit", self._on_connection)
        event.listen(engine, "rollback", self._on_connection)
        event.listen(engine, "begin", self._off_connection)
        event.listen(engine.pool, "reset", self._on_pool_reset)
        event.listen(engine.pool, "checkin", self._off_pool)
        event.listen(engine.pool, "close", self._off_pool)
        event.listen(engine.pool, "invalidate", self._off_pool_invalidated)
        # The pool's pre-ping (sqlalchemy.pool_pre_ping) goes to the driver without engine events.
        ping = engine.dialect.do_ping

        def watched_ping(dbapi_connection):
            self._start(dbapi_connection)
            try:
                return ping(dbapi_connection)
            finally:
                self._stop(dbapi_connection)

        engine.dialect.do_ping = watched_ping

    # --- bookkeeping, on the request's thread -----------------------------------------------------

    def _start(self, dbapi_connection):
        fileno = _fileno_of(dbapi_connection)
        if fileno is None:  # a closed connection: nothing to watch
            return
        self._running[id(dbapi_connection)] = (time.monotonic(), weakref.ref(dbapi_connection), fileno)
        if self._thread is None:
            self._start_thread()

    def _stop(self, dbapi_connection):
        self._running.pop(id(dbapi_connection), None)

    def _before_execute(self, conn, cursor, statement, parameters, context, executemany):
        self._start(cursor.connection)

    def _after_execute(self, conn, cursor, statement, parameters, context, executemany):
        self._stop(cursor.connection)

    def _after_error(self, context):
        dbapi_connection = _dbapi_connection_of(context.connection)
        if dbapi_connection is not None:
            self._stop(dbapi_connection)

    def _on_connection(self, conn):
        dbapi_connection = _dbapi_connection_of(conn)
        if dbapi_connection is not None:
            self._start(dbapi_connection)

    def _off_connection(self, conn):
        dbapi_connection = _dbapi_connection_of(conn)
        if dbapi_connection is not None:
            self._stop(dbapi_connection)

    def _on_pool_reset(self, dbapi_connection, connection_record, reset_state):
        self._start(dbapi_connection)

    def _off_pool(self, dbapi_connection, connection_record):
        if dbapi_connection is not None:
            self._stop(dbapi_connection)

    def _off_pool_invalidated(self, dbapi_connection, connection_record, exception):
        if dbapi_connection is not None:
            self._stop(dbapi_connection)

    # --- the watching thread ----------------------------------------------------------------------

    def _start_thread(self):
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="lps-db-watchdog", daemon=True)
                self._thread.start()

    def _watch(self):
        while True:
            time.sleep(self.check_every)
            try:
                self._cut_off_overdue(time.monotonic())
            except Exception:  # never let the watch end
                log.exception("the database watchdog failed a round")

    def _cut_off_overdue(self, now):
        for key, entry in list(self._running.items()):
            started, connection, fileno = entry
            if now - started <= self.deadline_seconds or self._running.get(key) is not entry:
                continue
            self._running.pop(key, None)
            # Only a socket that is still this connection's: never one the number was reused for.
            if connection() is not None and _fileno_of(connection()) == fileno:
                log.warning("the database gave no answer for %.0f s: closing that connection", self.deadline_seconds)
                cut_off(fileno)


def _dbapi_connection_of(conn):
    """The driver's connection under a SQLAlchemy Connection, without reconnecting one that an
    error invalidated (an event handler must never raise)."""
    if conn is None or conn.closed or conn.invalidated:
        return None
    try:
        return conn.connection.dbapi_connection
    except Exception:
        return None


def _fileno_of(dbapi_connection):
    try:
        fileno = dbapi_connection.fileno()
    except Exception:
        return None
    return fileno if isinstance(fileno, int) and fileno >= 0 else None


def cut_off(fileno):
    """Shut the socket down under the driver, which then fails with a disconnect. The descriptor
    stays the driver's (it is duplicated here and only the duplicate is closed)."""
    try:
        duplicate = socket.fromfd(fileno, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, ValueError):
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()
