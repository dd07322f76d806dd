"""Engine and session set-up: one request, one transaction (pyramid_tm + zope.sqlalchemy), the
timeouts that keep a database outage from hanging the server, and the read-only session that
reports read through (`request.reports_db`, on lps.reports.database_url when it is set)."""
import transaction
import zope.sqlalchemy
from sqlalchemy import engine_from_config, event, text
from sqlalchemy.orm import sessionmaker

from lps_core.db import begin, cursors
from lps_core.db.meta import Base  # noqa: F401  (re-exported for models and migrations)
from lps_core.db.watchdog import StatementWatchdog
from lps_core.pii import PiiKeys, attach
from lps_core.settings import settings_of


REPORTS_SETTING = "lps.reports.database_url"


class ReportsAreReadOnly(RuntimeError):
    """Something tried to write through the reports session, which reads a replica."""


def get_engine(settings, prefix="sqlalchemy.", *, immediate=True, statement_timeout=True, read_only=False):
    """The engine. On SQLite `immediate=False` leaves transactions deferred: only for a test's own
    session, whose reads must not hold the write lock that the app under test needs.
    `read_only=True` makes every transaction of the engine read-only (PostgreSQL's
    default_transaction_read_only, SQLite's query_only), so that a write fails at once.

    On PostgreSQL, connecting gives up after `lps.db.connect_timeout` seconds, a statement after
    `lps.db.statement_timeout_ms` (the server cancels it; when the server does not answer at all,
    the statement watchdog closes the connection a connect timeout later), and waiting for a
    pooled connection after `sqlalchemy.pool_timeout` seconds. `statement_timeout=False` is for
    `lps` commands (migrations, batch jobs), whose statements may rightly run long. Through
    psycopg, a transaction's BEGIN goes out with its first statement (lps_core.db.begin) on a
    server on another host, or as lps.db.pipelined_begin says, and cursors describe their results
    lazily (lps_core.db.cursors)."""
    typed = settings_of(settings)
    connect_timeout = typed.database.connect_timeout
    statement_ms = typed.database.statement_timeout_ms if statement_timeout else 0
    options, connect_args = {}, {}
    if str(settings.get(prefix + "url", "")).startswith("postgresql"):
        options[prefix + "pool_timeout"] = typed.database.pool_timeout
        connect_args["connect_timeout"] = connect_timeout
        server_options = [f"-c statement_timeout={statement_ms}"] if statement_ms else []
        if read_only:
            server_options.append("-c default_transaction_read_only=on")
        if server_options:
            connect_args["options"] = " ".join(server_options)
    engine = engine_from_config({**settings, **options}, prefix, connect_args=connect_args)
    attach(engine, PiiKeys.from_settings(typed))
    if engine.dialect.name == "sqlite":
        _make_sqlite_serializable(engine, immediate and not read_only, read_only)
    else:
        cursors.attach(engine)
        if typed.database.pipelined_begin is not False:  # None: auto, for a server on another host
            begin.attach(engine, remote_only=typed.database.pipelined_begin is None)
        if statement_ms:
            StatementWatchdog(statement_ms / 1000 + connect_timeout).attach(engine)
    return engine


def _make_sqlite_serializable(engine, immediate=True, read_only=False):
    """Give SQLite real transactions: take the write lock at BEGIN and enforce foreign keys.

    pysqlite starts a transaction lazily at the first write, so two requests could both read a
    balance before either writes it. BEGIN IMMEDIATE makes writers queue up instead, which is what
    SELECT ... FOR UPDATE gives us on PostgreSQL. A read-only engine's connections refuse writes
    (PRAGMA query_only) and take no lock at BEGIN.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def get_session_factory(engine):
    """Sessions joined to the thread's transaction manager, committed or aborted with it.

    Registered once on the factory rather than per session: per-request registration was 7% of
    the earn endpoint's CPU. Sessions start as 'changed' so that Core INSERT/UPDATE statements,
    which zope.sqlalchemy cannot see, are always committed."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    zope.sqlalchemy.register(factory, initial_state=zope.sqlalchemy.datamanager.STATUS_CHANGED,
                             transaction_manager=transaction.manager)
    return factory


def get_reports_engine(settings, *, statement_timeout=True):
    """The read-only engine of lps.reports.database_url (a streaming replica), with the same pool
    and timeout settings as the database's own; None when the setting is not set."""
    url = settings_of(settings).database.reports_url
    if url is None:
        return None
    return get_engine({**settings, "sqlalchemy.url": url}, statement_timeout=statement_timeout, read_only=True)


def get_reports_session_factory(engine):
    """Sessions that only read: their engine's transactions are read-only, and a flush (of an
    object added or changed through them) raises ReportsAreReadOnly before any SQL is sent. They
    join no transaction manager: whoever opens one closes it, which rolls its transaction back."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "before_flush")
    def _refuse_flush(session, flush_context, instances):
        raise ReportsAreReadOnly(f"the reports session reads {REPORTS_SETTING}, a read-only database: "
                                 "write through request.dbsession")

    return factory


def reports_session_of(db):
    """The session that a report reads through, given the session its caller holds: in a web
    request, the request's reports session (`request.reports_db`: the replica when
    lps.reports.database_url is set, else the request's own session); outside one (a command, a
    test's session), `db` itself. A report calls this first, so that it reads from the replica
    whichever session it was handed."""
    request = db.info.get("request")
    return db if request is None else request.reports_db


def tune_for_aggregates(session) -> None:
    """For the rest of `session`'s transaction on PostgreSQL: room to hash and sort a million
    members' rows in memory (the default 4 MB spills them to disk), and no JIT, whose compiling
    cost more than it saved on every report, analytics and job statement measured. Reports,
    analytics and the nightly jobs call it before their large statements; segments do not
    (lps_core.marketing.segments says why)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"))


def includeme(config):
    from lps_core.components import ISettings, require

    require(config.registry, ISettings, "lps_core.db")  # the environment's sqlalchemy.url is applied by then
    settings = config.get_settings()
    # PostgreSQL serialization failures and deadlocks (SQLSTATE 40xxx) re-run the whole request.
    settings.setdefault("retry.attempts", 3)
    # No user on the transaction's note: it would look up the staff session on every request, even
    # for static files and the OpenAPI document, which must answer while the database is down.
    settings.setdefault("tm.annotate_user", False)
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    config.include("lps_core.db.outage")

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbsession_factory"] = session_factory
    config.registry["db_engine"] = engine

    def dbsession(request):
        request.tm  # join pyramid_tm's transaction (the thread's manager) before the session begins
        return session_factory(info={"request": request})

    config.add_request_method(dbsession, reify=True)

    reports_engine = get_reports_engine(settings)
    reports_factory = get_reports_session_factory(reports_engine) if reports_engine is not None else None
    config.registry["reports_engine"] = reports_engine
    config.registry["reports_session_factory"] = reports_factory

    def reports_db(request):
        """The read-only session of reports and analytics: on lps.reports.database_url when it is
        set (opened on first use, closed when the request ends), else the request's own session."""
        if reports_factory is None:
            return request.dbsession
        session = reports_factory(info={"request": request})
        request.add_finished_callback(lambda request: session.close())
        return session

    config.add_request_method(reports_db, reify=True)


def run_in_transaction(session_factory, work):
    """Run work(dbsession) in its own transaction, for the CLI and jobs outside a request."""
    with transaction.manager:
        return work(session_factory())
