"""What every kind of import shares: the previewed row, its basis, look-ups a chunk at a time, and
duplicate keys within a file."""
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime

from sqlalchemy import JSON, insert, text

from lps_core.bulk.models import ADD, APPLY, CHANGE, CONFLICT, ERROR, SKIP, UNCHANGED
from lps_core.errors import LpsError
from lps_core.validation import validate

CHUNK = 5000  # rows per look-up query and per applied transaction


@dataclass
class Previewed:
    """One row as the preview shows it. `payload` (encrypted when stored) holds the row's values,
    its diff and, for a row that matches several records, each candidate's diff and basis."""

    row_no: int
    action: str
    base_action: str | None = None
    target_id: int | None = None
    problems: dict | None = None
    basis: str | None = None
    payload: dict = field(default_factory=dict)
    blind_index: str | None = None
    key: tuple | None = None  # what two rows of the file must not share (not stored)

    def conflict(self, kind, message, options):
        """Turn the row into a conflict; what it would do once resolved is kept in base_action."""
        if self.action != CONFLICT:
            self.base_action = self.action
        self.action = CONFLICT
        self.problems = {"conflict": {"kind": kind, "message": message, "options": list(options)}}


@dataclass
class ToApply:
    """A row confirm applies: its action (add or change), the record it changes, its basis and its
    values, decrypted from the sealed payload only when asked for (a stale check of a member's
    change needs none of them)."""

    row_no: int
    action: str
    target_id: int | None
    basis: str | None
    blind_index: str | None
    sealed: str
    keys: object

    @cached_property
    def payload(self) -> dict:
        return json.loads(self.keys.decrypt(self.sealed))

    @property
    def values(self) -> dict:
        return self.payload["values"]


def basis_of(values: dict) -> str:
    """A hash of the state a row was compared with; confirm compares it with the state then."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def jsonable(values: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, (date, datetime)) else value for name, value in values.items()}


def checked(schema, raw: dict):
    """(the row's model, None) or (None, its errors by field); a blank cell is no value."""
    try:
        return validate(schema, {name: value for name, value in raw.items() if value != ""}), None
    except LpsError as exc:  # a malformed cell (400), or cells that do not agree (422)
        return None, exc.fields


def error_row(row_no, raw, errors) -> Previewed:
    return Previewed(row_no, ERROR, problems={"errors": errors}, payload={"raw": raw})


def mark_duplicates(previewed: list[Previewed], noun: str) -> None:
    """Rows of the file that share a key: each becomes a conflict the operator settles by choosing
    the row that wins (the others are skipped) or by skipping it. Rows that would all change
    nothing stay unchanged."""
    groups = {}
    for row in previewed:
        if row.key is not None and row.action != ERROR:
            groups.setdefault(row.key, []).append(row)
    for rows in groups.values():
        if len(rows) < 2 or all(row.action == UNCHANGED for row in rows):
            continue
        numbers = [row.row_no for row in rows]
        for row in rows:
            others = ", ".join(str(number) for number in numbers if number != row.row_no)
            options = [SKIP, APPLY] if row.action != CONFLICT else row.problems["conflict"]["options"]
            row.conflict("duplicate", f"rows {others} name the same {noun}: choose the row that wins", options)
            row.problems["conflict"]["rows"] = numbers


def effective_action(action, base_action, resolution) -> str | None:
    """What confirm does with a row: add, change, or nothing (None)."""
    if action in (ADD, CHANGE):
        return None if resolution == SKIP else action
    if action == CONFLICT and resolution and resolution != SKIP:
        return base_action if base_action in (ADD, CHANGE) else None
    return None


def insert_rows(db, table, rows: list[dict], *, hashed=()) -> None:
    """Insert plain rows (every row with the same keys). On PostgreSQL with COPY, the fastest way in:
    each value goes through its column type's bind processing here (personal data is encrypted,
    JSON written), except the `hashed` columns, blind indexes already computed by the caller. On
    SQLite, one executemany INSERT (its types do the same; `hashed` columns hold plain values there).

    COPY skips insertmanyvalues, whose 1,000-row statements psycopg parses on the client: for
    100,000 members that parsing alone took longer than the copy."""
    if not rows:
        return
    if db.get_bind().dialect.name != "postgresql":
        db.execute(insert(table), rows)
        return
    dialect = db.get_bind().dialect
    names = list(rows[0])
    converters = []
    for name in names:
        column = table.c[name]
        if name in hashed:
            converters.append(None)
        elif isinstance(column.type, JSON):
            converters.append(lambda value: None if value is None else json.dumps(value, default=str))
        else:
            converters.append(column.type.bind_processor(dialect))
    cursor = db.connection().connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([value if convert is None or value is None else convert(value)
                            for convert, value in zip(converters, (row[name] for name in names))])


def reserve_ids(db, table, count) -> list[int]:
    """`count` new ids of `table` (PostgreSQL: from its sequence, for rows written with COPY)."""
    return list(db.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                "FROM generate_series(1, :count)"), {"count": count}))
