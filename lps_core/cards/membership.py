"""Paid membership: a card type sold for a fee (card_types.membership_fee_cents) that buys
membership_months of validity, renewed at the desk or through the API, reminded before it ends
(`lps jobs memberships`, lps_core.cards.membership_jobs) and refunded pro rata when cancelled.

- **Sale.** The member gets a card of the type, valid from now for the type's months; its fee is
  taken as a settlement (lps_core.cashier.services.settle_bill, as a fee: at its price, with no
  discount and no points) with the tenders given, so it shows among the settlements and in every
  report on them. One membership_periods row records the period and its settlement.
- **Renewal.** A new period starts when the current one ends (or now, if it has ended) and runs
  for the type's months at the type's current fee; the card's validity is extended to its end.
- **Expiry.** The card's validity is the membership: when the last period ends the card is refused
  everywhere (its discount and multiplier with it), by the one usability rule of
  lps_core.cards.products. The member's points are the member's and stay.
- **Cancellation.** Every period not yet ended is cancelled and the card with it. A period not yet
  begun is refunded in full; the current one by its unused days: fee x days left / days in the
  period, rounded half up to the cent, where days are calendar days in lps.timezone, the day of
  cancellation counts as used and the period's last day is the day before it ends. Each refund is a
  refund of the period's settlement (lps_core.cashier.services.refund_settlement), so its tenders
  get the money back as they paid it.

Sales and renewals are idempotent on (outlet, sale_no): a retry with the same content replays the
first period, other content is a Conflict naming sale_no. Cancelling a cancelled membership
changes nothing and answers the cancellation made before."""
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update

from lps_core.cards.lifecycle import locked_card
from lps_core.cards.models import Card, CardType, MembershipPeriod
from lps_core.cards.services import claim_card, get_card_type, issue_values, open_card_accounts
from lps_core.cashier.requests import Item, RefundRequest, SettleRequest, Tender
from lps_core.cashier.services import refund_settlement, settle_bill
from lps_core.db.idempotency import replay_or_conflict
from lps_core.earning.services import OutletContext
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.members.models import Member
from lps_core.outlets.models import Outlet
from lps_core.timeutil import as_utc, utcnow

MEMBER_STATUSES = ("active", "dormant")
HELD_STATUSES = ("active", "frozen")  # a card that still holds its membership
SALE_PREFIX = "membership:"  # a fee's bill no. at its outlet: apart from the till's own bill numbers


@dataclass(frozen=True)
class MembershipSale:
    """A sale (card_type named) or renewal (card_no named) of a paid membership."""

    sale_no: str
    tenders: tuple[Tender, ...]
    pin: str | None = None
    operator: str | None = None
    card_type: str | None = None

    def content(self, subject) -> dict:
        return {"subject": subject, "card_type": self.card_type,
                "tenders": [[t.kind, t.amount_cents, t.uses, t.reference] for t in self.tenders]}


@dataclass(frozen=True)
class Cancellation:
    """What cancelling a membership gave back: each period's refund, and the card cancelled."""

    card_no: str
    refund_cents: int
    periods: tuple[MembershipPeriod, ...]
    replayed: bool = False


def add_months(moment: datetime, months: int, tz) -> datetime:
    """`moment` plus `months` calendar months in `tz` (31 January + 1 month = 28 or 29 February), as UTC."""
    local = as_utc(moment).astimezone(tz)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(as_utc(moment).tzinfo)


