"""Change stamps: the database's own clock, read in the statement that changes a row.

`changed_now()` is PostgreSQL's now() (the start of the transaction, so every row a transaction
touches gets one stamp, and no stamp is later than the transaction's start: what lets the
website's sync find the oldest moment a transaction still open may write, lps_core.website.sync).
On SQLite it is the current time to the millisecond, written as SQLAlchemy writes a datetime there
(`2026-11-26 10:20:37.123000`): CURRENT_TIMESTAMP, which func.now() becomes on SQLite, has whole
seconds only, and two changes in one second could not be told apart in time."""
from sqlalchemy import DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class changed_now(FunctionElement):  # noqa: N801 (a SQL function, named like func.now)
    type = DateTime(timezone=True)
    inherit_cache = True


@compiles(changed_now)
def _now(element, compiler, **kw):
    return "now()"


@compiles(changed_now, "sqlite")
def _sqlite_now(element, compiler, **kw):
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
