"""Settling a bill with a member card, and refunding it.

A settlement is claimed by inserting its row with ON CONFLICT DO NOTHING on (outlet, bill no.), as
earning claims a bill, so a retried or doubled request settles once. Everything happens in the
request's one transaction: if any tender fails (too little stored value, a wrong PIN, no credit
left), nothing at all is posted.

The discount comes first: each line gets the better of the card type's rate (for the outlet and
the line's category) and the tier's rate. Points are then earned, by the outlet's earning rules,
on what was paid with money: the charged total less what uses and bonus value paid, and less what
vouchers paid unless lps.vouchers.earn_points is true.

A voucher tender names a voucher of lps_core.vouchers by its code in `reference`; it is checked
before anything is posted and spent (once, whatever races it) inside this same transaction.

A refund sends each tender's share back to where it came from, in proportion to what is still
unrefunded of each, and takes back the points (and bonus points of the bill) pro rata. A voucher
goes back (issued again) with the refund that returns the whole of its tender.
"""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from lps_core.cards.funds import card_balances, charge_credit, take_stored_value, take_uses
from lps_core.cards.models import Card, CardType
from lps_core.cards.pins import pin_needed, verify_pin
from lps_core.cards.products import discount_rate, ensure_usable
from lps_core.cards.services import normalize_card_no
from lps_core.cashier.models import Settlement, SettlementRefund, SettlementTender
from lps_core.cashier.requests import RefundRequest, SettleRequest
from lps_core.contract import BillLine
from lps_core.earning.services import EarnRequest, earn_points_for_bill, reverse_bill
from lps_core.errors import Conflict, NotFound, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, Account, LedgerEntry
from lps_core.money import format_cents
from lps_core.tiers.services import tier_held_at
from lps_core.timeutil import utcnow
from lps_core.vouchers.services import check_voucher_tender, redeem_voucher, reinstate_voucher, vouchers_earn_points

MONEY_FROM_CARD = ("stored_value", "credit")


def _claim_statement(dialect):
    table = Settlement.__table__
    return dialect.insert(table).on_conflict_do_nothing(index_elements=["outlet_id", "bill_no"]).returning(table.c.id)


CLAIM_SETTLEMENT = {"postgresql": _claim_statement(postgresql), "sqlite": _claim_statement(sqlite)}


@dataclass(frozen=True)
class Result:
    id: int
    replayed: bool


def card_for_use(db, raw_card_no, at, *, tz=None, field="card_no", purpose="settle") -> tuple[Card, CardType]:
    """The card row and its type, if the card may be used for `purpose` at `at`, by the one rule of
    lps_core.cards.products.ensure_usable: active, inside its validity, and its member (if it has
    one) active or dormant."""
    card_no = normalize_card_no(raw_card_no, field)
    card = db.scalars(select(Card).where(Card.card_no == card_no)).one_or_none()
    if card is None:
        raise Unprocessable(f"card {card_no} is not known", {field: "no such card"})
    ensure_usable(card, at, purpose, tz=tz, field=field)
    return card, card.card_type


