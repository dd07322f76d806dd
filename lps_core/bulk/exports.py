"""Exports of members, cards and points balances, whole or only what changed since a day.

Personal data (phone, ID number, address) is decrypted into an export only for a caller allowed to
see it (`personal=True`: staff with data.export_personal, the `lps export` command run by whoever
holds the keys, a website key); otherwise those columns are left out, so a file re-imported from
such an export leaves them untouched. Every export is audited: who, which kind and format, how
many rows, since when, whether personal data was in it; never the data itself.

"Changed since" a day, from 00:00 where the programme is (lps.timezone):
- a member: written since, by its change stamp (members.updated_at, which every insert and update
  moves: an enrolment, an approval, an edit, a tier change, an import);
- a card: made, issued or changed status since;
- a balance: a points account with a ledger entry posted since."""
from datetime import date, datetime, time

from sqlalchemy import exists, func, null, or_, select

from lps_core.audit.services import record
from lps_core.bulk.files import write_table
from lps_core.cards.models import Card, CardType
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.members.models import Member, Tier
from lps_core.timeutil import isoformat, utcnow

PERSONAL_COLUMNS = ("phone", "id_number", "address")
COLUMNS = {
    "members": ("member_id", "name", "phone", "email", "birthday", "gender", "id_number", "address", "status", "tier",
                "enrolled_at", "points_balance"),
    "cards": ("card_no", "card_type", "member_id", "status", "issued_at", "valid_to"),
    "balances": ("member_id", "name", "points_balance", "last_posting_at"),
}


def since_moment(day: date | None, tz) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=tz) if day else None


def _text(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _member_rows(db, since, personal):
    points = select(Account.member_id, Account.balance).where(Account.kind == POINTS).subquery()
    query = (select(Member.id, Member.name, Member.phone if personal else null(), Member.email, Member.birthday,
                    Member.gender, Member.id_number if personal else null(), Member.address if personal else null(),
                    Member.status, Tier.code, Member.created_at, points.c.balance)
             .outerjoin(Tier, Tier.id == Member.tier_id).outerjoin(points, points.c.member_id == Member.id)
             .order_by(Member.id))
    if since is not None:
        query = query.where(Member.updated_at >= since)
    for row in db.execute(query).yield_per(5000):
        (member_id, name, phone, email, birthday, gender, id_number, address, status, tier, enrolled_at,
         balance) = row
        yield (member_id, name, phone if personal else None, email, birthday, gender, id_number if personal else None,
               address if personal else None, status, tier, enrolled_at, balance or 0)


def _card_rows(db, since):
    query = (select(Card.card_no, CardType.code, Card.member_id, Card.status, Card.issued_at, Card.valid_to)
             .join(CardType, CardType.id == Card.card_type_id).order_by(Card.id))
    if since is not None:
        query = query.where(or_(Card.created_at >= since, Card.issued_at >= since, Card.status_changed_at >= since))
    yield from db.execute(query).yield_per(5000)


def _balance_rows(db, since):
    last = (select(LedgerEntry.account_id, func.max(LedgerEntry.created_at).label("last"))
            .group_by(LedgerEntry.account_id).subquery())
    query = (select(Member.id, Member.name, Account.balance, last.c.last)
             .join(Account, (Account.member_id == Member.id) & (Account.kind == POINTS))
             .outerjoin(last, last.c.account_id == Account.id).order_by(Member.id))
    if since is not None:
        query = query.where(exists().where(LedgerEntry.account_id == Account.id, LedgerEntry.created_at >= since))
    yield from db.execute(query).yield_per(5000)


def export(db, kind, file_format, *, actor, personal: bool, changed_since: date | None = None, tz=None,
           address=None) -> tuple[bytes, str, int]:
    """(the file, its name, how many rows) of `kind`, audited in the caller's transaction."""
    since = since_moment(changed_since, tz)
    columns = COLUMNS[kind]
    if kind == "members":
        rows = _member_rows(db, since, personal)
        if not personal:
            keep = [index for index, column in enumerate(columns) if column not in PERSONAL_COLUMNS]
            columns = tuple(columns[index] for index in keep)
            rows = (tuple(row[index] for index in keep) for row in rows)
    elif kind == "cards":
        rows = _card_rows(db, since)
    else:
        rows = _balance_rows(db, since)
    now = utcnow()
    table = [tuple(_text(value) for value in row) for row in rows]
    content = write_table(kind, columns, table, file_format, exported_at=isoformat(now))
    suffix = f"-since-{changed_since.isoformat()}" if changed_since else ""
    name = f"lps-{kind}{suffix}-{now.strftime('%Y%m%d-%H%M%S')}.{file_format}"
    record(db, actor=actor, action="bulk.export", target=("export", kind), address=address,
           after={"kind": kind, "file_format": file_format, "rows": len(table), "personal_data": personal,
                  "changed_since": changed_since.isoformat() if changed_since else None})
    return content, name, len(table)
