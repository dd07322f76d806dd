"""The cursors of a psycopg engine describe their results lazily (lps_core.db.cursors), and what
they describe is what psycopg would: the same columns, the same None, also when read late."""
import psycopg
import pytest
from sqlalchemy import select, text

from lps_core.db import cursors, get_engine
from lps_core.members.models import Member


@pytest.fixture
def driver_connection(engine):
    if engine.url.get_driver_name() != "psycopg":
        pytest.skip("the cursor class is psycopg's")
    with engine.connect() as connection:
        yield connection.connection.driver_connection


def columns(description):
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale, c.null_ok)
            for c in description]


QUERY = "SELECT 1::int AS one, 'x'::varchar(5) AS label, 2.50::numeric(6, 2) AS amount, now() AS at"


def test_the_description_lists_what_psycopgs_own_lists(driver_connection):
    ours = driver_connection.cursor()
    assert isinstance(ours, cursors.Cursor)
    theirs = psycopg.Cursor(driver_connection)
    ours.execute(QUERY)
    theirs.execute(QUERY)
    assert len(ours.description) == 4
    assert columns(ours.description) == columns(theirs.description)
    assert [column.name for column in ours.description] == ["one", "label", "amount", "at"]
    assert ours.description[1].name == "label" and ours.description[-1].name == "at"
    assert ours.description[0][0] == "one"  # a column is a DB-API 7-item sequence


def test_no_result_rows_no_description_and_no_columns_an_empty_one(driver_connection):
    cursor = driver_connection.cursor()
    cursor.execute("SET LOCAL statement_timeout = 0")
    assert cursor.description is None
    cursor.execute("SELECT")
    assert cursor.description is not None and len(cursor.description) == 0 and list(cursor.description) == []


def test_a_description_read_after_the_next_statement_still_describes_its_own(driver_connection):
    cursor = driver_connection.cursor()
    cursor.execute(QUERY)
    first = cursor.description
    cursor.execute("SELECT 'other' AS other")
    assert [column.name for column in first] == ["one", "label", "amount", "at"]
    assert [column.name for column in cursor.description] == ["other"]


def test_results_keep_their_keys_whether_sqlalchemy_has_seen_the_statement_or_not(engine, clean_db):
    if engine.url.get_driver_name() != "psycopg":
        pytest.skip("the cursor class is psycopg's")
    with engine.connect() as connection:
        for _ in range(3):  # the first builds the result's metadata from the description; the rest reuse it
            row = connection.execute(text("SELECT 7 AS seven, 'x' AS ex")).one()
            assert row._mapping == {"seven": 7, "ex": "x"}
            assert connection.execute(select(Member.id).limit(1)).all() == []


@pytest.mark.parametrize("pipelined", ["true", "false"])
def test_every_psycopg_engine_gets_the_cursor_class(engine, pipelined):
    if engine.url.get_driver_name() != "psycopg":
        pytest.skip("the cursor class is psycopg's")
    other = get_engine({"sqlalchemy.url": engine.url.render_as_string(hide_password=False),
                        "lps.db.pipelined_begin": pipelined})
    try:
        with other.connect() as connection:
            assert isinstance(connection.connection.driver_connection.cursor(), cursors.Cursor)
    finally:
        other.dispose()


def test_sqlalchemy_reads_no_columns_of_a_statement_it_has_run_before(engine, clean_db, monkeypatch):
    if engine.url.get_driver_name() != "psycopg":
        pytest.skip("the cursor class is psycopg's")
    made = []

    class CountedColumn(psycopg.Column):
        def __init__(self, cursor, index):
            made.append(index)
            super().__init__(cursor, index)

    monkeypatch.setattr(psycopg, "Column", CountedColumn)  # what lps_core.db.cursors makes
    monkeypatch.setattr(psycopg._cursor_base, "Column", CountedColumn)  # and psycopg's own description
    statement = select(Member.id, Member.status).where(Member.id == -1)
    with engine.connect() as connection:
        connection.execute(statement).all()
        first = len(made)
        connection.execute(statement).all()
        connection.execute(statement).all()
    assert first in (0, 2)  # 2 unless an earlier test left the compiled statement in the cache
    assert len(made) == first  # the compiled statement already holds its result's columns
