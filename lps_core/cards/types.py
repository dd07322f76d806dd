"""Card type configuration: the products staff define (discount, stored value, uses, credit line,
validity, anonymous bearer cards, PINs, co-branded cards with their partner and number range, paid
memberships). The fields are checked by lps_core.cards.schemas (the API and
the configuration screen share its models); here are the rules that need the database or the stored
card type, which answer 422."""
from decimal import Decimal

from sqlalchemy import select

from lps_core.cards.models import Card, CardType
from lps_core.cards.services import CARD_NUMBER_LENGTH
from lps_core.cards.schemas import CardTypeChangeIn, CardTypeIn, decimal_text
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet, Property
from lps_core.timeutil import as_utc, isoformat


def list_card_types(db) -> list[CardType]:
    return list(db.scalars(select(CardType).order_by(CardType.code)))


def find_card_type(db, code) -> CardType:
    card_type = db.scalar(select(CardType).where(CardType.code == code))
    if card_type is None:
        raise NotFound(f"card type {code!r} does not exist", {"code": "no such card type"})
    return card_type


def create_card_type(db, card_type_in: CardTypeIn) -> CardType:
    """A new card type; fields left out take their defaults."""
    if db.scalar(select(CardType.id).where(CardType.code == card_type_in.code)) is not None:
        raise Conflict(f"card type {card_type_in.code!r} already exists", {"code": "is taken"})
    card_type = CardType(**_DEFAULTS)
    _apply(db, card_type, card_type_in.values())
    db.add(card_type)
    db.flush()
    return card_type


def update_card_type(db, code, change: CardTypeChangeIn) -> CardType:
    """Change the fields given; the others keep their value."""
    card_type = find_card_type(db, code)
    _apply(db, card_type, change.values())
    db.flush()
    return card_type


def card_type_json(card_type, partner_code=None) -> dict:
    """The card type as the API shows it; `partner_code` names a co-branded type's partner (read
    when not given)."""
    if partner_code is None and card_type.partner_property_id is not None:
        from sqlalchemy.orm import object_session

        partner_code = object_session(card_type).scalar(
            select(Property.code).where(Property.id == card_type.partner_property_id))
    fee = card_type.membership_fee_cents
    return {
        "code": card_type.code,
        "name": card_type.name,
        "prefix": card_type.prefix,
        "points_multiplier": decimal_text(card_type.points_multiplier),
        "discount_rate": decimal_text(card_type.discount_rate),
        "discount_overrides": card_type.discount_overrides or [],
        "stored_value": card_type.stored_value,
        "deposit_bonuses": card_type.deposit_bonuses or [],
        "initial_uses": card_type.initial_uses,
        "uses_outlets": card_type.uses_outlets,
        "credit_limit": format_cents(card_type.credit_limit_cents) if card_type.credit_limit_cents is not None else None,
        "credit_warning_ratio": decimal_text(card_type.credit_warning_ratio),
        "validity_days": card_type.validity_days,
        "valid_from": isoformat(card_type.valid_from) if card_type.valid_from else None,
        "valid_to": isoformat(card_type.valid_to) if card_type.valid_to else None,
        "anonymous": card_type.anonymous,
        "pin_required": card_type.pin_required,
        "active": card_type.active,
        "partner": partner_code,
        "serial_from": card_type.serial_from,
        "serial_to": card_type.serial_to,
        "membership_fee": format_cents(fee) if fee is not None else None,
        "membership_months": card_type.membership_months,
        "membership_reminder_days": card_type.membership_reminder_days,
    }


_DEFAULTS = {"points_multiplier": Decimal("1"), "discount_rate": Decimal("0"), "discount_overrides": [],
             "stored_value": False, "deposit_bonuses": [], "credit_warning_ratio": Decimal("0.8"),
             "anonymous": False, "pin_required": False, "active": True}


