"""The rewards catalogue and redeeming points for rewards at the desk.

Redeeming locks in one order, reward row -> points account -> lots, after claiming the request with
INSERT ... ON CONFLICT DO NOTHING on (outlet, request_no); cancelling follows the same order from the
redemption row. The stock is taken by one conditional UPDATE (stock >= quantity), so concurrent
redemptions of the last items can never oversell: on PostgreSQL the second UPDATE waits for the
first and re-checks the condition against the committed stock.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from sqlalchemy import func, select, update

from lps_core.cards.lifecycle import card_for_purpose
from lps_core.cards.models import Card
from lps_core.db.idempotency import claim, replay_or_conflict
from lps_core.errors import Conflict, InsufficientBalance, NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import LedgerEntry, LotAllocation, PointLot
from lps_core.members.models import Tier
from lps_core.messages.outbox import enqueue
from lps_core.outlets.models import Outlet
from lps_core.plugins import plugins_of
from lps_core.rewards.models import (
    AWAITING_PICKUP,
    CANCELLED,
    COLLECTED,
    VOUCHER_CATEGORIES,
    Redemption,
    Reward,
)
from lps_core.settings import settings_of
from lps_core.timeutil import as_utc, utcnow

RATIO_SETTING = "lps.rewards.points_per_currency_unit"
REDEEM = "redeem"  # the ledger entry kind of a redemption's debit
REDEMPTION_NO_DIGITS = 8
# `outlets=ANY_OUTLET`: the caller works for every outlet of the group (staff with all outlets in scope).
ANY_OUTLET = None
# What staff may set on a reward, besides its code.
REWARD_FIELDS = ("name", "category", "cost_cents", "points_price", "stock", "available_from", "available_to",
                 "allowed_tiers", "active", "voucher_valid_days")


REDEMPTIONS = Redemption.__table__
REDEMPTION_KEY = ("outlet_id", "request_no")


def points_ratio(settings) -> Decimal:
    """Points per 1.00 of purchase cost (lps.rewards.points_per_currency_unit) of the typed settings
    or of a mapping of ini keys; a bad value raises ConfigurationError."""
    return settings_of(settings).reward_points_per_currency_unit


def points_price(reward, ratio: Decimal) -> int:
    """The reward's price in points: its override, or its cost times the ratio, rounded up."""
    if reward.points_price is not None:
        return reward.points_price
    return max(1, int((Decimal(reward.cost_cents) * ratio / 100).to_integral_value(rounding=ROUND_CEILING)))


def redemption_no(redemption_id: int) -> str:
    return f"R{redemption_id:0{REDEMPTION_NO_DIGITS}d}"


def redemption_id_of(number: str) -> int | None:
    """The id in a redemption number such as R00000042 (the R and the zeros may be left out)."""
    digits = number.strip().upper().removeprefix("R")
    return int(digits) if digits.isdigit() and len(digits) <= 18 else None


# --- The catalogue --------------------------------------------------------------------------------

def list_rewards(db, *, category=None, include_unavailable=False, now=None) -> list[Reward]:
    """The catalogue by code; unless include_unavailable, only active rewards inside their window."""
    now = as_utc(now or utcnow())
    query = select(Reward).order_by(Reward.code)
    if category:
        query = query.where(Reward.category == category)
    rewards = db.scalars(query).all()
    return rewards if include_unavailable else [reward for reward in rewards if is_available(reward, now)]


def get_reward(db, code, *, field="code") -> Reward:
    reward = db.scalar(select(Reward).where(Reward.code == code))
    if reward is None:
        raise NotFound(f"reward {code!r} does not exist", {field: "no such reward"})
    return reward


def create_reward(db, code, values: dict) -> Reward:
    """A new reward; `values` are REWARD_FIELDS already validated (views.clean_reward)."""
    if db.scalar(select(Reward.id).where(Reward.code == code)) is not None:
        raise Conflict(f"reward {code!r} already exists", {"code": "already exists"})
    reward = Reward(code=code, **{"active": True, **values})
    _check_reward(reward)
    db.add(reward)
    db.flush()
    return reward


