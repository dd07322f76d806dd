"""Tier rules: the qualification window, the tier model, immediate upgrades, staff floors, purchases
with points, and the member lifecycle (dormant members who earn again).

Every change of a member's tier goes through `_change_tier`: it moves members.tier_id/tier_since,
appends a tier_changes row and calls the `lps_on_tier_changed` hook, in the caller's transaction.
The annual re-evaluation (`lps jobs tiers`) lives in lps_core.tiers.jobs and reuses the settings,
windows and tier list defined here.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, and_, bindparam, func, insert, select, update

from lps_core.db.idempotency import replay_or_conflict
from lps_core.errors import ConfigurationError, Conflict, InsufficientBalance, NotFound, Unprocessable, ValidationFailed
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.ledger.services import debit, fingerprint_of
from lps_core.members.models import Member, Tier
from lps_core.money import parse_amount
from lps_core.settings import TierSettings, settings_of
from lps_core.members.activity import month_of
from lps_core.tiers.models import MemberActivity, TierChange
from lps_core.timeutil import add_months, as_utc, utcnow

MEMBERS = Member.__table__
ACTIVITY = MemberActivity.__table__
TIER_CHANGES = TierChange.__table__

# The counters a tier model sees; `bills` is kept in member_activity too but qualifies for nothing.
QUALIFYING_COUNTERS = ("points", "spend_cents", "nights", "stays")
# How a tier's `qualification` JSON names them: spend is money, a decimal string such as "5000.00".
QUALIFICATION_KEYS = {"points": "points", "spend": "spend_cents", "nights": "nights", "stays": "stays"}
# Member statuses whose tier moves: a dormant member keeps earning status as soon as they come back.
TIERED_STATUSES = ("active", "dormant")
# How a tier's criteria combine: any one reached is enough, or every one named is needed.
QUALIFICATION_MODES = ("any", "all")


def tier_settings(settings) -> TierSettings:
    """The tier settings of the typed settings, or of a mapping of ini keys (a job's, a test's)."""
    return settings_of(settings).tiers


def tier_model(plugins, settings):
    """The ITierModel named by `lps.tiers.model`."""
    name = tier_settings(settings).model
    try:
        return plugins.tier_models[name]
    except KeyError:
        known = ", ".join(sorted(plugins.tier_models)) or "none"
        raise ConfigurationError(f"no plugin provides the tier model {name!r} named by lps.tiers.model "
                                 f"(installed: {known})") from None


# --- Windows -------------------------------------------------------------------------------------

def qualification_windows(window, now) -> list[tuple[date, date]]:
    """The windows an evaluation at `now` looks at, as [first month, month after the last) pairs.

    rolling_12_months: the 12 months up to and including the month of `now`.
    calendar_year: the previous calendar year, then this year so far. Status earned last year is kept
    through this year, and the best of the two windows counts."""
    this_month = month_of(now)
    next_month = add_months(this_month, 1)
    if window == "rolling_12_months":
        return [(add_months(this_month, -11), next_month)]
    this_year = date(this_month.year, 1, 1)
    return [(date(this_month.year - 1, 1, 1), this_year), (this_year, next_month)]


def current_window(window, now) -> tuple[date, date]:
    """The window in which activity now counts towards the next tier (the last of the windows)."""
    return qualification_windows(window, now)[-1]


# --- The programme's tiers -----------------------------------------------------------------------

@dataclass(frozen=True)
class TierSpec:
    """A tier as tier models see it: `threshold` maps counters (points, spend_cents, nights, stays)
    to the minimum that qualifies, and `mode` says whether any one of them is enough ("any") or all
    are needed ("all"); an empty threshold means the tier is not reached by activity (the entry
    tier, or a tier only bought or granted by staff)."""

    id: int
    code: str
    name: str
    rank: int
    multiplier: Decimal
    discount_rate: Decimal
    entitlements: list = field(default_factory=list)
    qualification: dict = field(default_factory=dict)
    threshold: dict = field(default_factory=dict)
    purchase_points: int | None = None
    mode: str = "any"


def threshold_of(code, qualification) -> dict:
    """Counter thresholds from a tier's qualification JSON, e.g. {"nights": 25, "spend": "5000.00"}
    -> {"nights": 25, "spend_cents": 500000}. A bad entry raises ConfigurationError naming the tier."""
    if not qualification:
        return {}
    if not isinstance(qualification, dict):
        raise ConfigurationError(f"tier {code!r}: qualification must be an object such as {{\"points\": 5000}}")
    threshold = {}
    for key, value in qualification.items():
        counter = QUALIFICATION_KEYS.get(key)
        if counter is None:
            raise ConfigurationError(f"tier {code!r}: unknown qualification {key!r} "
                                     f"(use {', '.join(QUALIFICATION_KEYS)})")
        if counter == "spend_cents":
            try:
                threshold[counter] = parse_amount(value, allow_zero=True)
            except ValueError as exc:
                raise ConfigurationError(f"tier {code!r}: qualification spend {exc}") from None
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(f"tier {code!r}: qualification {key} must be a non-negative integer")
        else:
            threshold[counter] = value
    return threshold


def load_tiers(db) -> list[TierSpec]:
    """The programme's tiers in use (retired ones left out), lowest rank first."""
    rows = db.execute(select(Tier.id, Tier.code, Tier.name, Tier.rank, Tier.multiplier, Tier.discount_rate,
                             Tier.entitlements, Tier.qualification, Tier.purchase_points, Tier.qualification_mode)
                      .where(Tier.retired_at.is_(None)).order_by(Tier.rank)).all()
    return [tier_spec(row) for row in rows]