def sell_membership(db, plugins, programme, outlet, member_id, sale: MembershipSale, *, now=None) -> MembershipPeriod:
    """Sell the paid membership `sale.card_type` to the member: a new card valid for the type's
    months, its fee settled with `sale.tenders`."""
    fingerprint = ledger.fingerprint_of(sale.content({"member_id": member_id}))
    replay = _replay(db, outlet, sale.sale_no, fingerprint)
    if replay is not None:
        return replay
    now = now or utcnow()
    card_type = _paid_type(db, sale.card_type)
    member = db.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"member_id": "no such member"})
    if member.status not in MEMBER_STATUSES:
        raise Unprocessable(f"member {member_id} is {member.status}: a membership cannot be sold",
                            {"member_id": f"member is {member.status}"})
    held = _held_card(db, member_id, card_type.id, now)
    if held is not None:
        raise Conflict(f"the member already holds {card_type.code} card {held.card_no}: renew it instead",
                       {"card_type": f"already held (card {held.card_no}): renew it"})
    ends_at = add_months(now, card_type.membership_months, programme.timezone)
    card_id = claim_card(db, card_type)
    db.execute(update(Card).where(Card.id == card_id).values(
        member_id=member_id, **{**issue_values(card_type, now, outlet.id), "valid_from": now, "valid_to": ends_at}))
    open_card_accounts(db, card_id, card_type, now)
    card = db.get(Card, card_id)
    return _take_fee(db, plugins, programme, outlet, card, card_type, sale, "sale", now, ends_at, fingerprint)


def renew_membership(db, plugins, programme, outlet, card_no, sale: MembershipSale, *, now=None) -> MembershipPeriod:
    """A new period of the card's membership at its type's current fee, from the end of the current
    one (or from now, if it has ended); the card's validity follows."""
    fingerprint = ledger.fingerprint_of(sale.content({"card_no": card_no}))
    replay = _replay(db, outlet, sale.sale_no, fingerprint)
    if replay is not None:
        return replay
    now = now or utcnow()
    card = locked_card(db, card_no)
    card_type = card.card_type
    if card_type.membership_fee_cents is None:
        raise Unprocessable(f"card {card.card_no} is a {card_type.code} card, which is not a paid membership",
                            {"card_no": "not a paid membership"})
    if card.status not in HELD_STATUSES or card.member_id is None:
        raise Conflict(f"card {card.card_no} is {card.status}: its membership cannot be renewed",
                       {"card_no": f"card is {card.status}"})
    if not card_type.active:
        raise Unprocessable(f"card type {card_type.code!r} is no longer sold", {"card_no": "its card type is inactive"})
    current_end = as_utc(card.valid_to) if card.valid_to else now
    starts_at = max(current_end, now)
    ends_at = add_months(starts_at, card_type.membership_months, programme.timezone)
    card.valid_to = ends_at
    if card.valid_from is not None and as_utc(card.valid_from) > now:
        card.valid_from = now
    db.flush()
    return _take_fee(db, plugins, programme, outlet, card, card_type, sale, "renewal", starts_at, ends_at,
                     fingerprint)


def cancel_membership(db, plugins, programme, card_no, *, reason, operator=None, api_key_id=None,
                      now=None) -> Cancellation:
    """Cancel the card's membership: refund each period not yet ended (see the module docstring)
    and cancel the card."""
    now = now or utcnow()
    card = locked_card(db, card_no)
    if card.card_type.membership_fee_cents is None:
        raise Unprocessable(f"card {card.card_no} is not a paid membership", {"card_no": "not a paid membership"})
    periods = db.scalars(select(MembershipPeriod).where(MembershipPeriod.card_id == card.id)
                         .order_by(MembershipPeriod.starts_at)).all()
    if card.status == "cancelled":
        cancelled = tuple(p for p in periods if p.status == "cancelled")
        return Cancellation(card.card_no, sum(p.refund_cents for p in cancelled), cancelled, replayed=True)
    if card.status not in HELD_STATUSES:
        raise Conflict(f"card {card.card_no} is {card.status}: its membership cannot be cancelled",
                       {"card_no": f"card is {card.status}"})
    tz = programme.timezone
    ended = []
    for period in periods:
        if period.status != "paid" or as_utc(period.ends_at) <= now:
            continue
        refund = refund_for(period.fee_cents, period.starts_at, period.ends_at, now, tz)
        if refund > 0:
            outlet = db.get(Outlet, period.outlet_id)
            result = refund_settlement(db, plugins, OutletContext(outlet.id, outlet.code, api_key_id),
                                       period.settlement_id,
                                       RefundRequest(f"cancel:{period.id}", refund, reason, operator))
            period.settlement_refund_id = result.id
        period.status, period.refund_cents, period.cancelled_at = "cancelled", refund, now
        ended.append(period)
    card.status, card.status_reason, card.status_changed_at = "cancelled", reason, now
    if card.valid_to is None or as_utc(card.valid_to) > now:
        card.valid_to = now
    db.flush()
    return Cancellation(card.card_no, sum(p.refund_cents for p in ended), tuple(ended))


