"""A transaction's BEGIN travels with its first statement on PostgreSQL (lps_core.db.begin), and the
transaction is the same as before: what it wrote commits or rolls back as one, whichever way its
first statement went out, and the connection is handed back as psycopg had it."""
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lps_core.testing import round_trips

INSERT = text("INSERT INTO card_number_counters (prefix, next_serial) VALUES (:prefix, 1)")
COUNT = text("SELECT count(*) FROM card_number_counters WHERE prefix LIKE :prefix")


def counters(engine, prefix):
    with engine.connect() as connection:
        return connection.execute(COUNT, {"prefix": prefix}).scalar_one()


def waits(lines) -> int:
    return sum("ReadyForQuery" in line for line in lines)


@pytest.fixture
def postgresql_engine(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("BEGIN is sent by the driver on PostgreSQL only")
    return engine


def test_the_first_statement_carries_the_begin(postgresql_engine, clean_db):
    with round_trips(postgresql_engine) as lines:
        with postgresql_engine.begin() as connection:
            connection.execute(INSERT, {"prefix": "rt-1"})
            started = connection.execute(text("SELECT now() = statement_timestamp()")).scalar_one()
    assert waits(lines) == 3, "\n".join(lines)  # BEGIN with the INSERT, the SELECT, COMMIT
    assert not [line for line in lines if line.startswith("F") and '"BEGIN"' in line and "Query" in line]
    assert started is False  # the SELECT ran in the transaction the INSERT began
    assert counters(postgresql_engine, "rt-1") == 1


def test_a_rolled_back_transaction_takes_back_its_first_statement(engine, clean_db):
    with engine.connect() as connection:
        connection.execute(INSERT, {"prefix": "rb-1"})
        connection.execute(INSERT, {"prefix": "rb-2"})
        connection.rollback()
    assert counters(engine, "rb-%") == 0


def test_a_failing_statement_rolls_back_the_first_and_the_connection_serves_again(engine, clean_db):
    with pytest.raises(DBAPIError):
        with engine.begin() as connection:
            connection.execute(INSERT, {"prefix": "fail-1"})
            connection.execute(INSERT, {"prefix": "fail-1"})  # the same key: refused
    assert counters(engine, "fail-%") == 0
    with pytest.raises(DBAPIError):
        with engine.begin() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))  # the first statement itself fails
    with engine.begin() as connection:
        connection.execute(INSERT, {"prefix": "fail-2"})
    assert counters(engine, "fail-%") == 1


def test_executemany_copy_and_a_server_side_cursor_begin_the_transaction_too(engine, clean_db):
    with engine.connect() as connection:
        connection.execute(INSERT, [{"prefix": "many-1"}, {"prefix": "many-2"}])
        connection.rollback()
    assert counters(engine, "many-%") == 0
    with engine.connect() as connection:
        connection.execute(INSERT, {"prefix": "stream-1"})
        connection.commit()
        streamed = connection.execution_options(stream_results=True).execute(COUNT, {"prefix": "stream-%"})
        assert streamed.scalar_one() == 1
        connection.rollback()
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()
            with cursor.copy("COPY card_number_counters (prefix, next_serial) FROM STDIN") as copy:
                copy.write_row(("copy-1", 1))
            connection.rollback()
        assert counters(engine, "copy-%") == 0


def test_the_connection_leaves_autocommit_when_its_transaction_ends(postgresql_engine, clean_db):
    with postgresql_engine.connect() as connection:
        driver = connection.connection.driver_connection
        connection.execute(INSERT, {"prefix": "ac-1"})
        assert driver.autocommit is True and driver.info.transaction_status.name == "INTRANS"
        connection.commit()
        assert driver.autocommit is False
        connection.execute(INSERT, {"prefix": "ac-2"})
        connection.rollback()
        assert driver.autocommit is False
    assert counters(postgresql_engine, "ac-%") == 1