def update_reward(db, code, values: dict) -> Reward:
    """Change the given fields of a reward; fields left out keep their values."""
    reward = db.scalar(select(Reward).where(Reward.code == code).with_for_update())
    if reward is None:
        raise NotFound(f"reward {code!r} does not exist", {"code": "no such reward"})
    for name, value in values.items():
        setattr(reward, name, value)
    _check_reward(reward)
    db.flush()
    return reward


def restock(db, code, add: int) -> Reward:
    """Add `add` items to a reward's stock, in one statement beside any redemption running."""
    reward = get_reward(db, code)
    if reward.stock is None:
        raise Conflict(f"reward {code!r} has unlimited stock", {"add": "the stock is unlimited; set one with PUT"})
    # The stock column is a 32-bit integer: a restock that would overflow it is refused, not stored.
    added = db.execute(update(Reward).where(Reward.id == reward.id, Reward.stock <= 2**31 - 1 - add)
                       .values(stock=Reward.stock + add))
    if added.rowcount == 0:
        raise Unprocessable(f"reward {code!r} cannot hold that much stock",
                            {"add": "the stock would exceed 2147483647"})
    db.refresh(reward)
    return reward


def _check_reward(reward):
    """Rules across fields, once the reward's values are known."""
    fields = {}
    if reward.available_from and reward.available_to and as_utc(reward.available_to) <= as_utc(reward.available_from):
        fields["available_to"] = "must be after available_from"
    if reward.category in VOUCHER_CATEGORIES and reward.voucher_valid_days is None:
        fields["voucher_valid_days"] = f"is required for a {reward.category}"
    if reward.category not in VOUCHER_CATEGORIES and reward.voucher_valid_days is not None:
        fields["voucher_valid_days"] = "only room_night and fnb_voucher rewards issue vouchers"
    if fields:
        raise Unprocessable("the reward's fields do not fit together", fields)


def is_available(reward, now: datetime) -> bool:
    return (reward.active
            and (reward.available_from is None or as_utc(reward.available_from) <= now)
            and (reward.available_to is None or now < as_utc(reward.available_to)))


# --- Redemption -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedeemRequest:
    card_no: str
    reward_code: str
    quantity: int
    request_no: str
    collect_now: bool

    def fingerprint(self):
        return ledger.fingerprint_of({"card_no": self.card_no, "reward": self.reward_code,
                                      "quantity": self.quantity, "collect_now": self.collect_now})


@dataclass(frozen=True)
class RedemptionView:
    """A redemption as staff and the API see it."""

    id: int
    number: str
    outlet_code: str
    request_no: str
    card_no: str
    reward_code: str
    reward_name: str
    category: str
    quantity: int
    points: int
    status: str
    voucher_expires_at: datetime | None
    redeemed_at: datetime
    collected_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    points_balance: int | None = None
    replayed: bool = False


