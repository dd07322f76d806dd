"""The migrations build exactly the schema the models describe, on both databases."""
import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lps_core.db.models import Base


def test_migrated_schema_matches_the_models(engine):
    def built_here(item, name, kind, reflected, compared_to):  # an index of one dialect only is not elsewhere
        return item.info.get("dialect", engine.dialect.name) == engine.dialect.name

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": built_here})
        assert compare_metadata(context, Base.metadata) == []


def test_the_member_behaviour_indexes_go_down_and_up_again(database_url, tmp_path):
    """0041 and 0044: segments' and analytics' indexes (the GIN index on item lines on PostgreSQL only);
    0044 turned member_activity's round, member first."""
    from alembic import command
    from sqlalchemy import inspect

    from lps_core.db import get_engine
    from lps_core.db.migrate import alembic_config, upgrade
    from lps_core.testing import TEST_SETTINGS, migrated_database

    ours = {"ix_member_activity_member_id_month", "ix_bills_outlet_id_occurred_at_member_id", "ix_bills_items_jsonb"}
    with migrated_database(database_url, tmp_path, "lps_0041") as url:
        engine = get_engine({"sqlalchemy.url": url, **TEST_SETTINGS})

        def present():
            found = inspect(engine)
            return {ix["name"] for table in ("bills", "member_activity") for ix in found.get_indexes(table)} & ours

        postgres = engine.dialect.name == "postgresql"
        assert present() == (ours if postgres else ours - {"ix_bills_items_jsonb"})
        with engine.begin() as connection:
            config = alembic_config(engine.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0040")
        assert present() == set()
        upgrade(engine)
        assert present() == (ours if postgres else ours - {"ix_bills_items_jsonb"})
        engine.dispose()


def test_entries_written_without_their_accounts_kind_get_it_and_then_it_is_required(database_url, tmp_path):
    """0046: every entry carries its account's kind; one written without it before is filled in."""
    import pytest
    from alembic import command
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import IntegrityError

    from lps_core.db import get_engine
    from lps_core.db.migrate import alembic_config, upgrade
    from lps_core.testing import TEST_SETTINGS, migrated_database

    entry = text("INSERT INTO ledger_entries (account_id, kind, amount, balance_after, business_key, fingerprint, "
                 "occurred_at, created_at) VALUES (1, 'earn', 5, 5, :key, 'f', :at, :at)")  # no account_kind
    at = "2026-11-27 00:00:00+00:00"
    with migrated_database(database_url, tmp_path, "lps_0046") as url:
        engine = get_engine({"sqlalchemy.url": url, **TEST_SETTINGS})
        with engine.begin() as connection:
            config = alembic_config(engine.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0045")
            connection.execute(text("INSERT INTO accounts (id, kind, balance, created_at) VALUES (1, 'points', 5, :at)"),
                               {"at": at})
            connection.execute(entry, {"key": "before", "at": at})
        upgrade(engine)
        [column] = [c for c in inspect(engine).get_columns("ledger_entries") if c["name"] == "account_kind"]
        assert column["nullable"] is False
        with engine.begin() as connection:
            assert connection.execute(text("SELECT account_kind FROM ledger_entries")).scalar_one() == "points"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(entry, {"key": "after", "at": at})
        engine.dispose()


def test_bills_lines_become_jsonb_and_stay_whole(database_url, tmp_path):
    """0048: on PostgreSQL a bill's item lines become jsonb, read back as they were written and found
    by containment, as a segment on categories finds them; SQLite keeps its JSON text."""
    from alembic import command
    from sqlalchemy import inspect, text

    from lps_core.db import get_engine
    from lps_core.db.migrate import alembic_config, upgrade
    from lps_core.testing import TEST_SETTINGS, migrated_database

    lines = [{"sku": "W1", "category": "wine", "qty": "1.5", "amount": "12.50"}]
    with migrated_database(database_url, tmp_path, "lps_0048") as url:
        engine = get_engine({"sqlalchemy.url": url, **TEST_SETTINGS})
        postgres = engine.dialect.name == "postgresql"

        def items_type():
            return next(c["type"] for c in inspect(engine).get_columns("bills") if c["name"] == "items")

        with engine.begin() as connection:
            config = alembic_config(engine.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0047")
            if postgres:  # a bill alone: its outlet, card and member do not matter to the column
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                connection.execute(text(
                    "INSERT INTO bills (id, outlet_id, bill_no, card_id, member_id, amount_cents, items, occurred_at, "
                    "fingerprint, points, qualifying_nights, qualifying_stays, created_at, updated_at) VALUES "
                    "(1, 1, 'B1', 1, 1, 1250, CAST(:lines AS json), now(), 'f', 12, 0, 0, now(), now())"),
                    {"lines": json.dumps(lines)})
        assert type(items_type()).__name__ == "JSON"
        upgrade(engine)
        assert type(items_type()).__name__ == ("JSONB" if postgres else "JSON")
        if postgres:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT items FROM bills")).scalar_one() == lines
                found = text("SELECT count(*) FROM bills WHERE items @> CAST(:wanted AS jsonb)")
                assert connection.execute(found, {"wanted": '[{"category": "wine"}]'}).scalar_one() == 1
                assert connection.execute(found, {"wanted": '[{"category": "food"}]'}).scalar_one() == 0
        engine.dispose()


def test_the_members_tier_index_and_the_ledgers_partial_indexes_go_down_and_up_again(database_url, tmp_path):
    """0050: members by tier, with their ids and (on PostgreSQL) statuses; 0051: the ledger's indexes
    by reversed entry and by bill leave out the entries without one, and are whole again below it."""
    from alembic import command
    from sqlalchemy import text

    from lps_core.db import get_engine
    from lps_core.db.migrate import alembic_config, upgrade
    from lps_core.testing import TEST_SETTINGS, migrated_database

    with migrated_database(database_url, tmp_path, "lps_0051") as url:
        engine = get_engine({"sqlalchemy.url": url, **TEST_SETTINGS})
        postgres = engine.dialect.name == "postgresql"
        read = (text("SELECT indexdef FROM pg_indexes WHERE indexname = :name") if postgres else
                text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"))

        def definition(name):  # without quotes and parentheses, which the two databases place differently
            with engine.connect() as connection:
                found = connection.execute(read, {"name": name}).scalar()
            return found and " ".join(found.translate(str.maketrans("", "", '"()')).split())

        def at_head():
            members = definition("ix_members_tier_id_id")
            assert "tier_id, id" in members and (("INCLUDE status" in members) == postgres)
            for column in ("reverses_id", "bill_id"):
                assert f"WHERE {column} IS NOT NULL" in definition(f"ix_ledger_entries_{column}")

        at_head()
        with engine.begin() as connection:
            config = alembic_config(engine.url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0049")
        assert definition("ix_members_tier_id_id") is None
        for column in ("reverses_id", "bill_id"):
            assert "WHERE" not in definition(f"ix_ledger_entries_{column}")
        upgrade(engine)
        at_head()
        engine.dispose()