def price_lines(card_type, tier, outlet_code, items) -> list[dict]:
    """Each line with its discount: the better of the card type's and the tier's rate."""
    tier_rate = Decimal(tier.discount_rate or 0) if tier is not None else Decimal(0)
    lines = []
    for item in items:
        rate = max(discount_rate(card_type, outlet_code, item.category), tier_rate)
        discount = int((Decimal(item.amount_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        lines.append({"sku": item.sku, "category": item.category, "qty": item.qty, "amount_cents": item.amount_cents,
                      "rate": rate, "discount_cents": discount, "charged_cents": item.amount_cents - discount})
    return lines


def settle_bill(db, plugins, programme, outlet, request: SettleRequest) -> Result:
    fingerprint = ledger.fingerprint_of(request.content())
    replay = _replay(db, outlet, request.bill_no, fingerprint)
    if replay:
        return replay
    occurred_at = request.occurred_at or utcnow()
    programme.limits.check_occurred_at(request.occurred_at)
    card, card_type = card_for_use(db, request.card_no, occurred_at, tz=programme.timezone)
    tier = card.member.tier if card.member is not None else None
    if card.member is not None and request.occurred_at is not None:
        changed, held = tier_held_at(db, card.member_id, occurred_at)
        tier = held if changed else tier
    lines = price_lines(card_type, tier, outlet.code, request.items)
    gross = sum(line["amount_cents"] for line in lines)
    programme.limits.check_bill_amount(gross, outlet.code, field="items")
    discount = sum(line["discount_cents"] for line in lines)
    charged = gross - discount
    _check_tenders(request.tenders, charged, card, card_type)
    vouchers = _check_vouchers(db, outlet, request.tenders, occurred_at)
    if any(t.kind in MONEY_FROM_CARD for t in request.tenders) and pin_needed(card, card_type):
        verify_pin(db, card, request.pin)

    settlement_id = db.scalar(CLAIM_SETTLEMENT[db.get_bind().dialect.name], {
        "outlet_id": outlet.id, "bill_no": request.bill_no, "card_id": card.id, "member_id": card.member_id,
        "gross_cents": gross, "discount_cents": discount, "charged_cents": charged, "earning_basis_cents": 0,
        "points": 0, "items": [_line_json(line) for line in lines], "balances": {}, "fingerprint": fingerprint,
        "operator": request.operator, "occurred_at": occurred_at, "created_at": utcnow(),
    })
    if settlement_id is None:  # another request settled this bill first
        return _replay(db, outlet, request.bill_no, fingerprint)

    rows, not_earning = [], 0
    vouchers_earn = vouchers_earn_points(programme.settings)
    for position, tender in enumerate(request.tenders):
        row = _take_tender(db, plugins, card, card_type, outlet, tender, position, settlement_id,
                           f"settle:{outlet.id}:{request.bill_no}:{position}", fingerprint, occurred_at)
        if position in vouchers:
            redeem_voucher(db, vouchers[position].id, settlement_id, f"tenders[{position}]")
            row["reference"] = vouchers[position].code
        rows.append(row)
        if tender.kind == "uses" or (tender.kind == "voucher" and not vouchers_earn):
            not_earning += tender.amount_cents
        else:
            not_earning += row.get("bonus_cents") or 0
    db.execute(SettlementTender.__table__.insert(), rows)

    basis = charged - not_earning
    points, bill_id = 0, None
    if card.member_id is not None and basis > 0:
        earned = earn_points_for_bill(db, plugins, programme, outlet, EarnRequest(
            card.card_no, request.bill_no, basis, occurred_at, _earning_lines(lines, charged, basis)))
        points, bill_id = earned.points, earned.id
    db.execute(update(Settlement).where(Settlement.id == settlement_id).values(
        earning_basis_cents=basis, points=points, bill_id=bill_id,
        balances=_balances(db, card, card_type)))
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
        if existing.fingerprint != fingerprint:
            raise Conflict(f"refund {request.refund_no!r} of settlement {settlement_id} was already made with "
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
    key = f"refund:{settlement.id}:{request.refund_no}"
    returned = [_return_tender(db, card, tender, share, earlier.get(tender.position, 0), key, fingerprint,
                               full=refunded + amount == settlement.charged_cents)
                for tender, share in zip(tenders, shares)]

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
        created_at=utcnow(),
    ).returning(SettlementRefund.id))
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
    if row.fingerprint != fingerprint:
        raise Conflict(f"bill {bill_no} of outlet {outlet.code} was already settled with other content",
                       {"bill_no": "already settled with other content"})
    return Result(row.id, True)


def _check_tenders(tenders, charged, card, card_type):
    paid = sum(t.amount_cents for t in tenders)
    if paid != charged:
        raise Unprocessable(
            f"the tenders add up to {format_cents(paid)}, but the bill is {format_cents(charged)} after discount",
            {"tenders": f"must add up to {format_cents(charged)}"})
    for index, tender in enumerate(tenders):
        field = f"tenders[{index}]"
        if tender.kind == "stored_value" and not card_type.stored_value:
            raise Unprocessable(f"card {card.card_no} holds no stored value", {field: "this card holds no stored value"})
        if tender.kind == "uses" and card_type.initial_uses is None:
            raise Unprocessable(f"card {card.card_no} is not a count card", {field: "this card has no uses"})


def _check_vouchers(db, outlet, tenders, at) -> dict:
    """The voucher of each voucher tender, by position, each checked (lps_core.vouchers.services);
    one voucher named by two tenders is refused."""
    vouchers = {}
    for position, tender in enumerate(tenders):
        if tender.kind == "voucher":
            voucher = check_voucher_tender(db, outlet.id, tender.reference, tender.amount_cents, at,
                                           f"tenders[{position}]")
            if any(other.id == voucher.id for other in vouchers.values()):
                raise Unprocessable(f"voucher {voucher.code} is named twice",
                                    {f"tenders[{position}].reference": "this voucher is already a tender of this bill"})
            vouchers[position] = voucher
    return vouchers


def _take_tender(db, plugins, card, card_type, outlet, tender, position, settlement_id, key, fingerprint,
                 occurred_at) -> dict:
    row = {"settlement_id": settlement_id, "position": position, "kind": tender.kind,
           "amount_cents": tender.amount_cents, "uses": tender.uses, "principal_cents": None, "bonus_cents": None,
           "entry_id": None, "bonus_entry_id": None, "reference": tender.reference}
    common = {"business_key": key, "fingerprint": fingerprint, "outlet_id": outlet.id, "occurred_at": occurred_at,
              "field": f"tenders[{position}]"}
    if tender.kind == "stored_value":
        taken = take_stored_value(db, card, tender.amount_cents, **common)
        row.update(principal_cents=taken.principal_cents, bonus_cents=taken.bonus_cents,
                   entry_id=taken.principal and taken.principal.entry_id, bonus_entry_id=taken.bonus and taken.bonus.entry_id)
    elif tender.kind == "credit":
        row["entry_id"] = charge_credit(db, plugins, card, card_type, tender.amount_cents, **common).entry_id
    elif tender.kind == "uses":
        row["entry_id"] = take_uses(db, card, card_type, tender.uses, outlet.code, **common).entry_id
    return row


def _return_tender(db, card, tender, share, earlier, key, fingerprint, *, full) -> dict:
    """Send `share` cents of a tender back where it came from; `earlier` cents went back before."""
    returned = {"position": tender.position, "kind": tender.kind, "amount_cents": share, "to": tender.kind}
    key = f"{key}:{tender.position}"
    if tender.kind == "stored_value" and share:
        bonus_back = _running_share(tender.bonus_cents, tender.amount_cents, earlier, share)
        principal_back = share - bonus_back
        for entry_id, amount, part in ((tender.entry_id, principal_back, "principal"),
                                       (tender.bonus_entry_id, bonus_back, "bonus")):
            if amount:
                ledger.reverse(db, entry_id, amount, business_key=f"{key}:{part}", fingerprint=fingerprint)
        returned.update(principal_cents=principal_back, bonus_cents=bonus_back)
    elif tender.kind == "credit" and share:
        # What was repaid since cannot be un-owed: that part goes back in cash instead.
        account_id = db.scalar(select(LedgerEntry.account_id).where(LedgerEntry.id == tender.entry_id))
        account = ledger.lock_account(db, account_id)
        to_credit = min(share, account.balance)
        if to_credit:
            ledger.reverse(db, tender.entry_id, to_credit, business_key=key, fingerprint=fingerprint)
        returned.update(to_credit_cents=to_credit, to_cash_cents=share - to_credit)
    elif tender.kind == "uses":
        if tender.amount_cents:
            uses_back = _running_share(tender.uses, tender.amount_cents, earlier, share)
        else:
            uses_back = tender.uses if full else 0
        if uses_back:
            ledger.reverse(db, tender.entry_id, uses_back, business_key=key, fingerprint=fingerprint)
        returned["uses"] = uses_back
    elif tender.kind == "voucher":
        whole_tender_back = share > 0 and earlier + share == tender.amount_cents
        returned["voucher_reinstated"] = whole_tender_back and reinstate_voucher(db, tender.settlement_id,
                                                                                 tender.reference)
    return returned


def _running_share(part_total, whole, earlier, share) -> int:
    """The part of `share` that belongs to a sub-total, on running totals, so partial refunds add
    up to the whole sub-total exactly when the whole tender has been refunded."""
    return part_total * (earlier + share) // whole - part_total * earlier // whole


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


def _balances(db, card, card_type) -> dict:
    balances = card_balances(db, card, card_type)
    if card.member_id is not None:
        balances["points"] = db.scalar(select(Account.balance).where(Account.member_id == card.member_id,
                                                                     Account.kind == POINTS))
    else:
        balances["points"] = None
    return balances


def _line_json(line) -> dict:
    return {"sku": line["sku"], "category": line["category"], "qty": str(line["qty"]),
            "amount": format_cents(line["amount_cents"]), "discount_rate": str(line["rate"].normalize()),
            "discount": format_cents(line["discount_cents"]), "charged": format_cents(line["charged_cents"])}
