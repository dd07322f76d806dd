"""The cashier's look-up: find a card by its number, its holder's phone or name, and show what
the cashier needs before settling: tier and discount, balances, uses, credit, validity, the tier's
entitlements, and why the card cannot be used, if it cannot.

A phone number is looked up in E.164 through its blind index, read in lps.phone.default_region
when it has no country code: "13800000042", "138-0000-0042" and "+86 138 0000 0042" find the same
member.

Each look-up is one SELECT: the card with its type, holder, tier, the number of the card that
replaced it and every balance it shows, joined on unique keys, so it costs the same at a million
members as at a hundred (issue 11: p99 under 10 ms over HTTP, see bench/README.md). The statements
for a card number, a phone and an RFID tag id are built once."""
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import DateTime, bindparam, func, literal_column, select

from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import pin_needed
from lps_core.cards.products import discount_rate, validity_problem
from lps_core.cards.services import normalize_card_no
from lps_core.cards.tags import normalize_tag_id
from lps_core.cashier.documents import balances_json
from lps_core.coupons.models import ISSUED, Coupon
from lps_core.coupons.services import coupon_picture, valid_coupons_of
from lps_core.errors import Unprocessable, ValidationFailed
from lps_core.ledger.models import CREDIT, POINTS, STORED_VALUE, STORED_VALUE_BONUS, USES, Account
from lps_core.members.models import Member, Tier
from lps_core.pii import phone_e164, phone_region_of
from lps_core.timeutil import as_utc, isoformat

MAX_MATCHES = 20
NOW = DateTime(timezone=True)
# Cards that are history rather than something to pay with are left out of phone and name searches.
RETIRED = ("unissued", "replaced", "cancelled")
# The same, written into the SQL: a list of bound values would be expanded into the statement's
# text on every call (SQLAlchemy's "post-compile" step), a measurable share of the look-up's CPU.
NOT_RETIRED = Card.status.not_in([literal_column(f"'{status}'") for status in RETIRED])

# Every balance the picture shows: (label, whose account, kind). Each is one row of `accounts`,
# found through its unique key (member_id, kind) or (card_id, kind).
BALANCES = (("points", "member", POINTS), ("stored_value", "card", STORED_VALUE),
            ("bonus_value", "card", STORED_VALUE_BONUS), ("uses", "card", USES), ("credit", "card", CREDIT))


def _picture_statement():
    """The card, its type, holder and tier as joins; the number of the card that replaced it and each
    balance as a scalar subquery on a unique key. Joined, they made eleven tables, which PostgreSQL
    took 2-6 ms to plan against 0.1 ms to run, and the phone look-up's prepared statement never
    settled on a generic plan, so every call paid the planning; as subqueries it plans in 0.25 ms."""
    replacement = Card.__table__.alias("replacement")
    columns = [
        Card.card_no, Card.status, Card.status_reason, Card.member_id, Card.valid_from, Card.valid_to,
        Card.pin_hash, Card.pin_locked_until, Card.credit_limit_cents, Card.replaced_by_id,
        select(replacement.c.card_no).where(replacement.c.id == Card.replaced_by_id)
        .scalar_subquery().label("replaced_by_no"),
        CardType.code.label("type_code"), CardType.name.label("type_name"),
        CardType.anonymous.label("type_anonymous"), CardType.pin_required.label("type_pin_required"),
        CardType.discount_rate.label("type_discount_rate"),
        CardType.discount_overrides.label("type_discount_overrides"),
        CardType.stored_value.label("type_stored_value"), CardType.initial_uses.label("type_initial_uses"),
        CardType.credit_limit_cents.label("type_credit_limit_cents"),
        CardType.valid_from.label("type_valid_from"), CardType.valid_to.label("type_valid_to"),
        Member.id.label("holder_id"), Member.name.label("member_name"), Member.phone.label("member_phone"),
        Member.status.label("member_status"),
        Tier.id.label("tier_id"), Tier.code.label("tier_code"), Tier.name.label("tier_name"),
        Tier.discount_rate.label("tier_discount_rate"), Tier.multiplier.label("tier_multiplier"),
        Tier.entitlements.label("tier_entitlements"),
    ]
    # How many coupons the holder can use now (lps_core.coupons): a subquery on the index
    # (member_id, status), so a look-up stays one statement; only a holder with coupons costs a
    # second one, which lists them (look_up).
    columns.append(select(func.count()).select_from(Coupon).where(
        Coupon.member_id == Card.member_id, Coupon.status == ISSUED, Coupon.valid_from <= bindparam("now", type_=NOW),
        Coupon.valid_to > bindparam("now", type_=NOW)).scalar_subquery().label("coupon_count"))
    for label, owner, kind in BALANCES:
        account = Account.__table__.alias(f"{label}_account")
        key = account.c.member_id == Card.member_id if owner == "member" else account.c.card_id == Card.id
        columns.append(select(account.c.balance).where(key, account.c.kind == kind)
                       .scalar_subquery().label(f"{label}_balance"))
    return (
        select(*columns)
        .join(CardType, CardType.id == Card.card_type_id)
        .outerjoin(Member, Member.id == Card.member_id)
        .outerjoin(Tier, Tier.id == Member.tier_id)
    )


