"""Points: issued, reversed, restored, redeemed and expired in the period, by outlet, by tier and
by day or month; what members hold at the period's start and end; and what they hold as a
liability in money, with a breakage estimate taken from the programme's own history.

Every figure is a sum of points ledger entries (accounts of kind `points`), by their occurred_at:
- issued: every credit that is not a reversal (earning, bonuses, upward adjustments, points in
  from a partner);
- reversed: reversals that took points back (a refunded bill's points);
- restored: reversals that gave points back (a cancelled redemption, reinstated expired points);
- redeemed: every debit that is neither a reversal nor an expiry (rewards, points paid as a
  tender, points sent to a partner, a tier bought, downward adjustments);
- expired: expiry entries;
so that opening + issued - reversed + restored - redeemed - expired = closing, where opening and
closing are the sums of every entry before the period's start and end: the balance members held.

Breakage is the share of points that leave by expiring rather than by being spent, over the
trailing lps.reports.breakage_months before the period's end: expired / (expired + redeemed)
(0 when neither happened). The liability is closing × lps.reports.point_value; net of breakage,
liability × (1 - breakage). Balances belong to members, not outlets: opening, closing and the
liability are the programme's whatever the outlet filter."""
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, literal, select, union_all

from lps_core.db import reports_session_of
from lps_core.exports import INTEGER, MONEY, RATIO, TEXT, Column, Table
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.ledger.services import EXPIRY, REVERSAL
from lps_core.members.models import Member, Tier
from lps_core.outlets.models import Outlet
from lps_core.reports.report import Chart, Figure, Report
from lps_core.reports.texts import dgettext
from lps_core.timeutil import add_months

MOVEMENTS = ("issued", "reversed", "restored", "redeemed", "expired")


def movement_columns(*only):
    """The five movements as SUM(CASE ...) columns over ledger_entries; `only`: conditions an entry
    must also meet to count."""
    amount, kind = LedgerEntry.amount, LedgerEntry.kind
    is_reversal, is_expiry = kind == REVERSAL, kind == EXPIRY
    return [
        func.coalesce(func.sum(case((and_(*only, amount > 0, ~is_reversal), amount), else_=0)), 0).label("issued"),
        func.coalesce(func.sum(case((and_(*only, is_reversal, amount < 0), -amount), else_=0)), 0).label("reversed"),
        func.coalesce(func.sum(case((and_(*only, is_reversal, amount > 0), amount), else_=0)), 0).label("restored"),
        func.coalesce(func.sum(case((and_(*only, amount < 0, ~is_reversal, ~is_expiry), -amount), else_=0)), 0)
        .label("redeemed"),
        func.coalesce(func.sum(case((and_(*only, is_expiry), -amount), else_=0)), 0).label("expired"),
    ]


def _points_entries(query):
    """Points entries, selected by the account kind on the entry: no join to the accounts."""
    return query.select_from(LedgerEntry).where(LedgerEntry.account_kind == POINTS)


def _in_period(query, scope):
    query = query.where(LedgerEntry.occurred_at >= scope.starts, LedgerEntry.occurred_at < scope.ends)
    outlets = scope.outlet_filter(LedgerEntry.outlet_id)
    return query if outlets is None else query.where(outlets)


def _movements(row) -> dict:
    return {name: int(getattr(row, name)) for name in MOVEMENTS}