def _apply(db, card_type, values):
    """Set the values, then check the outlets and partner they name and the rules that span fields on
    the result; raise every problem found at once."""
    problems = {}
    values = dict(values)
    if "partner" in values:
        code = values.pop("partner")
        partner = db.scalar(select(Property).where(Property.code == code)) if code is not None else None
        if code is not None and (partner is None or partner.kind != "partner"):
            problems["partner"] = "no such partner" if partner is None else "is not a partner (kind partner)"
        values["partner_property_id"] = partner.id if partner is not None else None
    before = {name: getattr(card_type, name, None) for name in {"prefix", "serial_from", "serial_to", *values}}
    with db.no_autoflush:  # the checks below read; the values are not written until they pass
        for name, value in values.items():
            setattr(card_type, name, value)
        problems.update(_number_range_problems(db, card_type, before, values))
        problems.update(_membership_problems(card_type))
        _check_rules(db, card_type, values, problems)
    if problems:
        for name, value in before.items():  # a refused change leaves the stored card type as it was
            setattr(card_type, name, value)
        raise Unprocessable("the card type cannot be saved: " + ", ".join(sorted(problems)), problems)


def _check_rules(db, card_type, values, problems):
    """The outlets the type names exist, and the rules that span its other fields hold."""
    for name, codes in (("discount_overrides", [override["outlet"] for override in card_type.discount_overrides or ()
                                                if "outlet" in override]),
                        ("uses_outlets", card_type.uses_outlets or [])):
        unknown = sorted(set(codes) - set(db.scalars(select(Outlet.code).where(Outlet.code.in_(codes))))) \
            if name in values and codes else []
        if unknown:
            problems[name] = f"outlet {', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not exist"
    if card_type.valid_from and card_type.valid_to and as_utc(card_type.valid_to) <= as_utc(card_type.valid_from):
        problems.setdefault("valid_to", "must be after valid_from")
    if card_type.deposit_bonuses and not card_type.stored_value:
        problems.setdefault("deposit_bonuses", "need stored_value to be true")
    if card_type.uses_outlets and not card_type.initial_uses:
        problems.setdefault("uses_outlets", "need initial_uses")


def _number_range_problems(db, card_type, before, values) -> dict:
    """A type's own number range: both ends or neither, within the numbers its prefix leaves room
    for, not shared with another type of the same prefix (nor with a type that numbers across the
    prefix's whole range); and once the type has cards, its prefix and first serial stay as they are
    (its counter continues from them)."""
    first, last, prefix = card_type.serial_from, card_type.serial_to, card_type.prefix
    if (first is None) != (last is None):
        return {"serial_to" if last is None else "serial_from": "give both serial_from and serial_to, or neither"}
    problems = {}
    if first is not None:
        room = 10 ** (CARD_NUMBER_LENGTH - 1 - len(prefix)) - 1
        if last < first:
            problems["serial_to"] = "must not be below serial_from"
        elif last > room:
            problems["serial_to"] = f"must be at most {room} with prefix {prefix}"
    changed = [name for name in ("prefix", "serial_from") if name in values and values[name] != before[name]]
    if changed and before["serial_from"] is not None and card_type.id is not None and db.scalar(
            select(Card.id).where(Card.card_type_id == card_type.id).limit(1)) is not None:
        problems[changed[0]] = "cannot change once cards are numbered in the type's own range"
    if problems or not ({"prefix", "serial_from", "serial_to"} & values.keys()):
        return problems
    others = db.execute(select(CardType.code, CardType.serial_from, CardType.serial_to).where(
        CardType.prefix == prefix, CardType.id != (card_type.id or 0))).all()
    for code, other_first, other_last in others:
        if first is None and other_first is not None:
            return {"prefix": f"card type {code} has its own number range with prefix {prefix}"}
        if first is not None and (other_first is None or first <= other_last and other_first <= last):
            return {"serial_from": f"overlaps the numbers of card type {code} with prefix {prefix}"}
    return problems


def _membership_problems(card_type) -> dict:
    """A paid membership needs its fee and its months together; a reminder needs a paid membership."""
    fee, months = card_type.membership_fee_cents, card_type.membership_months
    if fee is not None and months is None:
        return {"membership_months": "is needed with membership_fee"}
    if months is not None and fee is None:
        return {"membership_fee": "is needed with membership_months"}
    if card_type.membership_reminder_days is not None and fee is None:
        return {"membership_reminder_days": "needs membership_fee"}
    if fee is not None and card_type.anonymous:
        return {"membership_fee": "an anonymous card type cannot be a paid membership"}
    return {}