def tier_spec(row) -> TierSpec:
    """A tier row (or a row of its columns) as tier models and the API see it."""
    return TierSpec(row.id, row.code, row.name, row.rank, row.multiplier, row.discount_rate,
                    list(row.entitlements or []), dict(row.qualification or {}),
                    threshold_of(row.code, row.qualification), row.purchase_points, row.qualification_mode)


def qualifying_tiers(tiers) -> list[TierSpec]:
    """What a tier model is given: the entry tier, then every tier that activity can reach."""
    return tiers[:1] + [tier for tier in tiers[1:] if tier.threshold]


def qualified_tier(model, activity, tiers) -> TierSpec:
    """The tier `activity` qualifies for, by the model's qualify()."""
    offered = qualifying_tiers(tiers)
    code = model.qualify(activity, offered)
    for tier in offered:
        if tier.code == code:
            return tier
    raise ConfigurationError(f"tier model {model.name!r} answered {code!r}, which is not one of the tiers offered")


def evaluation_target(ranks, current, qualified, floor) -> int:
    """The rank an evaluation moves a member to: up to the qualified rank at once, down by at most one
    level, and never below an active floor. `ranks` are all the programme's ranks, ascending."""
    if qualified >= current:
        target = qualified
    else:
        lower = [rank for rank in ranks if rank < current]
        target = max(qualified, lower[-1] if lower else current)
    return max(target, floor)


# --- Changing a member's tier --------------------------------------------------------------------

@dataclass(frozen=True)
class TierChangeResult:
    """A change written to tier_changes (reason: qualified, evaluation, purchase, floor)."""

    change_id: int
    member_id: int
    old_tier: str | None
    new_tier: str
    reason: str
    changed_at: datetime


def _change_tier(db, plugins, member_id, old_tier, new_tier, reason, now):
    """Move the member from `old_tier`; None (nothing written) if their tier moved meanwhile, or if
    `new_tier` was retired meanwhile (the tier list may come from a cache). The tier row is read with a
    share lock: retiring takes it for update, so a member is never moved onto a tier being retired."""
    retired = db.execute(select(Tier.retired_at).where(Tier.id == new_tier.id).with_for_update(read=True)).one_or_none()
    if retired is None or retired.retired_at is not None:
        return None
    moved = db.execute(update(Member).where(Member.id == member_id,
                                            Member.tier_id.is_not_distinct_from(old_tier.id if old_tier else None))
                       .values(tier_id=new_tier.id, tier_since=now))
    if moved.rowcount != 1:
        return None
    change_id = db.scalar(insert(TIER_CHANGES).values(
        member_id=member_id, old_tier_id=old_tier.id if old_tier else None, new_tier_id=new_tier.id,
        reason=reason, created_at=now).returning(TIER_CHANGES.c.id))
    old_code = old_tier.code if old_tier else None
    plugins.hook.lps_on_tier_changed(dbsession=db, member_id=member_id, old_tier=old_code, new_tier=new_tier.code)
    return TierChangeResult(change_id, member_id, old_code, new_tier.code, reason, now)