def redeem(db, outlet, request: RedeemRequest, ratio: Decimal, now=None, *, tz=None) -> RedemptionView:
    """Exchange a member's points for a reward: claim the request, take the stock, debit the points
    (oldest-expiring lots first). Idempotent on (outlet, request_no); all or nothing."""
    now = as_utc(now or utcnow())
    fingerprint = request.fingerprint()
    replay = _replay(db, outlet, request.request_no, fingerprint)
    if replay is not None:
        return replay
    card = card_for_purpose(db, request.card_no, now, "redeem", tz=tz)
    reward = get_reward(db, request.reward_code, field="reward")
    _check_redeemable(reward, card, now)
    points = points_price(reward, ratio) * request.quantity
    voucher_expires_at = now + timedelta(days=reward.voucher_valid_days) if reward.voucher_valid_days else None
    redemption_id = claim(db, REDEMPTIONS, REDEMPTION_KEY, {
        "outlet_id": outlet.id, "request_no": request.request_no, "reward_id": reward.id, "card_id": card.card_id,
        "member_id": card.member_id, "quantity": request.quantity, "points": points,
        "status": COLLECTED if request.collect_now else AWAITING_PICKUP, "fingerprint": fingerprint,
        "voucher_expires_at": voucher_expires_at, "redeemed_at": now,
        "collected_at": now if request.collect_now else None,
    })
    if redemption_id is None:
        return _replay(db, outlet, request.request_no, fingerprint)  # a simultaneous request claimed it first
    _take_stock(db, reward, request.quantity)
    posting = _debit_points(db, card, reward, points, f"redeem:{outlet.id}:{request.request_no}", fingerprint,
                            outlet.id, now, redemption_no(redemption_id))
    db.execute(update(Redemption).where(Redemption.id == redemption_id).values(entry_id=posting.entry_id))
    view = _view(db, redemption_id, points_balance=posting.balance_after)
    if view.status == AWAITING_PICKUP and card.member_id is not None:
        _tell_ready_for_pickup(db, view, card.member_id, outlet.id)
    _announce(db, card.member_id, view)
    return view


def _announce(db, member_id, view):
    """Raise lps_on_redemption_changed through the plugins of the session's application or command
    (the desk, the portal, SMS and the API call these services without handing them the plugins)."""
    plugins = plugins_of(db)
    if plugins is not None:
        plugins.hook.lps_on_redemption_changed(dbsession=db, member_id=member_id, redemption=view)


def _tell_ready_for_pickup(db, view, member_id, outlet_id):
    """Queue the member's message that the reward waits for them (lps_core.messages.outbox)."""
    outlet_name = db.scalar(select(Outlet.name).where(Outlet.id == outlet_id))
    enqueue(db, "redemption_ready", member_id=member_id, key=f"redemption:{view.id}", outlet_id=outlet_id,
            context={"reward": view.reward_name, "redemption_no": view.number, "outlet": outlet_name or view.outlet_code})


def get_redemption(db, number, *, outlets) -> RedemptionView:
    """The redemption `number`, fenced by `outlets`: the ids of the outlets the caller works for (an
    API key's one outlet, an operator's scope), or ANY_OUTLET. Another outlet's redemption is
    answered exactly like an unknown number, so numbers cannot be probed."""
    redemption_id = redemption_id_of(number)
    found = db.scalar(_fenced(select(Redemption.id).where(Redemption.id == redemption_id), outlets)) \
        if redemption_id is not None else None
    if found is None:
        raise _no_such_redemption(number)
    return _view(db, found)


def collect(db, number, *, outlets, now=None) -> RedemptionView:
    """The guest picks up what they redeemed earlier: awaiting_pickup -> collected. Fenced by
    `outlets` as get_redemption is."""
    now = as_utc(now or utcnow())
    redemption = _redemption_for_update(db, number, outlets)
    number = redemption_no(redemption.id)  # as staff know it, however it was typed
    if redemption.status != AWAITING_PICKUP:
        raise Conflict(f"redemption {number} is {redemption.status}, not awaiting pick-up",
                       {"no": f"is {redemption.status}"})
    if redemption.voucher_expires_at is not None and as_utc(redemption.voucher_expires_at) <= now:
        raise Conflict(f"the voucher of redemption {number} expired; cancel it to restore the points",
                       {"no": "the voucher has expired"})
    redemption.status, redemption.collected_at = COLLECTED, now
    db.flush()
    view = _view(db, redemption.id)
    _announce(db, redemption.member_id, view)
    return view