def by_tier(db, scope) -> dict:
    """Per tier of the members (its code, "-" for none): what they hold today ("held"), their
    movements in the period (at the scope's outlets) and the sums of their entries since the
    period's start and since its end (at every outlet). Today's balances less the entries since a
    moment are the balances then (the ledger keeps each balance equal to the sum of its entries),
    so a recent period reads the few entries after it instead of the whole history; both parts
    are read in one statement, so that they see the same postings.

    Two sums per tier in one UNION ALL: the balances of the points accounts by their members'
    tiers, and the entries since the start by theirs. The entries summed per account, then joined
    with every account, made each parallel worker build the per-account sums itself: 2.1-2.7 s at
    1,000,000 members against 1.7-1.9 s for the two parts (bench/README.md). Both parts read the
    members' tiers from their index (tier, id; migration 0050), not from the members' rows."""
    sums = (*MOVEMENTS, "since_start", "since_end")
    tier_code = func.coalesce(Tier.code, "-").label("tier")
    held = (select(tier_code, func.coalesce(func.sum(Account.balance), 0).label("held"),
                   *[literal(0).label(name) for name in sums])
            .select_from(Account).outerjoin(Member, Member.id == Account.member_id)
            .outerjoin(Tier, Tier.id == Member.tier_id).where(Account.kind == POINTS).group_by(tier_code))
    at = LedgerEntry.occurred_at
    counted = [at < scope.ends] + ([scope.outlet_filter(LedgerEntry.outlet_id)] if scope.outlet_ids is not None else [])
    moved = (_points_entries(select(
        tier_code, literal(0).label("held"), *movement_columns(*counted),
        func.coalesce(func.sum(LedgerEntry.amount), 0).label("since_start"),
        func.coalesce(func.sum(case((at >= scope.ends, LedgerEntry.amount), else_=0)), 0).label("since_end")))
        .join(Account, Account.id == LedgerEntry.account_id).outerjoin(Member, Member.id == Account.member_id)
        .outerjoin(Tier, Tier.id == Member.tier_id).where(at >= scope.starts).group_by(tier_code))
    tiers = {}
    for row in reports_session_of(db).execute(union_all(held, moved)):
        into = tiers.setdefault(row.tier, dict.fromkeys(("held", *sums), 0))
        for name in into:
            into[name] += int(getattr(row, name))
    return tiers


def breakage_of(db, ends, months) -> tuple[Decimal, int, int]:
    """(breakage, expired, redeemed) over the `months` before `ends`. Both are debits: the debits'
    own index (migration 0049) reads only them."""
    starts = add_months(ends, -months)
    row = reports_session_of(db).execute(_points_entries(select(*movement_columns())).where(
        LedgerEntry.amount < 0, LedgerEntry.occurred_at >= starts, LedgerEntry.occurred_at < ends)).one()
    expired, redeemed = int(row.expired), int(row.redeemed)
    if expired + redeemed == 0:
        return Decimal("0.0000"), expired, redeemed
    return (Decimal(expired) / Decimal(expired + redeemed)).quantize(Decimal("0.0001"), ROUND_HALF_UP), expired, redeemed


def money_of(points: int, point_value: Decimal) -> int:
    """Cents, half up."""
    return int((Decimal(points) * point_value * 100).quantize(Decimal(1), ROUND_HALF_UP))