def _member_for_update(db, member_id):
    member = db.execute(select(Member.id, Member.status, Member.tier_id).where(Member.id == member_id)
                        .with_for_update()).one_or_none()
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    return member


def _by_id(tiers, tier_id):
    return next((tier for tier in tiers if tier.id == tier_id), None)


def _by_code(tiers, code, field_name="tier"):
    tier = next((tier for tier in tiers if tier.code == code), None)
    if tier is None:
        raise Unprocessable(f"tier {code!r} does not exist", {field_name: "no such tier"})
    return tier


def window_activity(db, member_id, start, end) -> dict:
    """The member's counters summed over the months [start, end)."""
    row = db.execute(select(*[func.coalesce(func.sum(ACTIVITY.c[name]), 0).label(name)
                              for name in (*QUALIFYING_COUNTERS, "bills")])
                     .where(ACTIVITY.c.member_id == member_id, ACTIVITY.c.month >= start,
                            ACTIVITY.c.month < end)).one()
    return {name: int(value) for name, value in row._mapping.items()}


def _member_in_window_statement():
    """A member's status and tier with each counter summed over a window; built once, it runs on every bill."""
    sums = [func.coalesce(func.sum(ACTIVITY.c[name]), 0).label(name) for name in QUALIFYING_COUNTERS]
    in_window = and_(ACTIVITY.c.member_id == MEMBERS.c.id, ACTIVITY.c.month >= bindparam("start", type_=Date),
                     ACTIVITY.c.month < bindparam("end", type_=Date))
    return (select(MEMBERS.c.status, MEMBERS.c.tier_id, *sums)
            .select_from(MEMBERS.outerjoin(ACTIVITY, in_window))
            .where(MEMBERS.c.id == bindparam("member_id"))
            .group_by(MEMBERS.c.id, MEMBERS.c.status, MEMBERS.c.tier_id))


MEMBER_IN_WINDOW = _member_in_window_statement()


def tier_window(settings, now) -> tuple[date, date]:
    """The window whose activity upgrade_if_qualified counts at `now`."""
    return current_window(tier_settings(settings).window, as_utc(now))


def upgrade_if_qualified(db, plugins, settings, member_id, now=None, tiers=None, member=None) -> TierChangeResult | None:
    """Move the member up at once if their activity in the current window qualifies for a higher tier.

    Never moves anyone down (that is the annual evaluation's job). Two reads (the member with the
    window's sums, unless the caller passes that row as `member`, as the bill's own statement reads
    it back on PostgreSQL, see lps_core.members.activity.bill_activity; and the tiers unless the caller passes them, e.g. from a cache) when nothing
    changes; an update, an insert and the hook otherwise. Call it in the earning transaction,
    after the bill's activity is counted."""
    now = as_utc(now or utcnow())
    if member is None:
        start, end = tier_window(settings, now)
        member = db.execute(MEMBER_IN_WINDOW, {"member_id": member_id, "start": start, "end": end}).one_or_none()
    if member is None or member.status not in TIERED_STATUSES:
        return None
    tiers = load_tiers(db) if tiers is None else tiers
    if not tiers:
        return None
    activity = {name: int(getattr(member, name)) for name in QUALIFYING_COUNTERS}
    qualified = qualified_tier(tier_model(plugins, settings), activity, tiers)
    current = _by_id(tiers, member.tier_id)
    if current is not None and qualified.rank <= current.rank:
        return None
    return _change_tier(db, plugins, member_id, current, qualified, "qualified", now)


