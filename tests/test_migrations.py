"""The migrations build exactly the schema the models describe, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lps_core.db.models import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_member_behaviour_indexes_go_down_and_up_again(database_url, tmp_path):
    """0041 and 0044: segments' and analytics' indexes (the GIN index on item lines on PostgreSQL only);
    0044 turned member_activity's round, member first."""
    from alembic import command
    from sqlalchemy import inspect

    from lps_core.db import get_engine
    from lps_core.db.migrate import alembic_config, upgrade
    from lps_core.testing import PII_SETTINGS, migrated_database

    ours = {"ix_member_activity_member_id_month", "ix_bills_outlet_id_occurred_at_member_id", "ix_bills_items_jsonb"}
    with migrated_database(database_url, tmp_path, "lps_0041") as url:
        engine = get_engine({"sqlalchemy.url": url, **PII_SETTINGS})

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