def cancel(db, number, reason, *, outlets, force=False, now=None) -> RedemptionView:
    """Give the points back to the lots they came from and put the items back in stock. A collected
    redemption is cancelled only with force (the goods came back, or the voucher was voided).
    Fenced by `outlets` as get_redemption is."""
    now = as_utc(now or utcnow())
    redemption = _redemption_for_update(db, number, outlets)
    number = redemption_no(redemption.id)  # as staff know it, however it was typed
    if redemption.status == CANCELLED:
        raise Conflict(f"redemption {number} is already cancelled", {"no": "is already cancelled"})
    if redemption.status == COLLECTED and not force:
        raise Conflict(f"redemption {number} was collected; send force: true once the reward is back",
                       {"force": "required to cancel a collected redemption"})
    db.execute(update(Reward).where(Reward.id == redemption.reward_id, Reward.stock.is_not(None))
               .values(stock=Reward.stock + redemption.quantity))
    posting = ledger.reverse(db, redemption.entry_id, business_key=f"redeem-cancel:{redemption.id}",
                             fingerprint=ledger.fingerprint_of({"redemption": redemption.id}), occurred_at=now,
                             note=f"cancelled redemption {number}")
    redemption.status, redemption.cancelled_at, redemption.cancel_reason = CANCELLED, now, reason
    db.flush()
    view = _view(db, redemption.id, points_balance=posting.balance_after)
    _announce(db, redemption.member_id, view)
    return view


@dataclass(frozen=True)
class Consumed:
    """What a redemption's debit took from one lot: the lot, the earn entry that created it (and its
    bill, if a bill earned it), the points taken and when the lot expires."""

    redemption_id: int
    lot_id: int
    earn_entry_id: int
    bill_no: str | None
    points: int
    lot_expires_at: datetime


def consumed_lots(db, redemption_ids) -> dict[int, list[Consumed]]:
    """The lots each redemption's debit consumed, oldest-expiring first, by redemption id (one query)."""
    from lps_core.earning.models import Bill

    found = {redemption_id: [] for redemption_id in redemption_ids}
    if not found:
        return found
    rows = db.execute(
        select(Redemption.id, PointLot.id, PointLot.entry_id, Bill.bill_no, LotAllocation.amount,
               PointLot.expires_at)
        .join(LotAllocation, LotAllocation.entry_id == Redemption.entry_id)
        .join(PointLot, PointLot.id == LotAllocation.lot_id)
        .join(LedgerEntry, LedgerEntry.id == PointLot.entry_id)
        .outerjoin(Bill, Bill.id == LedgerEntry.bill_id)
        .where(Redemption.id.in_(list(found)))
        .order_by(Redemption.id, PointLot.expires_at, PointLot.id))
    for redemption_id, lot_id, entry_id, bill_no, points, expires_at in rows:
        found[redemption_id].append(Consumed(redemption_id, lot_id, entry_id, bill_no, points, as_utc(expires_at)))
    return found