def tier_reached_by_bill(db, plugins, settings, member_id, moment, tiers, bill) -> TierSpec | None:
    """The higher tier that a bill not yet recorded lifts the member to, or None.

    `bill` holds the bill's own counters (points, spend_cents, nights, stays). They are added to the
    window's sums as upgrade_if_qualified will see them once the bill is recorded, so the two agree.
    With lps.tiers.upgrade_bill_earns_at = new, the earning computes the bill's points at this tier."""
    start, end = current_window(tier_settings(settings).window, as_utc(moment))
    member = db.execute(MEMBER_IN_WINDOW, {"member_id": member_id, "start": start, "end": end}).one_or_none()
    if member is None or member.status not in TIERED_STATUSES or not tiers:
        return None
    activity = {name: int(getattr(member, name)) + int(bill.get(name, 0)) for name in QUALIFYING_COUNTERS}
    qualified = qualified_tier(tier_model(plugins, settings), activity, tiers)
    current = _by_id(tiers, member.tier_id)
    if current is not None and qualified.rank <= current.rank:
        return None
    return qualified


def tier_held_at(db, member_id, moment) -> tuple[bool, Tier | None]:
    """The tier the member held at `moment`, from the tier history: (True, that tier, or None for
    no tier) when their tier changed after `moment`, (False, None) when it has not changed since, so
    their current tier applies. A back-dated bill earns at the tier of its own date with this."""
    row = db.execute(select(TierChange.old_tier_id).where(TierChange.member_id == member_id,
                                                          TierChange.created_at > as_utc(moment))
                     .order_by(TierChange.created_at, TierChange.id).limit(1)).one_or_none()
    if row is None:
        return False, None
    return True, db.get(Tier, row.old_tier_id) if row.old_tier_id is not None else None


def reactivate_if_dormant(db, member_id) -> bool:
    """A dormant member who earns again is active again; True if they were dormant. One statement."""
    result = db.execute(update(Member).where(Member.id == member_id, Member.status == "dormant")
                        .values(status="active"))
    return result.rowcount == 1


# --- Staff floors (status match) -----------------------------------------------------------------

@dataclass(frozen=True)
class FloorResult:
    member_id: int
    floor_tier: str
    expires_at: datetime
    change: TierChangeResult | None


def set_tier_floor(db, plugins, member_id, tier_code, expires_at, now=None) -> FloorResult:
    """Guarantee the member `tier_code` until `expires_at`: evaluations never move them below it.
    A member below the floor is raised to it at once (reason 'floor')."""
    now = as_utc(now or utcnow())
    if not isinstance(expires_at, datetime):
        raise ValidationFailed("expires_at must be a date-time", {"expires_at": "must be a date-time"})
    expires_at = as_utc(expires_at)
    if expires_at <= now:
        raise Unprocessable("expires_at must be in the future", {"expires_at": "must be in the future"})
    member = _member_for_update(db, member_id)
    if member.status not in TIERED_STATUSES:
        raise Conflict(f"member {member_id} is {member.status}", {"id": f"member is {member.status}"})
    tiers = load_tiers(db)
    floor = _by_code(tiers, tier_code)
    db.execute(update(Member).where(Member.id == member_id)
               .values(tier_floor_id=floor.id, tier_floor_expires_at=expires_at))
    current = _by_id(tiers, member.tier_id)
    change = None
    if current is None or current.rank < floor.rank:
        change = _change_tier(db, plugins, member_id, current, floor, "floor", now)
    return FloorResult(member_id, floor.code, expires_at, change)


# --- Buying a higher tier with points ------------------------------------------------------------

TIER_PURCHASE = "tier_purchase"


@dataclass(frozen=True)
class PurchaseResult:
    member_id: int
    tier: str
    points: int
    points_balance: int
    change_id: int | None
    replayed: bool = False


