"""Reports read from lps.reports.database_url (a streaming replica) when it is set, through a
session that cannot write; without it they read the request's own session."""
import pytest
from pyramid.scripting import prepare
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from webtest import TestApp

from lps_core.db import (ReportsAreReadOnly, get_engine, get_reports_engine, get_reports_session_factory,
                         get_session_factory, reports_session_of, run_in_transaction)
from lps_core.errors import ConfigurationError
from lps_core.members.models import Member
from lps_core.members.services import Enrolment, enrol_member
from lps_core.settings import read_settings, with_environment
from lps_core.testing import TEST_SETTINGS, csrf_of, migrated_database

URL = {"sqlalchemy.url": "postgresql+psycopg://lps@db/lps", **TEST_SETTINGS}
REPLICA = "postgresql+psycopg://reports:s3cret@replica:5432/lps"


# --- The setting ----------------------------------------------------------------------------------

def test_the_setting_names_the_replica_and_defaults_to_none(monkeypatch):
    monkeypatch.delenv("LPS_REPORTS_DATABASE_URL", raising=False)
    assert read_settings(URL).database.reports_url is None
    assert read_settings({**URL, "lps.reports.database_url": " "}).database.reports_url is None
    assert read_settings({**URL, "lps.reports.database_url": REPLICA}).database.reports_url == REPLICA


def test_the_environment_supplies_the_reports_url(monkeypatch):
    monkeypatch.setenv("LPS_REPORTS_DATABASE_URL", REPLICA)
    settings = with_environment({**URL, "lps.reports.database_url": "postgresql+psycopg://old@elsewhere/lps"})
    assert read_settings(settings).database.reports_url == REPLICA


@pytest.mark.parametrize("value, message", [
    ("replica:5432", "lps.reports.database_url must be a database URL such as postgresql"),
    ("mysql://reports:s3cret@replica/lps", "lps.reports.database_url must be a database URL such as postgresql"),
    ("sqlite:///var/reports.sqlite", "lps.reports.database_url must name a postgresql database, as sqlalchemy.url"),
])
def test_a_bad_reports_url_stops_start_up_without_showing_it(value, message):
    with pytest.raises(ConfigurationError, match=message) as refused:
        read_settings({**URL, "lps.reports.database_url": value})
    assert "s3cret" not in str(refused.value) and "\n" not in str(refused.value)


def test_without_the_setting_there_is_no_reports_engine():
    assert get_reports_engine(URL) is None


# --- The read-only engine and session, on each backend ----------------------------------------------

@pytest.fixture
def same_database(database_url):
    """A reports engine whose URL is the database itself: its reads work, its writes must fail."""
    engine = get_reports_engine({"sqlalchemy.url": database_url, "lps.reports.database_url": database_url,
                                 **TEST_SETTINGS})
    yield engine
    engine.dispose()


def test_the_reports_engine_reads_but_every_write_fails(same_database, db):
    db.execute(text("INSERT INTO properties (code, name, kind) VALUES ('RP', 'Report Hotel', 'hotel')"))
    db.commit()
    with same_database.connect() as connection:
        assert connection.scalar(text("SELECT name FROM properties WHERE code = 'RP'")) == "Report Hotel"
        if same_database.dialect.name == "postgresql":
            assert connection.scalar(text("SHOW transaction_read_only")) == "on"
        with pytest.raises(DBAPIError, match="read-only transaction|readonly database"):
            connection.execute(text("UPDATE properties SET name = 'Changed' WHERE code = 'RP'"))
    db.rollback()
    assert db.scalar(text("SELECT name FROM properties WHERE code = 'RP'")) == "Report Hotel"


def test_the_reports_session_refuses_to_flush(same_database, db):
    session = get_reports_session_factory(same_database)()
    try:
        session.add(Member(name="Written by a report", channel="desk", status="pending"))
        with pytest.raises(ReportsAreReadOnly, match="lps.reports.database_url"):
            session.flush()
    finally:
        session.close()
    db.rollback()
    assert db.scalar(select(Member).where(Member.name == "Written by a report")) is None


def test_outside_a_request_a_report_reads_the_session_it_is_given(db):
    assert reports_session_of(db) is db