def points_report(db, scope, settings) -> Report:
    read = reports_session_of(db)
    tiers = by_tier(db, scope)
    tier_moves = {tier: {name: sums[name] for name in MOVEMENTS} for tier, sums in tiers.items()}
    totals = {name: sum(moves[name] for moves in tier_moves.values()) for name in MOVEMENTS}
    held = sum(sums["held"] for sums in tiers.values())  # every points balance today
    opening = held - sum(sums["since_start"] for sums in tiers.values())
    closing = held - sum(sums["since_end"] for sums in tiers.values())
    tier_held = {tier: sums["held"] - sums["since_end"] for tier, sums in tiers.items()}  # at the period's end
    breakage, window_expired, window_redeemed = breakage_of(db, scope.ends, settings.breakage_months)
    liability = money_of(closing, settings.point_value)
    net_liability = int((Decimal(liability) * (1 - breakage)).quantize(Decimal(1), ROUND_HALF_UP))

    by_outlet = read.execute(_in_period(_points_entries(
        select(LedgerEntry.outlet_id, Outlet.code, Outlet.name, *movement_columns()))
        .outerjoin(Outlet, Outlet.id == LedgerEntry.outlet_id), scope)
        .group_by(LedgerEntry.outlet_id, Outlet.code, Outlet.name).order_by(Outlet.code)).all()
    movement_cols = [Column(name, label, INTEGER) for name, label in _movement_labels()]
    outlet_rows = [{"outlet": row.code or "-", "outlet_name": row.name or dgettext("lps_reports", "no outlet"),
                    **_movements(row), "net": sum(_signed(_movements(row)).values())} for row in by_outlet]
    outlet_table = Table(dgettext("lps_reports", "By outlet"),
                         [Column("outlet", dgettext("lps_reports", "Outlet")),
                          Column("outlet_name", dgettext("lps_reports", "Outlet name")), *movement_cols,
                          Column("net", dgettext("lps_reports", "Net change"), INTEGER)],
                         outlet_rows, _sum(outlet_rows, [*MOVEMENTS, "net"]), dgettext("lps_reports", "Total"))

    ranks = dict(read.execute(select(Tier.code, Tier.rank)).all())
    tier_rows = []
    for tier in sorted(set(tier_moves) | set(tier_held), key=lambda code: (ranks.get(code, -1), code)):
        outstanding = int(tier_held.get(tier) or 0)
        tier_rows.append({"tier": tier, **tier_moves.get(tier, dict.fromkeys(MOVEMENTS, 0)), "outstanding": outstanding,
                          "liability": money_of(outstanding, settings.point_value)})
    tier_table = Table(dgettext("lps_reports", "By tier"),
                       [Column("tier", dgettext("lps_reports", "Tier"), TEXT), *movement_cols,
                        Column("outstanding", dgettext("lps_reports", "Outstanding at the end"), INTEGER),
                        Column("liability", dgettext("lps_reports", "Liability"), MONEY)],
                       tier_rows, _sum(tier_rows, [*MOVEMENTS, "outstanding", "liability"]), dgettext("lps_reports", "Total"))

    bucket, within = scope.bucket_of(read, LedgerEntry.occurred_at)
    by_bucket = {row.label: _movements(row) for row in read.execute(_in_period(within(_points_entries(
        select(bucket.label("label"), *movement_columns()))), scope).group_by(bucket))}
    labels = [bucket.label for bucket in scope.buckets]
    chart = Chart(labels, [(label, [by_bucket.get(bucket, {}).get(name, 0) for bucket in labels], "bar", INTEGER)
                           for name, label in _movement_labels() if name in ("issued", "redeemed", "expired")],
                  dgettext("lps_reports", "Points issued, redeemed and expired"))
    figures = [Figure("opening", dgettext("lps_reports", "Outstanding at the start"), INTEGER, opening),
               *[Figure(name, label, INTEGER, totals[name]) for name, label in _movement_labels()],
               Figure("outstanding", dgettext("lps_reports", "Outstanding at the end"), INTEGER, closing),
               Figure("point_value", dgettext("lps_reports", "Value of a point"), RATIO, settings.point_value),
               Figure("liability", dgettext("lps_reports", "Liability"), MONEY, liability),
               Figure("breakage", dgettext("lps_reports", "Breakage"), RATIO, breakage),
               Figure("liability_net_of_breakage", dgettext("lps_reports", "Liability net of breakage"), MONEY,
                      net_liability),
               Figure("breakage_expired", dgettext("lps_reports", "Expired in the breakage window"), INTEGER,
                      window_expired),
               Figure("breakage_redeemed", dgettext("lps_reports", "Redeemed in the breakage window"), INTEGER,
                      window_redeemed)]
    notes = [dgettext("lps_reports", "Outstanding points and the liability are the whole programme's, "
                                     "whatever the outlet filter.")] if scope.outlet_ids is not None else []
    return Report("points", dgettext("lps_reports", "Points"), scope, figures, [outlet_table, tier_table], chart,
                  notes=notes)


def _movement_labels():
    return [("issued", dgettext("lps_reports", "Issued")), ("reversed", dgettext("lps_reports", "Reversed")),
            ("restored", dgettext("lps_reports", "Restored")), ("redeemed", dgettext("lps_reports", "Redeemed")),
            ("expired", dgettext("lps_reports", "Expired"))]


def _signed(movements: dict) -> dict:
    signs = {"issued": 1, "reversed": -1, "restored": 1, "redeemed": -1, "expired": -1}
    return {name: signs[name] * value for name, value in movements.items()}


def _sum(rows, keys) -> dict:
    return {key: sum(row[key] for row in rows) for key in keys}
