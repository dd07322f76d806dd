"""Settling a bill with a member card, and refunding it.

A settlement is claimed by inserting its row on (outlet, bill no.) with lps_core.db.idempotency, as
earning claims a bill, so a retried or doubled request settles once. Everything happens in the
request's one transaction: if any tender fails (too little stored value, a wrong PIN, no credit
left), nothing at all is posted.

The discount comes first: each line gets the better of the card type's rate (for the outlet and
the line's category) and the tier's rate. Points are then earned, by the outlet's earning rules,
on what was paid with money: the charged total less what tenders that earn no points paid (uses,
points, vouchers unless lps.vouchers.earn_points is true) and less the part of a tender that earns
none (stored value's bonus part).

Tenders are plugins (lps_core.contract.ITender; LPS's own in lps_core.builtin.tenders), known here
by no name. Each line's kind must be a tender switched on at the outlet (422 naming the line
otherwise); every line is validated by its tender before anything is posted, then taken inside this
same transaction, in order.

A refund sends each tender's share back to where it came from, in proportion to what is still
unrefunded of each, through the tender that took it, and takes back the points (and bonus points
of the bill) pro rata.
"""
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lps_core.cards import cobrand
from lps_core.cards.funds import card_balances
from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import pin_needed, verify_pin
from lps_core.cards.products import discount_rate, ensure_usable
from lps_core.cards.services import normalize_card_no
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.cashier.requests import RefundRequest, SettleRequest
from lps_core.contract import BillLine, SettledTender, TenderContext, TenderLine, TenderRefused
from lps_core.db.idempotency import claim, replay_or_conflict
from lps_core.db.stamps import changed_now
from lps_core.earning.services import EarnRequest, earn_points_for_bill, reverse_bill
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account
from lps_core.members.models import Member
from lps_core.money import format_cents
from lps_core.timeutil import utcnow


@dataclass(frozen=True)
class Result:
    id: int
    replayed: bool


@dataclass(frozen=True)
class ChosenTender:
    """A tender line with the plugin that takes it and its settings at the outlet."""

    line: TenderLine
    tender: object  # provides lps_core.contract.ITender
    settings: object


def tenders_on_at(db, plugins, outlet_id) -> list[tuple[str, object]]:
    """The tenders switched on at an outlet, as (name, label), in the order the plugins provide them."""
    return [(name, tender.label) for name, tender in plugins.tenders.items()
            if plugins.switches.state(db, "tender", name, outlet_id).enabled]


def card_for_use(db, raw_card_no, at, *, tz=None, field="card_no", purpose="settle") -> tuple[Card, CardType]:
    """The card row and its type, if the card may be used for `purpose` at `at`, by the one rule of
    lps_core.cards.products.ensure_usable: active, inside its validity, and its member (if it has
    one) active or dormant."""
    card_no = normalize_card_no(raw_card_no, field)
    # One statement for the card, its type, its member and the member's tier, which pricing and the
    # tenders read next, instead of a lazy load for each.
    card = db.scalars(select(Card).where(Card.card_no == card_no).options(
        joinedload(Card.card_type), joinedload(Card.member).joinedload(Member.tier))).one_or_none()
    if card is None:
        raise Unprocessable(f"card {card_no} is not known", {field: "no such card"})
    ensure_usable(card, at, purpose, tz=tz, field=field)
    return card, card.card_type


