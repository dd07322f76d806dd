"""Running Alembic from code: the schema only ever comes from these migrations."""
from importlib.resources import files

from alembic import command
from alembic.config import Config


def alembic_config(url) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("lps_core.db").joinpath("migrations")))
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine, revision="head"):
    config = alembic_config(engine.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
