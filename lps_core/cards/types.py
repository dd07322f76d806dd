"""Card type configuration: the products staff define (discount, stored value, uses, credit line,
validity, anonymous bearer cards, PINs). The fields are checked by lps_core.cards.schemas (the API and
the configuration screen share its models); here are the rules that need the database or the stored
card type, which answer 422."""
from decimal import Decimal

from sqlalchemy import select

from lps_core.cards.models import CardType
from lps_core.cards.schemas import CardTypeChangeIn, CardTypeIn, decimal_text
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.money import format_cents
from lps_core.outlets.models import Outlet
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


def card_type_json(card_type) -> dict:
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
    }


_DEFAULTS = {"points_multiplier": Decimal("1"), "discount_rate": Decimal("0"), "discount_overrides": [],
             "stored_value": False, "deposit_bonuses": [], "credit_warning_ratio": Decimal("0.8"),
             "anonymous": False, "pin_required": False, "active": True}


def _apply(db, card_type, values):
    """Set the values, then check the outlets they name and the rules that span fields on the result;
    raise every problem found at once."""
    for name, value in values.items():
        setattr(card_type, name, value)
    problems = {}
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
    if problems:
        raise Unprocessable("the card type cannot be saved: " + ", ".join(sorted(problems)), problems)
