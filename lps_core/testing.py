"""Reusable pytest fixtures: every database test runs on SQLite and on PostgreSQL.

Loaded by LPS's own suite (`-p lps_core.testing`) and by plugin suites (`pytest_plugins =
["lps_core.testing"]`). PostgreSQL runs when LPS_TEST_DATABASE_URL names a server; each test session
creates its own database there and drops it at the end. With CI set, a missing or unreachable
PostgreSQL fails the run instead of skipping.
"""
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from lps_core.db import get_engine
from lps_core.db.meta import Base
from lps_core.db.migrate import upgrade

BACKENDS = ("sqlite", "postgresql")
# Keys of personal data for tests only (lps_core/pii.py); every engine and app of the suite uses
# them, through TEST_SETTINGS.
PII_SETTINGS = {"lps.pii.keys": "5nY3aJJ15rG_2-kXaM3gspGsWFuHhZgu0mi6SoTS_P8=",
                "lps.pii.index_key": "6vcrp0V_deWq-HheCi0xOLCqAeZpQ26FrlabNjzAEDQ"}
# What every test engine, app and `lps` command gets: the test keys of personal data, and the BEGIN
# sent with the first statement, which a server on another host gets by default
# (lps.db.pipelined_begin = auto, lps_core.db.begin): the suite's PostgreSQL is on this host.
TEST_SETTINGS = {**PII_SETTINGS, "lps.db.pipelined_begin": "true"}
TEST_INI_LINES = "".join(f"{name} = {value}\n" for name, value in TEST_SETTINGS.items())
LPS_COMMAND = str(Path(sys.executable).with_name("lps"))


def write_ini(directory, database_url, extra="") -> str:
    """An ini file for the `lps` command on database_url, with the TEST_SETTINGS and
    `extra` lines ("lps.timezone = UTC\n", say)."""
    path = Path(directory) / "lps.ini"
    path.write_text(f"[app:main]\nuse = egg:lps\nsqlalchemy.url = {database_url}\n{TEST_INI_LINES}{extra}")
    return str(path)


