"""What the portal shows a member and does for them, on top of the features' own services:
the dashboard (points, what expires when, card balances, tier progress), the points ledger, the
rewards a member can reserve, and the cards they may report lost. Nothing here reads `request`."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from lps_core.cards.funds import card_balances
from lps_core.cards.lifecycle import change_status
from lps_core.cards.models import Card, CardType
from lps_core.errors import Conflict, NotFound
from lps_core.ledger.models import POINTS, Account, LedgerEntry, PointLot
from lps_core.outlets.models import Outlet
from lps_core.rewards.models import AWAITING_PICKUP, Redemption
from lps_core.rewards.models import Reward
from lps_core.rewards.services import (
    ANY_OUTLET,
    RedeemRequest,
    cancel,
    list_rewards,
    points_price,
    redeem,
    redemption_id_of,
    redemption_no,
)
from lps_core.tiers.services import member_tier_status
from lps_core.timeutil import as_utc, utcnow

# Cards a member sees: every card but numbers still in the pool and cards that were replaced or cancelled.
SHOWN_CARDS = ("pending", "active", "frozen", "lost")
EXPIRING_SHOWN = 5
ENTRIES_PER_PAGE = 20
PORTAL_REQUEST = "portal"


def points_account(db, member_id) -> Account | None:
    return db.scalar(select(Account).where(Account.member_id == member_id, Account.kind == POINTS))


def points_balance(db, member_id) -> int:
    account = points_account(db, member_id)
    return account.balance if account else 0


def expiring_points(db, member_id, *, limit=EXPIRING_SHOWN) -> list[tuple[datetime, int]]:
    """(expiry moment, points) of the member's live lots, soonest first, lots expiring together summed."""
    rows = db.execute(
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .join(Account, Account.id == PointLot.account_id)
        .where(Account.member_id == member_id, Account.kind == POINTS, PointLot.remaining > 0,
               PointLot.expires_at > utcnow())
        .group_by(PointLot.expires_at).order_by(PointLot.expires_at).limit(limit)).all()
    return [(as_utc(expires_at), int(points)) for expires_at, points in rows]


@dataclass(frozen=True)
class CardBalances:
    card_no: str
    status: str
    type_name: str
    balances: dict


def member_cards(db, member_id) -> list[CardBalances]:
    """The member's cards in use, with the balances each card's type offers (None: not offered)."""
    rows = db.execute(select(Card, CardType).join(CardType, CardType.id == Card.card_type_id)
                      .where(Card.member_id == member_id, Card.status.in_(SHOWN_CARDS)).order_by(Card.id)).all()
    return [CardBalances(card.card_no, card.status, card_type.name, card_balances(db, card, card_type))
            for card, card_type in rows]


def tier_progress(db, settings, member_id) -> dict:
    """The tier, its benefits, and what the next one needs: counters left ("3 more nights or 2,400
    more points"), whether any one or all are needed, and the progress as a share."""
    status = member_tier_status(db, settings, member_id)
    next_tier = status["next"]
    needs = []
    if next_tier is not None:
        needs = [(counter, amount) for counter, amount in next_tier["needs"].items() if amount > 0]
    return {"tier": status["tier"], "next": next_tier, "needs": needs,
            "percent": int(round((next_tier["progress"] if next_tier else 1) * 100))}


def ledger_page(db, member_id, page=1, per_page=ENTRIES_PER_PAGE) -> tuple[int, list]:
    """The points ledger, newest first: (total, one page of entries with outlet and breakdown)."""
    account = points_account(db, member_id)
    if account is None:
        return 0, []
    total = db.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account.id))
    rows = db.execute(
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.balance_after,
               LedgerEntry.occurred_at, LedgerEntry.note, LedgerEntry.breakdown, Outlet.name.label("outlet"))
        .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return total, rows


@dataclass(frozen=True)
class RewardOffer:
    code: str
    name: str
    category: str
    points: int
    missing: int
    for_tier: bool
    in_stock: bool