def refund_for(fee_cents, starts_at, ends_at, now, tz) -> int:
    """The refund of a period cancelled at `now`: all of it before it begins; otherwise
    fee x days left / days in the period, rounded half up to the cent (days in `tz`, the day of
    cancellation used)."""
    if as_utc(now) < as_utc(starts_at):
        return fee_cents
    first, end = _local_date(starts_at, tz), _local_date(ends_at, tz)
    days = max((end - first).days, 1)
    used = (_local_date(now, tz) - first).days + 1
    left = min(max(days - used, 0), days)
    return int((Decimal(fee_cents) * left / days).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def periods_of_card(db, card_id) -> list[MembershipPeriod]:
    return list(db.scalars(select(MembershipPeriod).where(MembershipPeriod.card_id == card_id)
                           .order_by(MembershipPeriod.starts_at)))


def paid_card_types(db) -> list[CardType]:
    """The active card types sold as paid memberships, by code."""
    return list(db.scalars(select(CardType).where(CardType.membership_fee_cents.is_not(None),
                                                  CardType.active.is_(True)).order_by(CardType.code)))


def membership_cards_of_member(db, member_id) -> list[Card]:
    """The member's cards of paid membership types, newest first."""
    return list(db.scalars(select(Card).join(CardType, CardType.id == Card.card_type_id).where(
        Card.member_id == member_id, CardType.membership_fee_cents.is_not(None)).order_by(Card.id.desc())))


def _local_date(moment, tz) -> date:
    return as_utc(moment).astimezone(tz).date()


def _paid_type(db, code) -> CardType:
    card_type = get_card_type(db, code)
    if card_type.membership_fee_cents is None:
        raise Unprocessable(f"card type {card_type.code!r} is not sold as a paid membership",
                            {"card_type": "not a paid membership"})
    if not card_type.active:
        raise Unprocessable(f"card type {card_type.code!r} is no longer sold", {"card_type": "is inactive"})
    return card_type


def _held_card(db, member_id, card_type_id, now) -> Card | None:
    """The member's card of the type that still holds a membership (active or frozen, not ended)."""
    for card in db.scalars(select(Card).where(Card.member_id == member_id, Card.card_type_id == card_type_id,
                                              Card.status.in_(HELD_STATUSES))):
        if card.valid_to is None or as_utc(card.valid_to) > now:
            return card
    return None


def _take_fee(db, plugins, programme, outlet, card, card_type, sale, kind, starts_at, ends_at,
              fingerprint) -> MembershipPeriod:
    """Settle the fee with the sale's tenders and record the period."""
    fee = card_type.membership_fee_cents
    settled = settle_bill(db, plugins, programme, outlet, SettleRequest(
        card.card_no, SALE_PREFIX + sale.sale_no,
        (Item(f"membership:{card_type.code}", "membership", Decimal(1), fee),), sale.tenders, sale.pin, None,
        sale.operator), fee=True)
    period = MembershipPeriod(card_id=card.id, member_id=card.member_id, card_type_id=card_type.id,
                              outlet_id=outlet.id, sale_no=sale.sale_no, kind=kind, status="paid", starts_at=starts_at,
                              ends_at=ends_at, fee_cents=fee, settlement_id=settled.id, refund_cents=0,
                              fingerprint=fingerprint, operator=sale.operator)
    db.add(period)
    db.flush()
    return period


def _replay(db, outlet, sale_no, fingerprint) -> MembershipPeriod | None:
    period = db.scalar(select(MembershipPeriod).where(MembershipPeriod.outlet_id == outlet.id,
                                                      MembershipPeriod.sale_no == sale_no))
    if period is None:
        return None
    replay_or_conflict(period.fingerprint, fingerprint, f"membership sale {sale_no} was already made with other "
                       "content", {"sale_no": "already used with other content"})
    return period