def purchase_tier(db, plugins, member_id, tier_code, business_key, now=None) -> PurchaseResult:
    """Pay the tier's purchase_points to move up to it (reason 'purchase').

    Idempotent by `business_key` (the ledger entry's key): the same purchase again answers the first
    result; the same key for another tier is a Conflict. Only a higher tier with purchase_points set
    can be bought; too few points is an InsufficientBalance (409)."""
    now = as_utc(now or utcnow())
    member = _member_for_update(db, member_id)
    tiers = load_tiers(db)
    target = _by_code(tiers, tier_code)
    fingerprint = fingerprint_of({"member_id": member_id, "tier": target.code, "points": target.purchase_points})
    posted = db.execute(select(LedgerEntry.amount, LedgerEntry.balance_after, LedgerEntry.fingerprint)
                        .where(LedgerEntry.business_key == business_key)).one_or_none()
    if posted is not None:
        replay_or_conflict(posted.fingerprint, fingerprint, f"{business_key!r} was already used for another purchase",
                           {"purchase_no": "already used with other content"})
        return PurchaseResult(member_id, target.code, -posted.amount, posted.balance_after, None, replayed=True)
    if member.status != "active":
        raise Conflict(f"member {member_id} is {member.status}, not active", {"id": f"member is {member.status}"})
    current = _by_id(tiers, member.tier_id)
    if current is not None and target.rank <= current.rank:
        raise Conflict(f"the member is already {current.code}; only a higher tier can be bought",
                       {"tier": f"must be above the member's tier {current.code}"})
    if target.purchase_points is None:
        raise Unprocessable(f"tier {target.code!r} cannot be bought with points", {"tier": "is not for sale"})
    account_id = db.scalar(select(Account.id).where(Account.member_id == member_id, Account.kind == POINTS))
    try:
        if account_id is None:
            raise InsufficientBalance("no points account", {"amount": "only 0 available"})
        posting = debit(db, account_id, target.purchase_points, kind=TIER_PURCHASE, business_key=business_key,
                        fingerprint=fingerprint, occurred_at=now, note=f"tier {target.code}", now=now)
    except InsufficientBalance as exc:
        available = exc.fields.get("amount", "").removeprefix("only ").removesuffix(" available")
        raise InsufficientBalance(
            f"tier {target.code} costs {target.purchase_points} points; the member has {available or 0}",
            {"tier": f"needs {target.purchase_points} points, the member has {available or 0}"},
        ) from None
    change = _change_tier(db, plugins, member_id, current, target, "purchase", now)
    return PurchaseResult(member_id, target.code, target.purchase_points, posting.balance_after,
                          change.change_id if change else None)


# --- What the API shows ---------------------------------------------------------------------------

def member_tier_status(db, settings, member_id, now=None) -> dict:
    """The member's tier, floor, activity in the current window and what the next tier needs."""
    now = as_utc(now or utcnow())
    member = db.execute(select(Member.id, Member.status, Member.tier_id, Member.tier_since, Member.tier_floor_id,
                               Member.tier_floor_expires_at).where(Member.id == member_id)).one_or_none()
    if member is None:
        raise NotFound(f"member {member_id} does not exist", {"id": "no such member"})
    config = tier_settings(settings)
    tiers = load_tiers(db)
    start, end = current_window(config.window, now)
    activity = window_activity(db, member_id, start, end)
    current = _by_id(tiers, member.tier_id)
    floor = _by_id(tiers, member.tier_floor_id)
    floor_expires = as_utc(member.tier_floor_expires_at) if member.tier_floor_expires_at else None
    above = [tier for tier in tiers if tier.threshold and (current is None or tier.rank > current.rank)]
    next_tier = None
    if above:
        tier = above[0]
        needs = {counter: max(0, minimum - activity[counter]) for counter, minimum in tier.threshold.items()}
        shares = [(min(1.0, activity[counter] / minimum) if minimum else 1.0)
                  for counter, minimum in tier.threshold.items()]
        progress = min(shares) if tier.mode == "all" else max(shares)
        next_tier = {"tier": tier, "needs": needs, "mode": tier.mode, "progress": round(progress, 4)}
    return {
        "member_id": member_id, "status": member.status, "tier": current,
        "since": as_utc(member.tier_since) if member.tier_since else None,
        "floor": {"tier": floor, "expires_at": floor_expires, "active": floor_expires is not None and floor_expires > now}
        if floor else None,
        "window": {"kind": config.window, "from": start, "until": end},
        "activity": activity, "next": next_tier,
    }