PICTURE = _picture_statement()
# Built once: the till's two look-ups. A phone or name search skips cards that are history.
BY_CARD_NO = PICTURE.where(Card.card_no == bindparam("card_no")).limit(MAX_MATCHES)
BY_PHONE = (PICTURE.where(Member.phone_index == bindparam("phone"), NOT_RETIRED)
            .order_by(Member.name, Card.id).limit(MAX_MATCHES))
# An RFID/NFC tag's card, through the unique index on cards.tag_id: one row at most.
BY_TAG_ID = PICTURE.where(Card.tag_id == bindparam("tag_id"))


def look_up(db, outlet_code, at, *, card_no=None, phone=None, name=None, tz=None) -> list[dict]:
    given = [value for value in (card_no, phone, name) if value]
    if len(given) != 1:
        raise ValidationFailed("give exactly one of card_no, phone or name",
                               {"card_no": "give exactly one of card_no, phone or name"})
    if card_no:
        rows = db.execute(BY_CARD_NO, {"card_no": normalize_card_no(card_no), "now": at})
    elif phone:
        e164 = phone_e164(phone, phone_region_of(db))
        if e164 is None:
            raise Unprocessable("phone is not a valid phone number",
                                {"phone": "must be a valid phone number, such as +86 138 0000 0000"})
        rows = db.execute(BY_PHONE, {"phone": e164, "now": at})  # a blind index: compared with the plain number
    else:
        if len(name.strip()) < 2:  # Python's strip also takes the separators \x1c-\x1f, which the pattern allows
            raise Unprocessable("name must have at least 2 characters", {"name": "must have at least 2 characters"})
        rows = db.execute(
            PICTURE.where(func.lower(Member.name).contains(name.strip().lower(), autoescape=True),
                          NOT_RETIRED)
            .order_by(Member.name, Card.id).limit(MAX_MATCHES), {"now": at})
    return _with_coupons(db, [card_picture(row, outlet_code, at, tz=tz) for row in rows.all()], outlet_code, at)


def look_up_tag(db, outlet_code, at, tag_id, *, tz=None) -> list[dict]:
    """The card on which the tag `tag_id` (what an RFID reader's contract.TagRead gives) is
    registered, as look_up pictures it: one match, or none when no card carries the tag."""
    rows = db.execute(BY_TAG_ID, {"tag_id": normalize_tag_id(tag_id), "now": at})
    return _with_coupons(db, [card_picture(row, outlet_code, at, tz=tz) for row in rows.all()], outlet_code, at)