def member_redemptions(db, member_id, *, page=1, per_page=50) -> tuple[int, list[RedemptionView]]:
    """A member's redemptions, newest first: the total and one page."""
    total = db.scalar(select(func.count()).select_from(Redemption).where(Redemption.member_id == member_id))
    ids = db.scalars(select(Redemption.id).where(Redemption.member_id == member_id)
                     .order_by(Redemption.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
    return total, [_view(db, redemption_id) for redemption_id in ids]


def _check_redeemable(reward, card, now):
    if not reward.active:
        raise Unprocessable(f"reward {reward.code} is not active", {"reward": "is not active"})
    if not is_available(reward, now):
        raise Unprocessable(f"reward {reward.code} cannot be redeemed now",
                            {"reward": "is outside its redemption window"})
    if reward.allowed_tiers is not None and card.tier_code not in reward.allowed_tiers:
        raise Unprocessable(f"reward {reward.code} is for tiers {', '.join(reward.allowed_tiers)}",
                            {"reward": f"not for the member's tier ({card.tier_code or 'none'})"})


def _take_stock(db, reward, quantity):
    """One conditional UPDATE: concurrent redemptions of the last items cannot both pass."""
    if reward.stock is None:
        return
    taken = db.execute(update(Reward).where(Reward.id == reward.id, Reward.stock >= quantity)
                       .values(stock=Reward.stock - quantity).returning(Reward.stock)).one_or_none()
    if taken is None:
        raise Conflict(f"reward {reward.code} is out of stock", {"quantity": "more than the stock left"})


def _debit_points(db, card, reward, points, business_key, fingerprint, outlet_id, now, number):
    try:
        if card.points_account_id is None:
            raise InsufficientBalance("no points account", {"amount": "only 0 available"})
        return ledger.debit(db, card.points_account_id, points, kind=REDEEM, business_key=business_key,
                            fingerprint=fingerprint, occurred_at=now, outlet_id=outlet_id,
                            note=f"redemption {number}: reward {reward.code}", now=now)
    except InsufficientBalance as exc:
        available = exc.fields.get("amount", "").removeprefix("only ").removesuffix(" available") or "0"
        raise InsufficientBalance(f"reward {reward.code} costs {points} points; the member has {available}",
                                  {"points": f"needs {points} points, the member has {available}"}) from None


def _replay(db, outlet, request_no, fingerprint) -> RedemptionView | None:
    row = db.execute(select(Redemption.id, Redemption.fingerprint)
                     .where(Redemption.outlet_id == outlet.id, Redemption.request_no == request_no)).one_or_none()
    if row is None:
        return None
    replay_or_conflict(row.fingerprint, fingerprint, f"request {request_no} of outlet {outlet.code} was already used "
                       "with other content", {"request_no": "already used with other content"})
    balance = db.scalar(select(LedgerEntry.balance_after).join(Redemption, Redemption.entry_id == LedgerEntry.id)
                        .where(Redemption.id == row.id))
    return _view(db, row.id, points_balance=balance, replayed=True)


def _redemption_for_update(db, number, outlets) -> Redemption:
    redemption_id = redemption_id_of(number)
    query = _fenced(select(Redemption).where(Redemption.id == redemption_id), outlets)
    redemption = db.scalar(query.with_for_update()) if redemption_id is not None else None
    if redemption is None:
        raise _no_such_redemption(number)
    return redemption


def _fenced(query, outlets):
    """Only redemptions made at one of `outlets` (ids), unless ANY_OUTLET."""
    return query if outlets is ANY_OUTLET else query.where(Redemption.outlet_id.in_(list(outlets)))


def _no_such_redemption(number):
    """The one answer for an unknown number and for another outlet's redemption."""
    redemption_id = redemption_id_of(number)
    shown = redemption_no(redemption_id) if redemption_id is not None else number.strip()
    return NotFound(f"redemption {shown} does not exist", {"no": "no such redemption"})


def _view(db, redemption_id, *, points_balance=None, replayed=False) -> RedemptionView | None:
    row = db.execute(
        select(Redemption, Outlet.code, Card.card_no, Reward.code, Reward.name, Reward.category)
        .join(Outlet, Outlet.id == Redemption.outlet_id).join(Card, Card.id == Redemption.card_id)
        .join(Reward, Reward.id == Redemption.reward_id).where(Redemption.id == redemption_id)
    ).one_or_none()
    if row is None:
        return None
    redemption, outlet_code, card_no, reward_code, reward_name, category = row
    return RedemptionView(
        redemption.id, redemption_no(redemption.id), outlet_code, redemption.request_no, card_no, reward_code,
        reward_name, category, redemption.quantity, redemption.points, redemption.status,
        _utc_or_none(redemption.voucher_expires_at), as_utc(redemption.redeemed_at),
        _utc_or_none(redemption.collected_at), _utc_or_none(redemption.cancelled_at), redemption.cancel_reason,
        points_balance, replayed,
    )


def _utc_or_none(value):
    return as_utc(value) if value is not None else None


def check_tiers(db, values: dict):
    """An allowed tier must exist (the schema cannot know the programme's tiers): 422 otherwise."""
    if values.get("allowed_tiers"):
        known_tiers = set(db.scalars(select(Tier.code)))
        unknown = [tier for tier in values["allowed_tiers"] if tier not in known_tiers]
        if unknown:
            raise Unprocessable(f"no such tier: {', '.join(unknown)}",
                                {"allowed_tiers": f"no such tier: {', '.join(unknown)}"})
    return values