def price_lines(card_type, tier, outlet_code, items, *, discounted=True) -> list[dict]:
    """Each line with its discount: the better of the card type's and the tier's rate (none for a
    fee, which is charged at its price)."""
    tier_rate = Decimal(tier.discount_rate or 0) if tier is not None else Decimal(0)
    lines = []
    for item in items:
        rate = max(discount_rate(card_type, outlet_code, item.category), tier_rate) if discounted else Decimal(0)
        discount = int((Decimal(item.amount_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        lines.append({"sku": item.sku, "category": item.category, "qty": item.qty, "amount_cents": item.amount_cents,
                      "rate": rate, "discount_cents": discount, "charged_cents": item.amount_cents - discount})
    return lines


def settle_bill(db, plugins, programme, outlet, request: SettleRequest, *, fee=False) -> Result:
    """Settle the bill; a `fee` (a paid membership's, lps_core.cards.membership) is charged at its
    price, with no discount, and earns no points."""
    fingerprint = ledger.fingerprint_of(request.content())
    replay = _replay(db, outlet, request.bill_no, fingerprint)
    if replay:
        return replay
    occurred_at = request.occurred_at or utcnow()
    programme.limits.check_occurred_at(request.occurred_at)
    card, card_type = card_for_use(db, request.card_no, occurred_at, tz=programme.timezone)
    tier = card.member.tier if card.member is not None else None
    if card.member is not None and request.occurred_at is not None:
        changed, held = programme.tiers.held_at(db, card.member_id, occurred_at)
        tier = held if changed else tier
    lines = price_lines(card_type, tier, outlet.code, request.items, discounted=not fee)
    gross = sum(line["amount_cents"] for line in lines)
    programme.limits.check_bill_amount(gross, outlet.code, field="items")
    discount = sum(line["discount_cents"] for line in lines)
    charged = gross - discount
    chosen = _tenders_at(db, plugins, outlet, request.tenders)
    context = TenderContext(db, outlet.id, outlet.code, card, card_type, occurred_at,
                            lines=tuple(c.line for c in chosen), hook=plugins.hook, fingerprint=fingerprint)
    _check_tenders(chosen, charged, context)
    if any(c.tender.needs_pin for c in chosen) and pin_needed(card, card_type):
        verify_pin(db, card, request.pin)

    settlement_id = claim(db, Settlement.__table__, ("outlet_id", "bill_no"), {
        "outlet_id": outlet.id, "bill_no": request.bill_no, "card_id": card.id, "member_id": card.member_id,
        "gross_cents": gross, "discount_cents": discount, "charged_cents": charged, "earning_basis_cents": 0,
        "points": 0, "items": [_line_json(line) for line in lines], "balances": {}, "fingerprint": fingerprint,
        "operator": request.operator, "api_key_id": outlet.api_key_id, "occurred_at": occurred_at,
        "created_at": utcnow(),
    })
    if settlement_id is None:  # another request settled this bill first
        return _replay(db, outlet, request.bill_no, fingerprint)
    cobrand.record_settlement_discount(db, settlement_id, card, card_type, tier, outlet, lines, occurred_at)

    rows, not_earning = [], 0
    with _refusals():
        for c in chosen:
            taken = c.tender.take(c.line, replace(context, settings=c.settings, settlement_id=settlement_id,
                                                  business_key=f"settle:{outlet.id}:{request.bill_no}:"
                                                               f"{c.line.position}"))
            rows.append(_tender_row(settlement_id, c.line, taken))
            not_earning += c.line.amount_cents if not c.tender.earns_points(c.settings) \
                else min(taken.not_earning_cents, c.line.amount_cents)
    db.execute(SettlementTender.__table__.insert(), rows)

    basis = 0 if fee else charged - not_earning
    points, bill_id, points_balance = 0, None, None
    if card.member_id is not None and basis > 0:
        earned = earn_points_for_bill(db, plugins, programme, outlet, EarnRequest(
            card.card_no, request.bill_no, basis, occurred_at, _earning_lines(lines, charged, basis)))
        points, bill_id, points_balance = earned.points, earned.id, earned.points_balance
    db.execute(update(Settlement).where(Settlement.id == settlement_id).values(
        earning_basis_cents=basis, points=points, bill_id=bill_id,
        balances=_balances(db, card, card_type, points_balance)))
    return Result(settlement_id, False)


def refund_settlement(db, plugins, outlet, settlement_id, request: RefundRequest) -> Result:
    """Refund all or part of a settlement of `outlet`; never more than is left of it. Another
    outlet's settlement is answered exactly like an unknown one."""
    settlement = db.execute(
        select(Settlement).where(Settlement.id == settlement_id, Settlement.outlet_id == outlet.id).with_for_update()
    ).scalar_one_or_none()
    if settlement is None:
        raise NotFound(f"settlement {settlement_id} does not exist", {"id": "no such settlement"})
    fingerprint = ledger.fingerprint_of({"amount": request.amount_cents, "refund_no": request.refund_no})
    existing = db.execute(select(SettlementRefund.id, SettlementRefund.fingerprint).where(
        SettlementRefund.settlement_id == settlement.id, SettlementRefund.refund_no == request.refund_no)).one_or_none()
    if existing is not None:
        replay_or_conflict(existing.fingerprint, fingerprint,
                           f"refund {request.refund_no!r} of settlement {settlement_id} was already made with "
                           "another amount", {"refund_no": "already used with another amount"})
        return Result(existing.id, True)

    tenders = db.scalars(select(SettlementTender).where(SettlementTender.settlement_id == settlement.id)
                         .order_by(SettlementTender.position)).all()
    earlier = refunded_by_tender(db, settlement.id)
    refunded = sum(earlier.values())
    left = settlement.charged_cents - refunded
    if left == 0:
        raise Conflict(f"settlement {settlement_id} is already fully refunded", {"amount": "nothing left to refund"})
    amount = left if request.amount_cents is None else request.amount_cents
    if amount > left:
        raise Conflict(f"only {format_cents(left)} of settlement {settlement_id} is left to refund",
                       {"amount": f"at most {format_cents(left)} can be refunded"})
    shares = _split(amount, [t.amount_cents - earlier.get(t.position, 0) for t in tenders])
    card = db.get(Card, settlement.card_id)
    context = TenderContext(db, outlet.id, outlet.code, card, card.card_type, utcnow(), settlement_id=settlement.id,
                            fingerprint=fingerprint, hook=plugins.hook)
    key = f"refund:{settlement.id}:{request.refund_no}"
    whole_bill = refunded + amount == settlement.charged_cents
    with _refusals():
        returned = [_give_back(plugins, context, row, share, earlier.get(row.position, 0), f"{key}:{row.position}",
                               whole_bill=whole_bill)
                    for row, share in zip(tenders, shares)]

    points = 0
    if settlement.bill_id is not None:
        basis = settlement.earning_basis_cents
        basis_back = (basis * (refunded + amount) // settlement.charged_cents
                      - basis * refunded // settlement.charged_cents)
        if basis_back > 0:
            points = reverse_bill(db, plugins, outlet, settlement.bill_id, amount_cents=basis_back,
                                  refund_no=request.refund_no).points
    refund_id = db.scalar(SettlementRefund.__table__.insert().values(
        settlement_id=settlement.id, refund_no=request.refund_no, amount_cents=amount, points=points,
        tenders=returned, reason=request.reason, operator=request.operator, fingerprint=fingerprint,
        api_key_id=outlet.api_key_id, created_at=utcnow(),
    ).returning(SettlementRefund.id))
    db.execute(update(Settlement).where(Settlement.id == settlement.id).values(updated_at=changed_now()))  # resynced
    cobrand.record_settlement_refund(db, settlement, refund_id, refunded, amount, utcnow())
    return Result(refund_id, False)


def refunded_by_tender(db, settlement_id) -> dict[int, int]:
    """Cents refunded so far per tender position."""
    totals = {}
    for tenders in db.scalars(select(SettlementRefund.tenders).where(SettlementRefund.settlement_id == settlement_id)):
        for returned in tenders:
            totals[returned["position"]] = totals.get(returned["position"], 0) + returned["amount_cents"]
    return totals


def _replay(db, outlet, bill_no, fingerprint) -> Result | None:
    row = db.execute(select(Settlement.id, Settlement.fingerprint)
                     .where(Settlement.outlet_id == outlet.id, Settlement.bill_no == bill_no)).one_or_none()
    if row is None:
        return None
    replay_or_conflict(row.fingerprint, fingerprint,
                       f"bill {bill_no} of outlet {outlet.code} was already settled with other content",
                       {"bill_no": "already settled with other content"})
    return Result(row.id, True)


def _tenders_at(db, plugins, outlet, tenders) -> list[ChosenTender]:
    """Each line with its tender, which must be provided by a plugin and switched on at the outlet."""
    chosen = []
    for position, tender in enumerate(tenders):
        state = plugins.switches.require(db, "tender", tender.kind, outlet.id, field=f"tenders[{position}]",
                                         outlet_code=outlet.code)
        chosen.append(ChosenTender(TenderLine(tender.kind, tender.amount_cents, position, tender.uses,
                                              tender.reference),
                                   plugins.component("tender", tender.kind).obj, state.settings))
    return chosen


def _check_tenders(chosen, charged, context):
    """An account tender at most once, the lines adding up to the bill, and each line as its tender
    checks it; all before anything is posted."""
    seen = set()
    for c in chosen:
        if c.tender.moves_card_account:
            if c.line.kind in seen:
                raise Unprocessable(f"{c.line.kind} is given twice",
                                    {c.line.field: f"{c.line.kind} is given twice: a tender that takes from an "
                                                   "account of the card or member may appear once"})
            seen.add(c.line.kind)
    paid = sum(c.line.amount_cents for c in chosen)
    if paid != charged:
        raise Unprocessable(
            f"the tenders add up to {format_cents(paid)}, but the bill is {format_cents(charged)} after discount",
            {"tenders": f"must add up to {format_cents(charged)}"})
    with _refusals():
        for c in chosen:
            c.tender.validate(c.line, replace(context, settings=c.settings))


@contextmanager
def _refusals():
    """A tender plugin's refusal, answered 422 beside the field it names."""
    try:
        yield
    except TenderRefused as exc:
        raise Unprocessable(exc.message, {exc.field: exc.reason}) from None


def _tender_row(settlement_id, line, taken) -> dict:
    return {"settlement_id": settlement_id, "position": line.position, "kind": line.kind,
            "amount_cents": line.amount_cents, "uses": line.uses, "principal_cents": taken.principal_cents,
            "bonus_cents": taken.bonus_cents, "entry_id": taken.entry_id, "bonus_entry_id": taken.bonus_entry_id,
            "reference": taken.reference, "details": taken.details or None}


def _give_back(plugins, context, row, share, earlier, key, *, whole_bill) -> dict:
    """Send `share` cents of a settlement's tender back through the tender that took it; `earlier`
    cents went back before. Its plugin must still be installed (switched off is fine: a refund
    undoes what was taken when it was on)."""
    component = plugins.component("tender", row.kind)
    if component is None:
        raise Conflict(f"no plugin provides the tender {row.kind!r} any more, so it cannot be refunded",
                       {f"tenders[{row.position}]": "this tender is no longer installed"})
    settings = plugins.switches.state(context.db, "tender", row.kind, context.outlet_id).settings
    settled = SettledTender(row.settlement_id, row.position, row.kind, row.amount_cents, row.uses, row.reference,
                            row.entry_id, row.bonus_entry_id, row.principal_cents, row.bonus_cents,
                            row.details or {})
    returned = component.obj.give_back(settled, share, earlier, replace(context, settings=settings, business_key=key),
                                       whole_bill=whole_bill)
    return {"position": row.position, "kind": row.kind, "amount_cents": share, "to": row.kind, **returned}


def _split(amount, remaining) -> list[int]:
    """`amount` shared over tenders in proportion to what is left of each; the cents that floor
    division leaves go to the first tenders with room, so the shares add up to `amount`."""
    left = sum(remaining)
    shares = [amount * r // left if left else 0 for r in remaining]
    rest = amount - sum(shares)
    for index, room in enumerate(remaining):
        extra = min(rest, room - shares[index])
        shares[index] += extra
        rest -= extra
    return shares


def _earning_lines(lines, charged, basis) -> tuple[BillLine, ...]:
    """The lines as they earn: each line's charged amount scaled to the earning basis."""
    if not any(line["sku"] or line["category"] for line in lines):
        return ()
    scaled = _split(basis, [line["charged_cents"] for line in lines]) if charged else [0] * len(lines)
    return tuple(BillLine(line["sku"], line["category"], line["qty"], amount) for line, amount in zip(lines, scaled))


def _balances(db, card, card_type, points_balance=None) -> dict:
    """The card's balances after the settlement, with the member's points: `points_balance` when
    the settlement's own earning gave it, else read."""
    balances = card_balances(db, card, card_type)
    if points_balance is not None:
        balances["points"] = points_balance
    elif card.member_id is not None:
        balances["points"] = db.scalar(select(Account.balance).where(Account.member_id == card.member_id,
                                                                     Account.kind == POINTS))
    else:
        balances["points"] = None
    return balances


def _line_json(line) -> dict:
    return {"sku": line["sku"], "category": line["category"], "qty": str(line["qty"]),
            "amount": format_cents(line["amount_cents"]), "discount_rate": str(line["rate"].normalize()),
            "discount": format_cents(line["discount_cents"]), "charged": format_cents(line["charged_cents"])}
