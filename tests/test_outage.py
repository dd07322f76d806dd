"""A database outage answers 503 with Retry-After within the configured timeouts, never hangs the
server, leaves the OpenAPI document available, and ends by itself when the database is back.

The outage is real: the app talks to PostgreSQL through a TCP proxy started here, which at the flip
of a switch stops forwarding in both directions while keeping every connection open and accepting
new ones, as a paused server or a network that drops packets does. The shared PostgreSQL server
itself is never touched."""
import select
import socket
import threading
import time

import pytest
from sqlalchemy.engine import make_url
from webtest import TestApp

from lps_core.db import get_engine
from lps_core.errors import ConfigurationError, ServiceUnavailable
from lps_core.testing import TEST_SETTINGS

CONNECT_TIMEOUT = 2  # libpq's smallest
STATEMENT_TIMEOUT_MS = 1000
# The most an outage may take to be answered: a statement's deadline, plus slack for a busy machine.
ANSWER_WITHIN = STATEMENT_TIMEOUT_MS / 1000 + CONNECT_TIMEOUT + 4


class BlackholeProxy:
    """127.0.0.1:<port> forwarded to the database; `blackhole()` stops all traffic without closing
    anything, `restore()` drops what was caught and forwards new connections again."""

    def __init__(self, target):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.closing = threading.Event()
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.sockets.append(client)
            if not self.forwarding.is_set():
                continue  # held open, never answered: the client's connect times out
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets.append(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while not self.closing.is_set():
                if not self.forwarding.is_set():
                    time.sleep(0.05)  # read nothing: the sender's data waits, unanswered
                    continue
                readable, _, _ = select.select([source], [], [], 0.1)
                if not readable or not self.forwarding.is_set():
                    continue
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, ValueError):  # the other pump or restore() closed the socket
            pass
        finally:
            for end in (source, sink):
                try:
                    end.close()
                except OSError:
                    pass

    def blackhole(self):
        self.forwarding.clear()

    def restore(self):
        """Like a server back from a restart: the connections of before are gone, new ones work."""
        with self.lock:
            caught, self.sockets = self.sockets, []
        for end in caught:
            try:
                end.shutdown(socket.SHUT_RDWR)
                end.close()
            except OSError:
                pass
        self.forwarding.set()

    def close(self):
        self.closing.set()
        self.listener.close()
        self.restore()


@pytest.fixture
def postgresql_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("an outage of a database server: PostgreSQL only")
    return database_url


@pytest.fixture(params=["no pre-ping", "pre-ping"])
def outage(request, postgresql_url, seed):
    """(proxy, the app's WebTest client through it, an API key, a member's card number); with and
    without the pool's pre-ping, which reaches the driver by another way."""
    from lps_core import main

    url = make_url(postgresql_url)
    proxy = BlackholeProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    wsgi = main({}, **{**TEST_SETTINGS, "sqlalchemy.url": proxied, "lps.api.key_cache_seconds": "0",
                       "lps.db.connect_timeout": str(CONNECT_TIMEOUT),
                       "lps.db.statement_timeout_ms": str(STATEMENT_TIMEOUT_MS), "sqlalchemy.pool_timeout": "2",
                       "sqlalchemy.pool_pre_ping": str(request.param == "pre-ping").lower()})
    key, card_no = seed.api_key("REST", scopes=["cards.read"]), seed.member_card()
    yield proxy, TestApp(wsgi), {"Authorization": f"Bearer {key}"}, card_no
    proxy.close()
    wsgi.registry["db_engine"].dispose()


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_an_outage_answers_503_with_retry_after_and_the_server_recovers_by_itself(outage):
    proxy, app, key, card_no = outage
    assert app.get(f"/api/v1/cards/{card_no}", headers=key).json["card_no"] == card_no
    proxy.blackhole()

    # A pooled connection whose server went silent mid-way: the watchdog cuts it off.
    answer, took = timed(lambda: app.get(f"/api/v1/cards/{card_no}", headers=key, status=503))
    assert took < ANSWER_WITHIN, took
    assert answer.content_type == "application/problem+json"
    assert answer.headers["Retry-After"] == str(ServiceUnavailable.retry_after_seconds)
    assert answer.json == ServiceUnavailable(answer.json["detail"]).as_json()
    assert answer.json["status"] == 503 and answer.json["code"] == "service_unavailable"

    # A new connection that is never answered: the connect timeout.
    answer, took = timed(lambda: app.get(f"/api/v1/cards/{card_no}", headers=key, status=503))
    assert took < ANSWER_WITHIN, took
    assert answer.headers["Retry-After"] == str(ServiceUnavailable.retry_after_seconds)

    # The OpenAPI document needs no database.
    document, took = timed(lambda: app.get("/api/v1/openapi.json", status=200))
    assert took < 2 and document.json["openapi"].startswith("3.")

    # A staff screen (its signed-in operator is looked up) gets a page of its own, also with Retry-After.
    app.set_cookie("lps_staff", "a-token-whose-session-must-be-looked-up")
    page, took = timed(lambda: app.get("/", status=503))
    assert took < ANSWER_WITHIN, took
    assert page.content_type == "text/html" and page.headers["Retry-After"] == str(ServiceUnavailable.retry_after_seconds)
    assert "cannot reach its database" in page.text and "Traceback" not in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    chinese = app.get("/", headers={"Accept-Language": "zh-CN"}, status=503)
    assert "系统繁忙" in chinese.text and "重试</a>" in chinese.text

    proxy.restore()
    assert app.get(f"/api/v1/cards/{card_no}", headers=key, status=200).json["card_no"] == card_no
    app.get("/", status=303)  # the screen is back too: an unknown session signs in nobody


def test_threads_are_not_held_for_ever_during_an_outage(outage):
    """Ten requests at once during an outage all end with 503 within the timeouts."""
    proxy, app, key, card_no = outage
    app.get(f"/api/v1/cards/{card_no}", headers=key, status=200)
    proxy.blackhole()
    statuses = []

    def one():
        statuses.append(app.get(f"/api/v1/cards/{card_no}", headers=key, expect_errors=True).status_int)

    threads = [threading.Thread(target=one) for _ in range(10)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    took = time.monotonic() - start
    assert statuses == [503] * 10
    assert took < 2 * ANSWER_WITHIN + CONNECT_TIMEOUT * 2, took
    proxy.restore()
    assert app.get(f"/api/v1/cards/{card_no}", headers=key).status_int == 200


def test_the_timeouts_are_settings_with_defaults(postgresql_url):
    engine = get_engine({"sqlalchemy.url": postgresql_url, **TEST_SETTINGS})
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "15s"
        assert engine.pool.timeout() == 5
    finally:
        engine.dispose()
    engine = get_engine({"sqlalchemy.url": postgresql_url, "lps.db.statement_timeout_ms": "2500", **TEST_SETTINGS},
                        statement_timeout=True)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "2500ms"
    finally:
        engine.dispose()
    engine = get_engine({"sqlalchemy.url": postgresql_url, **TEST_SETTINGS}, statement_timeout=False)  # lps commands
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        engine.dispose()


@pytest.mark.parametrize("name, value", [("lps.db.connect_timeout", "0"), ("lps.db.statement_timeout_ms", "soon"),
                                         ("sqlalchemy.pool_timeout", "-1")])
def test_a_bad_timeout_setting_stops_start_up_naming_it(name, value):
    with pytest.raises(ConfigurationError, match=name.replace(".", r"\.")):
        get_engine({"sqlalchemy.url": "postgresql+psycopg://nobody@127.0.0.1:1/none", name: value, **TEST_SETTINGS})
