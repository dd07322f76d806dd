"""Card type configuration: the products staff define (discount, stored value, uses, credit line,
validity, anonymous bearer cards, PINs), each field checked before anything is saved."""
import re
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from lps_core.cards.models import CardType
from lps_core.errors import Conflict, NotFound, ValidationFailed
from lps_core.money import format_cents, parse_amount
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc, isoformat, parse_timestamp

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EDITABLE = ("name", "prefix", "points_multiplier", "discount_rate", "discount_overrides", "stored_value",
            "deposit_bonuses", "initial_uses", "uses_outlets", "credit_limit", "credit_warning_ratio",
            "validity_days", "valid_from", "valid_to", "anonymous", "pin_required", "active")
MAX_LIST = 100
MAX_USES = 100_000
MAX_VALIDITY_DAYS = 36_600


def list_card_types(db) -> list[CardType]:
    return list(db.scalars(select(CardType).order_by(CardType.code)))


def find_card_type(db, code) -> CardType:
    card_type = db.scalar(select(CardType).where(CardType.code == code))
    if card_type is None:
        raise NotFound(f"card type {code!r} does not exist", {"code": "no such card type"})
    return card_type


def create_card_type(db, body: dict) -> CardType:
    """A new card type from an API body; `code`, `name` and `prefix` are required."""
    problems = _unknown_fields(body, ("code", *EDITABLE))
    code = body.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        problems["code"] = "must be 1 to 32 letters, digits, '-' or '_'"
    elif db.scalar(select(CardType.id).where(CardType.code == code)) is not None:
        raise Conflict(f"card type {code!r} already exists", {"code": "is taken"})
    for required in ("name", "prefix"):
        if required not in body:
            problems[required] = "is required"
    values = _clean(db, {name: value for name, value in body.items() if name in EDITABLE}, problems)
    card_type = CardType(code=code, **_DEFAULTS)
    _apply(card_type, values, problems)
    db.add(card_type)
    db.flush()
    return card_type


def update_card_type(db, code, body: dict) -> CardType:
    """Change the fields given in the body; the others keep their value."""
    card_type = find_card_type(db, code)
    problems = _unknown_fields(body, EDITABLE)
    if "code" in body:
        problems["code"] = "cannot be changed"
    values = _clean(db, {name: value for name, value in body.items() if name in EDITABLE}, problems)
    _apply(card_type, values, problems)
    db.flush()
    return card_type


def card_type_json(card_type) -> dict:
    return {
        "code": card_type.code,
        "name": card_type.name,
        "prefix": card_type.prefix,
        "points_multiplier": _decimal_text(card_type.points_multiplier),
        "discount_rate": _decimal_text(card_type.discount_rate),
        "discount_overrides": card_type.discount_overrides or [],
        "stored_value": card_type.stored_value,
        "deposit_bonuses": card_type.deposit_bonuses or [],
        "initial_uses": card_type.initial_uses,
        "uses_outlets": card_type.uses_outlets,
        "credit_limit": format_cents(card_type.credit_limit_cents) if card_type.credit_limit_cents is not None else None,
        "credit_warning_ratio": _decimal_text(card_type.credit_warning_ratio),
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


def _apply(card_type, values, problems):
    """Set the cleaned values, then check the rules that span fields on the result; raise every
    problem found at once."""
    for name, value in values.items():
        setattr(card_type, "credit_limit_cents" if name == "credit_limit" else name, value)
    if card_type.valid_from and card_type.valid_to and as_utc(card_type.valid_to) <= as_utc(card_type.valid_from):
        problems.setdefault("valid_to", "must be after valid_from")
    if card_type.deposit_bonuses and not card_type.stored_value:
        problems.setdefault("deposit_bonuses", "need stored_value to be true")
    if card_type.uses_outlets and not card_type.initial_uses:
        problems.setdefault("uses_outlets", "need initial_uses")
    if problems:
        raise ValidationFailed("the card type has invalid fields: " + ", ".join(sorted(problems)), problems)


def _unknown_fields(body, known) -> dict:
    return {name: "unknown field" for name in body if name not in known}


def _clean(db, body, problems) -> dict:
    """Each given field checked and converted to its column value; bad ones go into `problems`."""
    values = {}
    for name, value in body.items():
        try:
            values[name] = _CLEANERS[name](db, value)
        except ValueError as bad:
            problems[name] = str(bad)
    return values


def _text(max_length):
    def clean(db, value):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be non-empty text")
        if len(value.strip()) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value.strip()
    return clean


def _prefix(db, value):
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or not 1 <= len(value) <= 8:
        raise ValueError("must be 1 to 8 digits")
    return value


def _flag(db, value):
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _decimal(maximum, places):
    """A decimal from 0 to `maximum` with at most `places` decimal places (a string or exact number)."""
    def clean(db, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValueError(f"must be a decimal string such as \"{maximum}\"")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"must be a decimal string such as \"{maximum}\"") from None
        if not number.is_finite() or not 0 <= number <= maximum:
            raise ValueError(f"must be from 0 to {maximum}")
        if number.as_tuple().exponent < -places:
            raise ValueError(f"must have at most {places} decimal places")
        return number
    return clean


_rate = _decimal(1, 4)


def _whole(maximum, *, optional=True):
    def clean(db, value):
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value) \
                or not 1 <= value <= maximum:
            raise ValueError(f"must be a whole number from 1 to {maximum}" + (", or null" if optional else ""))
        return int(value)
    return clean


