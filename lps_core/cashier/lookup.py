"""The cashier's look-up: find a card by its number, its holder's phone or name, and show what
the cashier needs before settling: tier and discount, balances, uses, credit, validity, the tier's
entitlements, and why the card cannot be used, if it cannot.

A phone number is looked up in E.164 through its blind index, read in lps.phone.default_region
when it has no country code: "13800000042", "138-0000-0042" and "+86 138 0000 0042" find the same
member."""
from decimal import Decimal

from sqlalchemy import func, select

from lps_core.cards.funds import card_balances
from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import pin_needed
from lps_core.cards.products import discount_rate, validity_problem
from lps_core.cards.services import normalize_card_no
from lps_core.cashier.documents import balances_json
from lps_core.errors import Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.pii import phone_e164, phone_region_of
from lps_core.timeutil import as_utc, isoformat

MAX_MATCHES = 20
# Cards that are history rather than something to pay with are left out of phone and name searches.
RETIRED = ("unissued", "replaced", "cancelled")


def look_up(db, outlet_code, at, *, card_no=None, phone=None, name=None, tz=None) -> list[dict]:
    given = [value for value in (card_no, phone, name) if value]
    if len(given) != 1:
        raise ValidationFailed("give exactly one of card_no, phone or name",
                               {"card_no": "give exactly one of card_no, phone or name"})
    query = select(Card).join(CardType, CardType.id == Card.card_type_id)
    if card_no:
        query = query.where(Card.card_no == normalize_card_no(card_no))
    else:
        query = query.join(Member, Member.id == Card.member_id).where(Card.status.not_in(RETIRED))
        if phone:
            e164 = phone_e164(phone, phone_region_of(db))
            if e164 is None:
                raise Unprocessable("phone is not a valid phone number",
                                       {"phone": "must be a valid phone number, such as +86 138 0000 0000"})
            query = query.where(Member.phone_index == e164)  # a blind index: compared with the plain number
        else:
            if len(name.strip()) < 2:
                raise ValidationFailed("name must have at least 2 characters", {"name": "must have at least 2 characters"})
            query = query.where(func.lower(Member.name).contains(name.strip().lower(), autoescape=True))
        query = query.order_by(Member.name, Card.id)
    cards = db.scalars(query.limit(MAX_MATCHES)).all()
    return [card_picture(db, card, outlet_code, at, tz=tz) for card in cards]


def card_picture(db, card: Card, outlet_code, at, *, tz=None) -> dict:
    card_type, member = card.card_type, card.member
    tier = member.tier if member is not None else None
    problems = _problems(db, card, card_type, member, at, tz)
    pin_locked = card.pin_locked_until is not None and as_utc(card.pin_locked_until) > as_utc(at)
    tier_rate = Decimal(tier.discount_rate) if tier is not None else Decimal(0)
    balances = card_balances(db, card, card_type)
    balances["points"] = db.scalar(select(Account.balance).where(
        Account.member_id == card.member_id, Account.kind == POINTS)) if member is not None else None
    return {
        "card_no": card.card_no,
        "status": card.status,
        "usable": not problems,
        "warnings": problems + ([f"PIN locked until {isoformat(card.pin_locked_until)}"] if pin_locked else []),
        "card_type": {"code": card_type.code, "name": card_type.name, "anonymous": card_type.anonymous},
        "member": {"id": member.id, "name": member.name, "phone": member.phone, "status": member.status}
        if member is not None else None,
        "tier": {"code": tier.code, "name": tier.name, "discount_rate": str(tier.discount_rate.normalize()),
                 "multiplier": str(tier.multiplier.normalize()), "entitlements": tier.entitlements or []}
        if tier is not None else None,
        "discount_rate": str(max(discount_rate(card_type, outlet_code, None), tier_rate).normalize()),
        "discount_overrides": card_type.discount_overrides or [],
        "balances": balances_json(balances),
        "valid_from": isoformat(card.valid_from) if card.valid_from else None,
        "valid_to": isoformat(card.valid_to) if card.valid_to else None,
        "pin_needed": pin_needed(card, card_type),
    }


def _problems(db, card, card_type, member, at, tz) -> list[str]:
    """Why the card cannot be used now; empty when it can."""
    warnings = []
    if card.status == "replaced" and card.replaced_by_id:
        new_no = db.scalar(select(Card.card_no).where(Card.id == card.replaced_by_id))
        warnings.append(f"card was replaced by {new_no}")
    elif card.status != "active":
        warnings.append(f"card is {card.status}" + (f": {card.status_reason}" if card.status_reason else ""))
    problem = validity_problem(card, card_type, at, tz=tz)
    if problem:
        warnings.append(problem)
    if member is not None and member.status not in ("active", "dormant"):
        warnings.append(f"member is {member.status}")
    return warnings
