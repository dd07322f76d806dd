"""Card numbers: validation, look-up, the pre-generated pool and issuance (at approval, over the counter
and on replacement)."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from lps_core.cards.luhn import luhn_valid, with_check_digit
from lps_core.cards.models import Card, CardNumberCounter, CardType
from lps_core.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, STORED_VALUE, USES, Account
from lps_core.ledger.services import credit, fingerprint_of, get_or_create_account
from lps_core.members.models import Member, Tier
from lps_core.settings import ISSUANCE_METHODS
from lps_core.timeutil import as_utc, utcnow

CARD_NUMBER_LENGTH = 16


@dataclass(frozen=True)
class CardView:
    """A card with what the cashier and the API need to know about it, read in one query."""

    card_id: int
    card_no: str
    status: str
    card_type_code: str
    member_id: int | None
    member_name: str | None
    member_status: str | None
    tier_code: str | None
    tier_multiplier: object
    card_multiplier: object
    referred_by_id: int | None
    points_account_id: int | None
    points_balance: int
    stored_value_balance: int
    # The validity windows of the card and of its type, for the usability rule without a second query.
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    type_valid_from: datetime | None = None
    type_valid_to: datetime | None = None
    # The partner of a co-branded card type (its property id), or None: read in the same statement,
    # so a bill on any other card knows it has no partner-funded benefit without asking again.
    partner_id: int | None = None


def normalize_card_no(raw, field="card_no") -> str:
    """Digits only (spaces and dashes as printed on the card are dropped), with a valid check digit."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed(f"{field} is required", {field: "is required"})
    number = raw.replace(" ", "").replace("-", "")
    if not number.isdigit() or not 8 <= len(number) <= 32:
        raise ValidationFailed(f"{field} must be 8 to 32 digits", {field: "must be 8 to 32 digits"})
    if not luhn_valid(number):
        raise ValidationFailed(
            f"{field} {number} fails its check digit: the number is mistyped",
            {field: "check digit does not match: the number is mistyped"},
        )
    return number


def _card_view_statement():
    points = Account.__table__.alias("points")
    stored = Account.__table__.alias("stored")
    return (
        select(
            Card.id, Card.card_no, Card.status, CardType.code.label("card_type_code"), Card.member_id,
            Member.name.label("member_name"), Member.status.label("member_status"),
            Tier.code.label("tier_code"), Tier.multiplier.label("tier_multiplier"),
            CardType.points_multiplier.label("card_multiplier"), Member.referred_by_id,
            points.c.id.label("points_account_id"), points.c.balance.label("points_balance"),
            stored.c.balance.label("stored_value_balance"),
            Card.valid_from, Card.valid_to, CardType.valid_from.label("type_valid_from"),
            CardType.valid_to.label("type_valid_to"), CardType.partner_property_id.label("partner_id"),
        )
        .join(CardType, CardType.id == Card.card_type_id)
        .outerjoin(Member, Member.id == Card.member_id)
        .outerjoin(Tier, Tier.id == Member.tier_id)
        .outerjoin(points, (points.c.member_id == Card.member_id) & (points.c.kind == POINTS))
        .outerjoin(stored, (stored.c.card_id == Card.id) & (stored.c.kind == STORED_VALUE))
        .where(Card.card_no == bindparam("card_no"))
    )


# Built once: this look-up runs on every earn request, and building it was a third of its cost.
CARD_VIEW = _card_view_statement()


def find_card(db, card_no) -> CardView | None:
    # On the session's connection: the ORM's execution path added a third to the look-up's CPU,
    # and the statement reads columns, not entities. They are read through the row's mapping: a
    # Row's attribute raises and catches an AttributeError inside SQLAlchemy first (bench/README.md).
    row = db.connection().execute(CARD_VIEW, {"card_no": card_no}).one_or_none()
    if row is None:
        return None
    c = row._mapping
    return CardView(c["id"], c["card_no"], c["status"], c["card_type_code"], c["member_id"], c["member_name"],
                    c["member_status"], c["tier_code"], c["tier_multiplier"], c["card_multiplier"],
                    c["referred_by_id"], c["points_account_id"],
                    c["points_balance"] or 0, c["stored_value_balance"] or 0, c["valid_from"], c["valid_to"],
                    c["type_valid_from"], c["type_valid_to"], c["partner_id"])


def get_card(db, raw_card_no, field="card_no") -> CardView:
    card_no = normalize_card_no(raw_card_no, field)
    card = find_card(db, card_no)
    if card is None:
        raise NotFound(f"card {card_no} is not known", {field: "no such card"})
    return card


def get_card_type(db, code=None) -> CardType:
    """The named card type, or the first one defined when no code is given."""
    query = select(CardType)
    query = query.where(CardType.code == code) if code else query.order_by(CardType.id)
    card_type = db.scalars(query.limit(1)).first()
    if card_type is None:
        if code:
            raise Unprocessable(f"card type {code!r} does not exist", {"card_type": "no such card type"})
        raise Conflict("no card type is defined yet", {"card_type": "define a card type first"})
    return card_type