def test_an_autocommit_block_is_left_to_the_driver(postgresql_engine, clean_db):
    with postgresql_engine.connect() as connection:
        block = connection.execution_options(isolation_level="AUTOCOMMIT")
        block.execute(INSERT, {"prefix": "auto-1"})
        block.rollback()  # nothing to roll back: the INSERT committed on its own
    assert counters(postgresql_engine, "auto-%") == 1


def test_an_isolation_level_of_the_ini_file_is_kept(database_url, clean_db):
    from lps_core.db import get_engine
    from lps_core.testing import TEST_SETTINGS

    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one isolation level")
    serializable = get_engine({"sqlalchemy.url": database_url, "sqlalchemy.isolation_level": "SERIALIZABLE",
                               **TEST_SETTINGS})
    try:
        with round_trips(serializable) as lines, serializable.begin() as connection:
            level = connection.execute(text("SHOW transaction_isolation")).scalar_one()
        assert level == "serializable" and waits(lines) == 2  # with BEGIN, and COMMIT
    finally:
        serializable.dispose()


def test_a_connection_left_in_autocommit_by_a_failed_end_still_begins(postgresql_engine, clean_db):
    """Should a transaction's end not take the connection out of autocommit mode (a COMMIT that
    fails), its next transaction still begins with BEGIN: it does not run statement by statement."""
    from lps_core.db.begin import SWITCHED

    with postgresql_engine.connect() as connection:
        driver = connection.connection.driver_connection
        connection.execute(INSERT, {"prefix": "left-1"})
        connection.commit()
        driver.autocommit = True
        setattr(driver, SWITCHED, True)  # as a failed COMMIT would leave it
        connection.execute(INSERT, {"prefix": "left-2"})
        connection.execute(INSERT, {"prefix": "left-3"})
        connection.rollback()
    assert counters(postgresql_engine, "left-%") == 1


@pytest.mark.parametrize("setting", ["false", "auto"])
def test_pipelined_begin_can_be_turned_off_and_is_off_by_default_on_this_host(database_url, clean_db, setting):
    """`false` sends BEGIN alone, as psycopg does; so does the default, `auto`, on a connection to a
    server on this host (the suite's, through 127.0.0.1), where the pipeline costs more CPU than the
    round trip it saves."""
    from lps_core.db import get_engine
    from lps_core.testing import PII_SETTINGS

    if not database_url.startswith("postgresql"):
        pytest.skip("BEGIN is sent by the driver on PostgreSQL only")
    settings = {"sqlalchemy.url": database_url, **PII_SETTINGS}
    if setting != "auto":
        settings["lps.db.pipelined_begin"] = setting
    plain = get_engine(settings)
    try:
        with round_trips(plain) as lines, plain.begin() as connection:
            connection.execute(INSERT, {"prefix": f"off-{setting}"})
        assert waits(lines) == 3  # BEGIN alone, the INSERT, COMMIT
        assert [line for line in lines if line.startswith("F") and "Query" in line and '"BEGIN"' in line]
    finally:
        plain.dispose()
    assert counters(plain, f"off-{setting}") == 1


class Info:
    """What on_this_host reads of a psycopg connection's `info`; None: a libpq before 12."""

    def __init__(self, hostaddr):
        self._hostaddr = hostaddr

    @property
    def hostaddr(self):
        if self._hostaddr is None:
            raise psycopg.NotSupportedError("hostaddr needs libpq 12")
        return self._hostaddr


@pytest.mark.parametrize("hostaddr, local", [
    ("", True),  # a Unix-domain socket
    ("127.0.0.1", True), ("127.0.1.1", True), ("::1", True),
    ("10.0.0.5", False), ("192.168.1.20", False), ("2001:db8::7", False),
    (None, False),
])
def test_auto_pipelines_the_connections_that_reach_another_host(hostaddr, local):
    """`auto` decides by the address libpq connected to, not by the URL: a host name, PGHOST or a
    service file may lead anywhere. A libpq too old to tell counts as remote."""
    from lps_core.db.begin import on_this_host

    assert on_this_host(Info(hostaddr)) is local
