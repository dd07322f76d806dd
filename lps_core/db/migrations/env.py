"""Alembic environment: the URL comes from the app's ini file (or LPS's CLI), the metadata from the models."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from lps_core.db.models import Base

config = context.config


def run_migrations():
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection):
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