def _money_or_null(db, value):
    if value is None:
        return None
    return parse_amount(value, allow_zero=True)


def _moment_or_null(db, value):
    if value is None:
        return None
    return parse_timestamp(value)


def _known_outlets(db, codes, what):
    known = set(db.scalars(select(Outlet.code).where(Outlet.code.in_(codes))))
    unknown = sorted(set(codes) - known)
    if unknown:
        raise ValueError(f"{what} {', '.join(unknown)} {'does' if len(unknown) == 1 else 'do'} not exist")


def _overrides(db, value):
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValueError(f"must be a list of at most {MAX_LIST} overrides")
    cleaned, seen = [], set()
    for index, override in enumerate(value):
        where = f"item {index + 1}"
        if not isinstance(override, dict) or set(override) - {"outlet", "category", "rate"} or "rate" not in override:
            raise ValueError(f"{where}: must be an object with rate and outlet and/or category")
        outlet, category = override.get("outlet"), override.get("category")
        if outlet is None and category is None:
            raise ValueError(f"{where}: needs an outlet, a category or both")
        for key, text in (("outlet", outlet), ("category", category)):
            if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > 64):
                raise ValueError(f"{where}: {key} must be non-empty text of at most 64 characters")
        try:
            rate = _rate(db, override["rate"])
        except ValueError as bad:
            raise ValueError(f"{where}: rate {bad}") from None
        if (outlet, category) in seen:
            raise ValueError(f"{where}: repeats outlet {outlet} and category {category}")
        seen.add((outlet, category))
        cleaned.append({key: text for key, text in (("outlet", outlet), ("category", category)) if text is not None}
                       | {"rate": _decimal_text(rate)})
    outlets = [override["outlet"] for override in cleaned if "outlet" in override]
    if outlets:
        _known_outlets(db, outlets, "outlet")
    return cleaned


def _bonuses(db, value):
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise ValueError(f"must be a list of at most {MAX_LIST} steps")
    steps = {}
    for index, step in enumerate(value):
        where = f"item {index + 1}"
        if not isinstance(step, dict) or set(step) != {"min_deposit", "bonus"}:
            raise ValueError(f"{where}: must be an object with min_deposit and bonus")
        try:
            minimum, bonus = parse_amount(step["min_deposit"]), parse_amount(step["bonus"])
        except ValueError as bad:
            raise ValueError(f"{where}: amounts {bad}") from None
        if minimum in steps:
            raise ValueError(f"{where}: repeats min_deposit {format_cents(minimum)}")
        steps[minimum] = bonus
    return [{"min_deposit": format_cents(minimum), "bonus": format_cents(steps[minimum])} for minimum in sorted(steps)]


def _outlet_codes(db, value):
    if value is None:
        return None
    if not isinstance(value, list) or not value or len(value) > MAX_LIST \
            or not all(isinstance(code, str) and code for code in value):
        raise ValueError("must be a non-empty list of outlet codes, or null for every outlet")
    _known_outlets(db, value, "outlet")
    return sorted(set(value))


_CLEANERS = {
    "name": _text(100), "prefix": _prefix, "points_multiplier": _decimal(100, 3), "discount_rate": _rate,
    "discount_overrides": _overrides, "stored_value": _flag, "deposit_bonuses": _bonuses,
    "initial_uses": _whole(MAX_USES), "uses_outlets": _outlet_codes, "credit_limit": _money_or_null,
    "credit_warning_ratio": _decimal(1, 3), "validity_days": _whole(MAX_VALIDITY_DAYS),
    "valid_from": _moment_or_null, "valid_to": _moment_or_null, "anonymous": _flag, "pin_required": _flag,
    "active": _flag,
}


def _decimal_text(value) -> str:
    """A stored decimal as the shortest exact string: 0.1500 -> "0.15", 1.000 -> "1"."""
    return format(Decimal(value).normalize(), "f") if value is not None else None