def run_lps(ini, *args, expect=0):
    """Run the installed `lps` command with `ini`; its exit status must be `expect`."""
    result = subprocess.run([LPS_COMMAND, "-c", str(ini), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == expect, result.stderr
    return result


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated, empty database of each backend for the whole test session."""
    if request.param == "sqlite":
        with migrated_database("sqlite://", tmp_path_factory.mktemp("sqlite"), "lps") as url:
            yield url
        return
    server = os.environ.get("LPS_TEST_DATABASE_URL")
    if not server:
        if os.environ.get("CI"):
            pytest.fail("CI must test on PostgreSQL: set LPS_TEST_DATABASE_URL")
        pytest.skip("PostgreSQL tests need LPS_TEST_DATABASE_URL")
    with migrated_database(server, None, "lps_test") as url:
        yield url


@contextmanager
def migrated_database(like_url, folder, prefix):
    """A new database migrated to the head, on the backend of `like_url` (a file in `folder` for
    SQLite; a database of a unique name on the same server for PostgreSQL, dropped at the end)."""
    if like_url.startswith("sqlite"):
        url = f"sqlite:///{folder}/{prefix}.sqlite"
        _migrate(url)
        yield url
        return
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(like_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(like_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url):
    engine = get_engine({"sqlalchemy.url": url, **TEST_SETTINGS})
    upgrade(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    settings = {"sqlalchemy.url": database_url, **TEST_SETTINGS}
    if database_url.startswith("postgresql"):
        settings["sqlalchemy.pool_size"] = "25"
    engine = get_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine):
    """Empties every table after the test, so tests can commit for real (and run threads)."""
    yield
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="session")
def test_engine(database_url):
    """The engine of the test's own session: on SQLite its transactions are deferred, so a test
    that reads does not hold the write lock that the app under test needs (WAL lets both run)."""
    engine = get_engine({"sqlalchemy.url": database_url, **TEST_SETTINGS}, immediate=False)
    yield engine
    engine.dispose()


@pytest.fixture
def db(test_engine, clean_db):
    """A plain SQLAlchemy session; commit what other connections (the app, threads) must see."""
    session = Session(test_engine, expire_on_commit=False)
    yield session
    session.rollback()
    session.close()


@pytest.fixture(scope="session")
def plugins():
    from lps_core.plugins import load_plugins

    return load_plugins({})


def start_up_error(settings) -> str | None:
    """The error that stops start-up with these ini settings, as the installed plugins are loaded
    and verified and their declared settings validated; None when they start. For a plugin's tests
    of its own settings, which reach LPS only through the contract and this module."""
    from lps_core.plugins import PluginError, load_plugins

    try:
        load_plugins(settings)
    except PluginError as exc:
        return str(exc)
    return None


@dataclass
class Seed:
    """Handles to the standard test programme: hotel T with outlets REST and SPA."""

    db: Session
    plugins: object

    def member_card(self, name="Test Member", tier=None) -> str:
        """Enrol and approve a member; returns the card number. Commits."""
        from sqlalchemy import select, update

        from lps_core.members.models import Member, Tier
        from lps_core.members.services import Enrolment, approve_member, enrol_member

        # Test members share one phone number: enrolled knowingly, as staff may after the duplicate warning.
        member_id = enrol_member(self.db, Enrolment(name=name, channel="desk", phone="+8613800000000"),
                                 force_duplicate_phone=True)
        card_no = approve_member(self.db, member_id)
        if tier:
            tier_id = self.db.scalar(select(Tier.id).where(Tier.code == tier))
            self.db.execute(update(Member).where(Member.id == member_id).values(tier_id=tier_id))
        self.db.commit()
        return card_no

    def api_key(self, outlet="REST", scopes=None) -> str:
        from lps_core.apikeys.services import SCOPES, create_api_key

        key = create_api_key(self.db, outlet, scopes or SCOPES)
        self.db.commit()
        return key

    def points_account(self, card_no) -> int:
        from sqlalchemy import select

        from lps_core.cards.models import Card
        from lps_core.ledger.models import POINTS, Account

        return self.db.scalar(select(Account.id).join(Card, Card.member_id == Account.member_id)
                              .where(Card.card_no == card_no, Account.kind == POINTS))

    def switch(self, kind, name, *, outlet=None, enabled=True):
        """Switch a component (a tender, promotion kind, exchange or channel) on or off at one
        outlet, or for the whole programme without one, through lps_core.plugins.switches.set_switch
        as the configuration screens do. Commits."""
        from sqlalchemy import select

        from lps_core.outlets.models import Outlet
        from lps_core.plugins.switches import set_switch

        scope_id = self.db.scalar(select(Outlet.id).where(Outlet.code == outlet)) if outlet else 0
        set_switch(self.db, self.plugins, kind=kind, name=name, scope="outlet" if outlet else "programme",
                   scope_id=scope_id, enabled=enabled)
        self.db.commit()


@pytest.fixture
def seed(db, plugins) -> Seed:
    """Hotel T; outlets REST (1 point per 1.00) and SPA (2 points per 1.00); tiers classic..gold; a card type."""
    from decimal import Decimal

    from sqlalchemy import insert

    from lps_core.cards.models import CardType
    from lps_core.members.models import Tier
    from lps_core.outlets.services import ensure_property, save_outlet

    ensure_property(db, "T", "Test Hotel")
    save_outlet(db, plugins, code="REST", name="Restaurant", property_code="T", formula="base_rate", params={})
    save_outlet(db, plugins, code="SPA", name="Spa", property_code="T", formula="base_rate",
                params={"points_per_unit": "2"})
    db.execute(insert(Tier), [
        {"code": "classic", "name": "Classic", "rank": 0, "multiplier": Decimal("1")},
        {"code": "silver", "name": "Silver", "rank": 1, "multiplier": Decimal("1.2")},
        {"code": "gold", "name": "Gold", "rank": 2, "multiplier": Decimal("1.5")},
    ])
    db.execute(insert(CardType).values(code="standard", name="Standard", prefix="8800"))
    db.commit()
    return Seed(db, plugins)


@pytest.fixture(scope="session")
def wsgi_app(database_url):
    from lps_core import main

    return main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0", "lps.rules.cache_seconds": "0",
                       **TEST_SETTINGS})


@pytest.fixture
def testapp(wsgi_app, seed):
    """A WebTest app on the seeded programme."""
    from webtest import TestApp

    return TestApp(wsgi_app)


@pytest.fixture
def counted_app(database_url, seed):
    """A production-like app (caches on, no pre-ping) on the seeded programme, and the list of
    statements its engine sends, BEGIN and COMMIT included, for tests that hold a request to a
    statement budget. PostgreSQL only: SQLite runs the one-statement writes step by step."""
    if not database_url.startswith("postgresql"):
        pytest.skip("statement counts are PostgreSQL's")
    from sqlalchemy import event
    from webtest import TestApp

    from lps_core import main
    from lps_core.webhooks.subscriptions import forget

    # The webhook subscriptions are cached per process, not per app: a snapshot an earlier test left
    # could expire between a test's warm-up request and the one it counts, which would then read it.
    forget()
    wsgi = main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "5", **TEST_SETTINGS})
    engine = wsgi.registry["db_engine"]
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split())[:120]))
    event.listen(engine, "begin", lambda conn: statements.append("BEGIN"))
    event.listen(engine, "commit", lambda conn: statements.append("COMMIT"))
    yield TestApp(wsgi), statements
    engine.dispose()


# Real HTTP, for concurrency tests: the app in a waitress server, and requests sent all at once.

SERVER_THREADS = 20


@pytest.fixture
def server(wsgi_app, seed):
    """The port of the seeded app served by waitress on 127.0.0.1, with SERVER_THREADS threads."""
    import threading

    from waitress.server import create_server

    server = create_server(wsgi_app, host="127.0.0.1", port=0, threads=SERVER_THREADS)
    stopping = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:  # closing the server can pull its socket from under the polling loop
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.effective_port
    stopping.set()
    server.close()
    thread.join(5)


def post_all_at_once(port, path, bodies, headers) -> list[tuple[int, dict]]:
    """POST each JSON body from its own thread, released together; (status, answer) in order."""
    import http.client
    import json
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(len(bodies))

    def post(body):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        connection.request("POST", path, json.dumps(body), {**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


# Webhooks: a receiver on loopback that checks each delivery as docs/webhooks.md tells a website to.

WEBHOOK_TOLERANCE_SECONDS = 300


class WebhookReceiver:
    """A webhook receiver on 127.0.0.1: it verifies each POST as docs/webhooks.md tells a receiver
    to (HMAC-SHA256 of "<timestamp>.<body>" with the secret, compared in constant time, the
    timestamp within five minutes) and answers `statuses` in turn (then 200)."""

    def __init__(self, port=0):
        self.secret = None
        self.statuses = []
        self.received = []  # (headers, body bytes, signature valid)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body, receiver.verify(self.headers, body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answered {status}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/lps?src=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def verify(self, headers, body) -> bool:
        timestamp = headers.get("LPS-Timestamp", "")
        given = headers.get("LPS-Signature", "").removeprefix("v1=")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE_SECONDS:
            return False
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given)

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body, _ in self.received]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


# Staff screens: operators, signing in through the form, and the audit entries a screen wrote.

def csrf_of(page) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in_as(testapp, seed, username, password, roles, outlets) -> str:
    """Create an operator and sign in through the form; returns a CSRF token for the session."""
    from lps_core.operators.services import create_operator

    create_operator(seed.db, username, password, roles=roles, outlets=list(outlets), must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    testapp.post("/login", {"username": username, "password": password, "csrf_token": csrf_of(page)}, status=303)
    return csrf_of(testapp.get("/password"))


@contextmanager
def statements_sent(engine):
    """The SQL statements `engine` sends inside the block, as a list filled as they go."""
    from sqlalchemy import event

    statements = []

    def seen(connection, cursor, statement, *rest):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@contextmanager
def round_trips(engine):
    """What `engine`'s connections send to PostgreSQL and answer inside the block, as libpq traces
    the protocol: a list of lines ("F\t10\tQuery\t \"BEGIN\"", "B\t5\tReadyForQuery\t T" ...),
    filled when the block ends. Each ReadyForQuery is one round trip: the answer the client waits
    for after a Query or a Sync, however many statements were sent before that Sync."""
    import tempfile

    from psycopg import pq
    from sqlalchemy import event

    traces, lines = {}, []

    def checkout(dbapi_connection, record, proxy):
        file = tempfile.TemporaryFile("w+")
        traces[id(dbapi_connection)] = (dbapi_connection, file)
        dbapi_connection.pgconn.trace(file.fileno())
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def checkin(dbapi_connection, record):
        found = traces.pop(id(dbapi_connection), None)
        if found is not None:
            _read_trace(*found, lines)

    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine.pool, "checkin", checkin)
    try:
        yield lines
    finally:
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine.pool, "checkin", checkin)
        for found in list(traces.values()):
            _read_trace(*found, lines)
        traces.clear()


def _read_trace(dbapi_connection, file, lines):
    from psycopg import pq

    if dbapi_connection.pgconn.status == pq.ConnStatus.OK:  # a closed one has nothing left to write
        dbapi_connection.pgconn.untrace()
    file.seek(0)
    lines.extend(line.rstrip("\n") for line in file)
    file.close()


def audited(db, action) -> list:
    from sqlalchemy import select

    from lps_core.audit.models import AuditEntry

    db.rollback()  # see what the app committed since
    return db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


# The end of every run: which groups of tests were skipped, and why.

def pytest_terminal_summary(terminalreporter):
    """One line per skip reason: how many tests, in which modules. A run that skipped nothing says so."""
    groups = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            path, _, reason = report.longrepr
        else:
            path, reason = report.nodeid, str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        module = report.nodeid.split("::", 1)[0] or path
        count, modules = groups.get(reason, (0, set()))
        groups[reason] = (count + 1, modules | {module})
    if not terminalreporter.stats.get("passed") and not groups:
        return
    terminalreporter.section("skipped tests, by reason")
    if not groups:
        terminalreporter.line("no test was skipped")
    for reason, (count, modules) in sorted(groups.items(), key=lambda item: -item[1][0]):
        shown = ", ".join(sorted(modules)[:4]) + (f" and {len(modules) - 4} more" if len(modules) > 4 else "")
        terminalreporter.line(f"{count:5d} skipped ({shown}): {reason}")


# Mail: a real SMTP server on 127.0.0.1 (aiosmtpd), for the e-mail channel and what sends through it.

class SmtpInbox:
    """What the loopback SMTP server accepted, and how it answers: `replies` maps a recipient to the
    reply its RCPT TO gets ("550 no such user", "451 try later"), `data_reply` replaces the reply to
    DATA, and `accounts` {login: password} are the logins AUTH accepts."""

    def __init__(self):
        self.port = None  # set once the server listens
        self.envelopes = []
        self.replies = {}
        self.data_reply = None
        self.accounts = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        reply = self.replies.get(address)
        if reply is None:
            envelope.rcpt_tos.append(address)
        return reply or "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        valid = isinstance(auth_data, LoginPassword) and \
            self.accounts.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=valid, handled=False)

    def messages(self) -> list:
        """The accepted messages, parsed (email.message.EmailMessage), SMTP's CR LF made plain."""
        import email
        from email import policy

        return [email.message_from_bytes(envelope.original_content.replace(b"\r\n", b"\n"), policy=policy.default)
                for envelope in self.envelopes]


@contextmanager
def serving_smtp(handler, **options):
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 for `handler` (an SmtpInbox, the
    browser tests' Mailbox), on an event loop of its own thread; yields the port. `options` go to
    aiosmtpd's SMTP (an authenticator, say)."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def protocol():
        return SMTP(handler, hostname="mail.example.test", **options)

    server = asyncio.run_coroutine_threadsafe(loop.create_server(protocol, "127.0.0.1", 0), loop).result(5)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        async def shut_down():  # on the loop's own thread: asyncio servers are not thread-safe
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut_down(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def smtp_server():
    """An SmtpInbox whose server listens on an ephemeral port of 127.0.0.1 (`.port`) and offers AUTH."""
    inbox = SmtpInbox()
    with serving_smtp(inbox, authenticator=inbox.authenticate, auth_require_tls=False) as port:
        inbox.port = port
        yield inbox


# A receipt printer's raw port (ESC/POS over TCP), for the receipts' tests.
class NetworkPrinter:
    """A printer's raw port on loopback: it takes connections and keeps every byte sent."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.jobs = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while chunk := connection.recv(65536):
                    data += chunk
                self.jobs.append(data)

    def close(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in the thread
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)


@pytest.fixture
def network_printer():
    """A NetworkPrinter for the test, closed after it."""
    printer = NetworkPrinter()
    yield printer
    printer.close()


# A serial device's port (a card reader's, a PIN pad's, a printer's): a pseudo-terminal pair, for
# the drivers' tests and LPS's own, so that no driver's tests need another driver installed.
class PtySocket:
    """A pseudo-terminal behind a stable path (a symlink, as udev makes /dev/lps-reader) that can be
    unplugged and plugged back in, as a USB serial device can.

    The driver opens `path`; the simulator plays the device on `master`. unplug() closes the
    pseudo-terminal, so the driver's reads fail as they do when a cable is pulled out; plug_in()
    opens a new one and re-points the symlink to it, so the driver finds the device again at the
    same path. POSIX only, as pseudo-terminals are."""

    def __init__(self, directory, name="ttyLPS0"):
        self.path = os.path.join(directory, name)
        self.master = self.slave = None
        self.plug_in()

    def plug_in(self):
        """A new pseudo-terminal at `path`, in raw mode (nothing the device sends is echoed back)."""
        import tty  # imported here: there is no tty module on Windows, where this module loads too

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        new_link = self.path + ".new"
        os.symlink(os.ttyname(self.slave), new_link)
        os.replace(new_link, self.path)

    def unplug(self):
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None

    def close(self):
        if self.master is not None:
            self.unplug()
        if os.path.lexists(self.path):
            os.unlink(self.path)


@pytest.fixture
def pty_socket(tmp_path):
    """A PtySocket in the test's own directory, closed after the test."""
    device = PtySocket(tmp_path)
    yield device
    device.close()