# --- In the app ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reports_database_url(database_url, tmp_path_factory):
    """A second migrated database of the same backend, standing in for a replica with data of its own."""
    with migrated_database(database_url, tmp_path_factory.mktemp("reports"), "lps_reports") as url:
        yield url


def _app(database_url, **settings):
    from lps_core import main

    return main({}, **{"sqlalchemy.url": database_url, "lps.api.key_cache_seconds": "0",
                       "lps.rules.cache_seconds": "0", **TEST_SETTINGS, **settings})


def _dispose(app):
    app.registry["db_engine"].dispose()
    if app.registry["reports_engine"] is not None:
        app.registry["reports_engine"].dispose()


def _enrol_pending(db, *names):
    for name in names:
        enrol_member(db, Enrolment(name=name, channel="desk", phone="+8613800000000"), force_duplicate_phone=True)


def test_the_dashboard_reads_the_reports_database(database_url, reports_database_url, seed):
    _enrol_pending(seed.db, "Waiting On The Primary")
    seed.db.commit()
    replica = get_engine({"sqlalchemy.url": reports_database_url, **TEST_SETTINGS})
    run_in_transaction(get_session_factory(replica),
                       lambda db: _enrol_pending(db, "Waiting On The Replica", "Also On The Replica"))
    app = _app(database_url, **{"lps.reports.database_url": reports_database_url})
    try:
        testapp = TestApp(app)
        _sign_in(testapp, seed)
        page = testapp.get("/")
        assert page.html.select_one("#pending .figure").text.strip() == "2"
        fallback = TestApp(_app(database_url))
        _sign_in(fallback, seed, "admin2")
        assert fallback.get("/").html.select_one("#pending .figure").text.strip() == "1"
        _dispose(fallback.app)
    finally:
        _dispose(app)
        with replica.begin() as connection:
            connection.execute(text("DELETE FROM members"))
        replica.dispose()


def _sign_in(testapp, seed, username="admin"):
    from lps_core.operators.services import create_operator

    create_operator(seed.db, username, "correct horse battery", roles=["administrator"], outlets=["all"],
                    must_change_password=False)
    seed.db.commit()
    page = testapp.get("/login")
    testapp.post("/login", {"username": username, "password": "correct horse battery",
                            "csrf_token": csrf_of(page)}, status=303)


def test_a_request_reports_through_a_read_only_session_that_it_closes(database_url, db):
    app = _app(database_url, **{"lps.reports.database_url": database_url})
    env = prepare(registry=app.registry)
    request = env["request"]
    try:
        reports = request.reports_db
        assert reports is not request.dbsession and reports_session_of(request.dbsession) is reports
        assert reports_session_of(reports) is reports
        assert reports.get_bind() is app.registry["reports_engine"]
        with pytest.raises(DBAPIError, match="read-only transaction|readonly database"):
            reports.execute(text("INSERT INTO properties (code, name, kind) VALUES ('RX', 'No', 'hotel')"))
    finally:
        env["closer"]()
        _dispose(app)
    assert app.registry["reports_engine"].pool.checkedout() == 0


def test_without_the_setting_reports_read_the_requests_own_session(database_url):
    app = _app(database_url)
    env = prepare(registry=app.registry)
    request = env["request"]
    try:
        assert app.registry["reports_engine"] is None
        assert request.reports_db is request.dbsession
        assert reports_session_of(request.dbsession) is request.dbsession
    finally:
        request.tm.abort()
        env["closer"]()
        _dispose(app)


def test_a_replica_that_cannot_be_reached_stops_the_dashboard_not_the_tills(database_url, tmp_path, seed):
    unreachable = ("postgresql+psycopg://postgres@127.0.0.1:1/lps" if database_url.startswith("postgresql")
                   else f"sqlite:///{tmp_path}/no/such/folder/reports.sqlite")
    app = _app(database_url, **{"lps.reports.database_url": unreachable, "lps.db.connect_timeout": "2"})
    try:
        testapp = TestApp(app)
        card_no = seed.member_card()
        key = seed.api_key("REST")
        testapp.post_json("/api/v1/transactions", {"card_no": card_no, "bill_no": "R-1", "amount": "10.00"},
                          headers={"Authorization": f"Bearer {key}"}, status=201)
        _sign_in(testapp, seed)
        page = testapp.get("/", status=503)
        assert page.headers["Retry-After"]
    finally:
        _dispose(app)