def _with_coupons(db, pictures, outlet_code, at) -> list[dict]:
    """Each picture's `coupons`: the holder's coupons usable now at this outlet, read only for the
    holders the look-up counted some for."""
    for picture in pictures:
        count = picture.pop("coupon_count")
        picture["coupons"] = [coupon_picture(coupon, coupon_type) for coupon, coupon_type in
                              valid_coupons_of(db, picture["member"]["id"], at, outlet_code=outlet_code)] \
            if count else []
    return pictures


def card_picture(row, outlet_code, at, *, tz=None) -> dict:
    """The cashier's picture of one card, from a row of PICTURE."""
    card = SimpleNamespace(valid_from=row.valid_from, valid_to=row.valid_to, pin_hash=row.pin_hash)
    card_type = SimpleNamespace(
        code=row.type_code, anonymous=row.type_anonymous, pin_required=row.type_pin_required,
        discount_rate=row.type_discount_rate, discount_overrides=row.type_discount_overrides,
        valid_from=row.type_valid_from, valid_to=row.type_valid_to)
    has_member = row.holder_id is not None
    tier = row.tier_id is not None
    problems = _problems(row, card, card_type, at, tz)
    pin_locked = row.pin_locked_until is not None and as_utc(row.pin_locked_until) > as_utc(at)
    tier_rate = Decimal(row.tier_discount_rate) if tier else Decimal(0)
    return {
        "card_no": row.card_no,
        "status": row.status,
        "usable": not problems,
        "warnings": problems + ([f"PIN locked until {isoformat(row.pin_locked_until)}"] if pin_locked else []),
        "card_type": {"code": row.type_code, "name": row.type_name, "anonymous": row.type_anonymous},
        "member": {"id": row.holder_id, "name": row.member_name, "phone": row.member_phone,
                   "status": row.member_status} if has_member else None,
        "tier": {"code": row.tier_code, "name": row.tier_name,
                 "discount_rate": str(row.tier_discount_rate.normalize()),
                 "multiplier": str(row.tier_multiplier.normalize()), "entitlements": row.tier_entitlements or []}
        if tier else None,
        "discount_rate": str(max(discount_rate(card_type, outlet_code, None), tier_rate).normalize()),
        "discount_overrides": row.type_discount_overrides or [],
        "balances": balances_json(_balances(row, has_member)),
        "valid_from": isoformat(row.valid_from) if row.valid_from else None,
        "valid_to": isoformat(row.valid_to) if row.valid_to else None,
        "pin_needed": pin_needed(card, card_type),
        "coupon_count": row.coupon_count,
    }


def _balances(row, has_member) -> dict:
    """The card's balances in cents (uses as a count), None for what its type does not offer, as
    lps_core.cards.funds.card_balances gives them, and the holder's points (None without a holder)."""
    def balance(label):
        return getattr(row, f"{label}_balance") or 0

    limit = row.credit_limit_cents if row.credit_limit_cents is not None else row.type_credit_limit_cents
    owed = balance("credit")
    return {
        "stored_value": balance("stored_value") if row.type_stored_value else None,
        "bonus_value": balance("bonus_value") if row.type_stored_value else None,
        "uses": balance("uses") if row.type_initial_uses is not None or balance("uses") else None,
        "credit_used": owed if limit is not None else None,
        "credit_limit": limit,
        "credit_left": max(limit - owed, 0) if limit is not None else None,
        "points": row.points_balance if has_member else None,
    }


def _problems(row, card, card_type, at, tz) -> list[str]:
    """Why the card cannot be used now; empty when it can."""
    warnings = []
    if row.status == "replaced" and row.replaced_by_id:
        warnings.append(f"card was replaced by {row.replaced_by_no}")
    elif row.status != "active":
        warnings.append(f"card is {row.status}" + (f": {row.status_reason}" if row.status_reason else ""))
    problem = validity_problem(card, card_type, at, tz=tz)
    if problem:
        warnings.append(problem)
    if row.holder_id is not None and row.member_status not in ("active", "dormant"):
        warnings.append(f"member is {row.member_status}")
    return warnings