def allocate_card_numbers(db, prefix, count, *, serial_range=None) -> list[str]:
    """`count` new numbers with `prefix`: a serial, zero-padded, plus a Luhn check digit. The serial
    counts per prefix from 1; with `serial_range` (first, last) it counts from `first` in a counter
    of that range's own, and never passes `last`."""
    if not prefix.isdigit() or not 1 <= len(prefix) <= 8:
        raise ValidationFailed("prefix must be 1 to 8 digits", {"prefix": "must be 1 to 8 digits"})
    if not 1 <= count <= 1_000_000:
        raise ValidationFailed("count must be 1 to 1000000", {"count": "must be 1 to 1000000"})
    width = CARD_NUMBER_LENGTH - 1 - len(prefix)
    first_serial, last_serial = serial_range or (1, 10**width - 1)
    key = f"{prefix}:{first_serial}" if serial_range else prefix
    counter = select(CardNumberCounter.prefix).where(CardNumberCounter.prefix == key)
    if db.scalar(counter.with_for_update()) is None:
        db.execute(insert(CardNumberCounter).values(prefix=key, next_serial=first_serial))
    end = db.scalar(
        update(CardNumberCounter).where(CardNumberCounter.prefix == key)
        .values(next_serial=CardNumberCounter.next_serial + count).returning(CardNumberCounter.next_serial)
    )
    first = end - count
    if end - 1 > min(last_serial, 10**width - 1):
        if serial_range:
            raise Conflict(f"the number range {first_serial}-{last_serial} of prefix {prefix} has run out",
                           {"serial_to": "the range is exhausted"})
        raise Conflict(f"prefix {prefix} has run out of card numbers", {"prefix": "exhausted"})
    return [with_check_digit(f"{prefix}{serial:0{width}d}") for serial in range(first, end)]


def numbers_for_type(db, card_type, count, prefix=None) -> list[str]:
    """`count` new numbers of `card_type`: in its own range when it has one (which another prefix
    cannot use), else with `prefix` or the type's."""
    if card_type.serial_from is not None:
        if prefix not in (None, card_type.prefix):
            raise Unprocessable(f"card type {card_type.code!r} has its own number range with prefix "
                                f"{card_type.prefix}", {"prefix": f"must be {card_type.prefix} or left out"})
        return allocate_card_numbers(db, card_type.prefix, count,
                                     serial_range=(card_type.serial_from, card_type.serial_to))
    return allocate_card_numbers(db, prefix or card_type.prefix, count)


def generate_pool(db, count, *, prefix=None, card_type_code=None) -> list[str]:
    """Pre-generate unissued cards (the pool that approval draws from)."""
    card_type = get_card_type(db, card_type_code)
    numbers = numbers_for_type(db, card_type, count, prefix)
    db.execute(insert(Card), [
        {"card_no": number, "card_type_id": card_type.id, "status": "unissued"} for number in numbers
    ])
    return numbers


def issue_card(db, member_id, *, method="pool_then_generate", card_type_code=None, outlet_id=None) -> str:
    """Give a member an active card: the oldest unissued one of the type from the pool, or a new number.
    The card gets the type's validity and its stored value (and, for a count card, uses) accounts."""
    card_type = get_card_type(db, card_type_code)
    if not card_type.active:
        raise Unprocessable(f"card type {card_type.code!r} is no longer issued", {"card_type": "is inactive"})
    now = utcnow()
    card_id = claim_card(db, card_type, method)
    db.execute(update(Card).where(Card.id == card_id).values(member_id=member_id, **issue_values(card_type, now, outlet_id)))
    open_card_accounts(db, card_id, card_type, now)
    return db.scalar(select(Card.card_no).where(Card.id == card_id))


def claim_card(db, card_type, method="pool_then_generate") -> int:
    """The id of a card of `card_type` to issue: the oldest unissued one from the pool (locked, so
    two issuances never take the same), or a newly numbered one, still unissued."""
    if method not in ISSUANCE_METHODS:
        raise ValueError(f"lps.cards.issuance must be one of {', '.join(ISSUANCE_METHODS)}, not {method!r}")
    card_id = None
    if method != "generate":
        card_id = db.scalar(
            select(Card.id).where(Card.status == "unissued", Card.card_type_id == card_type.id)
            .order_by(Card.id).limit(1).with_for_update(skip_locked=True)
        )
        if card_id is None and method == "pool":
            raise Conflict(f"the pool of {card_type.code} cards is empty: generate more with `lps cards generate`",
                           {"card_type": "no unissued card left"})
    if card_id is None:
        [number] = numbers_for_type(db, card_type, 1)
        card_id = db.scalar(insert(Card).values(card_no=number, card_type_id=card_type.id, status="unissued")
                            .returning(Card.id))
    return card_id


def issue_values(card_type, now, outlet_id=None) -> dict:
    """The columns of a card being issued now: active, with the type's validity."""
    valid_from, valid_to = validity_at_issue(card_type, now)
    return {"status": "active", "issued_at": now, "issued_outlet_id": outlet_id, "valid_from": valid_from,
            "valid_to": valid_to, "status_changed_at": now}


def validity_at_issue(card_type, now) -> tuple:
    """(valid_from, valid_to) of a card issued at `now`: validity_days from issue (or from the
    type's start, if later), clipped to the type's own window; (None, None) for a type without one."""
    type_from = as_utc(card_type.valid_from) if card_type.valid_from else None
    type_to = as_utc(card_type.valid_to) if card_type.valid_to else None
    if card_type.validity_days is None and type_from is None and type_to is None:
        return None, None
    start = max(now, type_from) if type_from else now
    end = start + timedelta(days=card_type.validity_days) if card_type.validity_days else None
    if type_to is not None:
        end = min(end, type_to) if end else type_to
    return start, end


def open_card_accounts(db, card_id, card_type, now):
    """Open a newly issued card's stored value account and, for a count card, its uses account
    credited with the type's initial uses."""
    db.execute(insert(Account).values(kind=STORED_VALUE, card_id=card_id, balance=0))
    if card_type.initial_uses:
        uses_account = get_or_create_account(db, USES, card_id=card_id)
        credit(db, uses_account, card_type.initial_uses, kind="issue", business_key=f"issue-uses:{card_id}",
               fingerprint=fingerprint_of({"card_id": card_id, "uses": card_type.initial_uses}), occurred_at=now,
               note=f"{card_type.initial_uses} uses of card type {card_type.code}")