def reward_offers(db, member_id, tier_code, ratio) -> list[RewardOffer]:
    """The rewards available now, each with its price, the points the member still misses, and
    whether the member's tier may have it and any is left."""
    balance = points_balance(db, member_id)
    offers = []
    for reward in list_rewards(db):
        price = points_price(reward, ratio)
        offers.append(RewardOffer(reward.code, reward.name, reward.category, price, max(0, price - balance),
                                  reward.allowed_tiers is None or tier_code in reward.allowed_tiers,
                                  reward.stock is None or reward.stock > 0))
    return sorted(offers, key=lambda offer: (offer.missing > 0 or not offer.for_tier, offer.points))


def pickup_outlets(db) -> list:
    """(id, code, name) of the outlets where a reserved reward can be picked up."""
    return db.execute(select(Outlet.id, Outlet.code, Outlet.name).where(Outlet.active.is_(True))
                      .order_by(Outlet.name)).all()


def member_card_no(db, member_id) -> str | None:
    """The member's card for redeeming: an active one, the newest first."""
    return db.scalar(select(Card.card_no).where(Card.member_id == member_id, Card.status == "active")
                     .order_by(Card.id.desc()).limit(1))


def reserve_reward(db, member_id, reward_code, outlet_code, request_key, ratio, *, tz=None):
    """Reserve a reward for pick-up at an outlet: a redemption awaiting pick-up, in the staff's
    fulfilment queue with its number. `request_key` (the form's one-time key) makes a form sent
    twice reserve once."""
    outlet = db.execute(select(Outlet.id, Outlet.code).where(Outlet.code == outlet_code, Outlet.active.is_(True))
                        ).one_or_none()
    if outlet is None:
        raise NotFound(f"no outlet {outlet_code!r}", {"outlet": "choose where to pick the reward up"})
    card_no = member_card_no(db, member_id)
    if card_no is None:
        raise Conflict("the member has no active card", {"reward": "you have no active card"})
    request = RedeemRequest(card_no=card_no, reward_code=reward_code, quantity=1,
                            request_no=f"{PORTAL_REQUEST}-{member_id}-{request_key}"[:64], collect_now=False)
    return redeem(db, outlet, request, ratio, tz=tz)


def member_reservations(db, member_id) -> list:
    """The member's redemptions, newest first, with reward and outlet names."""
    rows = db.execute(
        select(Redemption.id, Redemption.status, Redemption.points, Redemption.redeemed_at,
               Redemption.voucher_expires_at, Reward.name.label("reward"), Outlet.name.label("outlet"))
        .join(Reward, Reward.id == Redemption.reward_id).join(Outlet, Outlet.id == Redemption.outlet_id)
        .where(Redemption.member_id == member_id).order_by(Redemption.id.desc()).limit(50)).all()
    return [{"number": redemption_no(row.id), **row._asdict()} for row in rows]


def cancel_reservation(db, member_id, number):
    """Cancel one of the member's own reservations that is still awaiting pick-up."""
    redemption_id = redemption_id_of(number or "")
    row = db.execute(select(Redemption.member_id, Redemption.status).where(Redemption.id == redemption_id)
                     ).one_or_none() if redemption_id is not None else None
    if row is None or row.member_id != member_id:
        raise NotFound(f"no reservation {number}", {"no": "no such reservation"})
    if row.status != AWAITING_PICKUP:
        raise Conflict(f"reservation {number} is {row.status}", {"no": f"is {row.status}"})
    return cancel(db, number, "cancelled by the member on the portal", outlets=ANY_OUTLET)


def report_card_lost(db, member_id, card_no):
    """Freeze one of the member's active cards, reported lost on the portal (staff replace it);
    returns (its status before, the card)."""
    row = db.execute(select(Card.member_id, Card.status).where(Card.card_no == card_no)).one_or_none()
    if row is None or row.member_id != member_id:
        raise NotFound(f"no card {card_no} of the member", {"card_no": "not one of your cards"})
    return row.status, change_status(db, card_no, "frozen", "reported lost by the member on the portal")


