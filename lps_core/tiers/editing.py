"""Changing a tier's name, benefits, qualification thresholds and purchase price (the
configuration screens); every bad field is named at once. A tier's code and rank stay fixed:
members, promotions and floors refer to them."""
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from lps_core.errors import ConfigurationError, NotFound, ValidationFailed
from lps_core.members.models import Tier
from lps_core.tiers.services import QUALIFICATION_KEYS, threshold_of

TIER_FIELDS = ("name", "multiplier", "discount_rate", "entitlements", "qualification", "purchase_points")
MAX_ENTITLEMENTS = 50


def tier_values(tier: Tier) -> dict:
    """A tier's editable values as text and lists, as the audit log and the forms show them."""
    return {"name": tier.name, "multiplier": _text(tier.multiplier), "discount_rate": _text(tier.discount_rate),
            "entitlements": list(tier.entitlements or []), "qualification": dict(tier.qualification or {}),
            "purchase_points": tier.purchase_points}


def update_tier(db, code, values: dict) -> tuple[dict, dict]:
    """Replace the tier's editable values; returns (before, after) for the audit log."""
    tier = db.scalar(select(Tier).where(Tier.code == code))
    if tier is None:
        raise NotFound(f"tier {code!r} does not exist", {"code": "no such tier"})
    problems = {name: "is not a known field" for name in set(values) - set(TIER_FIELDS)}
    clean = {}
    name = values.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        problems["name"] = "is required, at most 100 characters"
    else:
        clean["name"] = name.strip()
    for field, maximum, places in (("multiplier", 100, 3), ("discount_rate", 1, 4)):
        try:
            clean[field] = _decimal(values.get(field), maximum, places)
        except ValueError as exc:
            problems[field] = str(exc)
    entitlements = values.get("entitlements") or []
    if not isinstance(entitlements, list) or len(entitlements) > MAX_ENTITLEMENTS \
            or not all(isinstance(item, str) and 0 < len(item.strip()) <= 200 for item in entitlements):
        problems["entitlements"] = f"must be at most {MAX_ENTITLEMENTS} entries of at most 200 characters"
    else:
        clean["entitlements"] = [item.strip() for item in entitlements]
    qualification = values.get("qualification") or {}
    try:
        threshold_of(code, qualification)
        clean["qualification"] = {key: qualification[key] for key in QUALIFICATION_KEYS if key in qualification}
    except ConfigurationError as exc:
        problems["qualification"] = str(exc).removeprefix(f"tier {code!r}: ")
    price = values.get("purchase_points")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int) or price <= 0):
        problems["purchase_points"] = "must be a positive whole number of points, or empty"
    else:
        clean["purchase_points"] = price
    if problems:
        raise ValidationFailed("the tier has invalid fields: " + ", ".join(sorted(problems)), problems)
    before = tier_values(tier)
    for field, value in clean.items():
        setattr(tier, field, value)
    db.flush()
    return before, tier_values(tier)


def _decimal(value, maximum, places) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"must be a number from 0 to {maximum}") from None
    if not number.is_finite() or not 0 <= number <= maximum:
        raise ValueError(f"must be a number from 0 to {maximum}")
    if number.as_tuple().exponent < -places:
        raise ValueError(f"must have at most {places} decimal places")
    return number


def _text(value) -> str:
    return format(Decimal(value).normalize(), "f")
