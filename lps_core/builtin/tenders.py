"""LPS's own tenders, provided through the hook `lps_tenders` exactly as a third party's are:
stored value, credit, uses, cash, bank card, voucher, other, and points as payment.

- `stored_value` takes from the card's deposit and bonus value in proportion to their balances
  (lps_core.cards.funds); the bonus part earns no points.
- `credit` charges the card's credit line; a refund un-owes what is still owed and sends the rest
  (what was repaid since) back as cash.
- `uses` takes uses of a count card; the money it covers earns no points.
- `cash`, `bank_card` and `other` are only recorded: the money is the till's.
- `voucher` spends a voucher of lps_core.vouchers named by its code in `reference`; whether it earns
  points is the setting lps.vouchers.earn_points.
- `points` pays with the member's points at a rate of points per 1.00 of money: the outlet's
  setting `points_per_currency_unit`, else lps.tenders.points_per_currency_unit (100 by default).
  The points are debited through the ledger, oldest-expiring lots first, rounded up to a whole
  point; a refund gives back its share of them, on running totals so that refunding the whole
  tender returns every point, to the lots they came from. What points pay earns no points.

There is no tender of bonus value alone. The funds model takes every stored-value payment from the
deposit and the bonus value in proportion to their balances, so that the share of bonus value spent
is honest for finance and a refund can return each part to its own account. A tender that spent
bonus value alone would let the till choose the order and undo that rule; stored_value already
covers bonus value, in its share, and keeps it out of the points.
"""
from pydantic import Field
from sqlalchemy import select
from zope.interface import implementer

from lps_core.cards.funds import charge_credit, credit_limit_of, take_stored_value, take_uses
from lps_core.contract import (
    ITender,
    OutletSettings,
    ProgrammeSettings,
    SettingsDeclaration,
    TakenTender,
    hookimpl,
)
from lps_core.errors import InsufficientBalance, Unprocessable
from lps_core.labels import LABELS, TENDER
from lps_core.ledger import services as ledger
from lps_core.ledger.models import POINTS, LedgerEntry
from lps_core.money import format_cents
from lps_core.validation import Int
from lps_core.vouchers.services import (
    check_voucher_tender,
    normalize_code,
    redeem_voucher,
    reinstate_voucher,
    vouchers_earn_points,
)

MAX_POINTS_PER_CURRENCY_UNIT = 1_000_000


class TenderOptions(ProgrammeSettings):
    """The ini keys lps.tenders.*: the programme's default rate of the points tender."""

    points_per_currency_unit: int = Field(100, ge=1, le=MAX_POINTS_PER_CURRENCY_UNIT)


class PointsTenderSettings(OutletSettings):
    points_per_currency_unit: Int(1, MAX_POINTS_PER_CURRENCY_UNIT, description=(
        "Points that pay 1.00 at this outlet; empty: lps.tenders.points_per_currency_unit")) | None = None


@hookimpl
def lps_settings():
    return SettingsDeclaration("lps.tenders.", TenderOptions)


@hookimpl
def lps_tenders(settings, options):
    options = options or TenderOptions()
    # In the order the cashier's screen offers them: the first is its default.
    return [RecordedTender("cash"), RecordedTender("bank_card"), StoredValueTender(), CreditTender(), UsesTender(),
            VoucherTender(vouchers_earn_points(settings)), RecordedTender("other"),
            PointsTender(options.points_per_currency_unit)]


def running_share(part_total, whole, earlier, share) -> int:
    """The part of `share` that belongs to a sub-total, on running totals, so partial refunds add
    up to the whole sub-total exactly when the whole tender has been refunded."""
    return part_total * (earlier + share) // whole - part_total * earlier // whole


@implementer(ITender)
class Tender:
    """What the built-in tenders share: no settings, earning, nothing to check or give back."""

    name = ""
    settings_schema = None
    moves_card_account = False
    needs_pin = False

    @property
    def label(self):
        return LABELS[TENDER].get(self.name, self.name)

    def earns_points(self, settings):
        return True

    def validate(self, line, context):
        pass

    def take(self, line, context):
        return TakenTender(reference=line.reference)

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        return {}


class RecordedTender(Tender):
    """Money the till takes itself (cash, bank card...): LPS records the line and its reference."""

    def __init__(self, name):
        self.name = name


class StoredValueTender(Tender):
    name = "stored_value"
    moves_card_account = True
    needs_pin = True

    def validate(self, line, context):
        if not context.card_type.stored_value:
            raise Unprocessable(f"card {context.card.card_no} holds no stored value",
                                {line.field: "this card holds no stored value"})

    def take(self, line, context):
        taken = take_stored_value(context.db, context.card, line.amount_cents, business_key=context.business_key,
                                  fingerprint=context.fingerprint, outlet_id=context.outlet_id,
                                  occurred_at=context.occurred_at, field=line.field)
        return TakenTender(entry_id=taken.principal and taken.principal.entry_id,
                           bonus_entry_id=taken.bonus and taken.bonus.entry_id, principal_cents=taken.principal_cents,
                           bonus_cents=taken.bonus_cents, reference=line.reference,
                           not_earning_cents=taken.bonus_cents)

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        if not share_cents:
            return {}
        bonus_back = running_share(tender.bonus_cents, tender.amount_cents, earlier_cents, share_cents)
        principal_back = share_cents - bonus_back
        for entry_id, amount, part in ((tender.entry_id, principal_back, "principal"),
                                       (tender.bonus_entry_id, bonus_back, "bonus")):
            if amount:
                ledger.reverse(context.db, entry_id, amount, business_key=f"{context.business_key}:{part}",
                               fingerprint=context.fingerprint)
        return {"principal_cents": principal_back, "bonus_cents": bonus_back}


class CreditTender(Tender):
    name = "credit"
    moves_card_account = True
    needs_pin = True

    def validate(self, line, context):
        if not credit_limit_of(context.card, context.card_type):
            raise Unprocessable(f"card {context.card.card_no} has no credit line",
                                {line.field: "this card has no credit line"})

    def take(self, line, context):
        posting = charge_credit(context.db, context.hook, context.card, context.card_type, line.amount_cents,
                                business_key=context.business_key, fingerprint=context.fingerprint,
                                outlet_id=context.outlet_id, occurred_at=context.occurred_at, field=line.field)
        return TakenTender(entry_id=posting.entry_id, reference=line.reference)

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        if not share_cents:
            return {}
        # What was repaid since cannot be un-owed: that part goes back in cash instead.
        account_id = context.db.scalar(select(LedgerEntry.account_id).where(LedgerEntry.id == tender.entry_id))
        to_credit = min(share_cents, ledger.lock_account(context.db, account_id).balance)
        if to_credit:
            ledger.reverse(context.db, tender.entry_id, to_credit, business_key=context.business_key,
                           fingerprint=context.fingerprint)
        return {"to_credit_cents": to_credit, "to_cash_cents": share_cents - to_credit}


class UsesTender(Tender):
    """Uses of a count card; the line may pay 0.00 when the uses were prepaid."""

    name = "uses"
    moves_card_account = True

    def earns_points(self, settings):
        return False

    def validate(self, line, context):
        if context.card_type.initial_uses is None:
            raise Unprocessable(f"card {context.card.card_no} is not a count card",
                                {line.field: "this card has no uses"})

    def take(self, line, context):
        posting = take_uses(context.db, context.card, context.card_type, line.uses, context.outlet_code,
                            business_key=context.business_key, fingerprint=context.fingerprint,
                            outlet_id=context.outlet_id, occurred_at=context.occurred_at, field=line.field)
        return TakenTender(entry_id=posting.entry_id, reference=line.reference)

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        if tender.amount_cents:
            uses_back = running_share(tender.uses, tender.amount_cents, earlier_cents, share_cents)
        else:
            uses_back = tender.uses if whole_bill else 0
        if uses_back:
            ledger.reverse(context.db, tender.entry_id, uses_back, business_key=context.business_key,
                           fingerprint=context.fingerprint)
        return {"uses": uses_back}


class VoucherTender(Tender):
    """A voucher named by its code in `reference`, spent whole by the settlement; it goes back
    (issued again) with the refund that returns the whole of its tender."""

    name = "voucher"

    def __init__(self, earn):
        self.earn = earn

    def earns_points(self, settings):
        return self.earn

    def validate(self, line, context):
        check_voucher_tender(context.db, context.outlet_id, line.reference, line.amount_cents, context.occurred_at,
                             line.field)
        code = normalize_code(line.reference)
        if any(other.kind == self.name and normalize_code(other.reference or "") == code
               for other in context.lines[:line.position]):
            raise Unprocessable(f"voucher {code} is named twice",
                                {f"{line.field}.reference": "this voucher is already a tender of this bill"})

    def take(self, line, context):
        voucher = check_voucher_tender(context.db, context.outlet_id, line.reference, line.amount_cents,
                                       context.occurred_at, line.field)
        redeem_voucher(context.db, voucher.id, context.settlement_id, line.field)
        return TakenTender(reference=voucher.code)

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        whole_tender_back = share_cents > 0 and earlier_cents + share_cents == tender.amount_cents
        return {"voucher_reinstated": whole_tender_back and reinstate_voucher(context.db, tender.settlement_id,
                                                                              tender.reference)}


class PointsTender(Tender):
    """The member's points as payment, at the outlet's rate (points per 1.00)."""

    name = "points"
    settings_schema = PointsTenderSettings
    moves_card_account = True

    def __init__(self, default_rate):
        self.default_rate = default_rate

    def rate(self, settings) -> int:
        return (settings.points_per_currency_unit if settings is not None else None) or self.default_rate

    def points_for(self, amount_cents, settings) -> int:
        """The points that pay `amount_cents`, rounded up: the member never pays less than the rate."""
        return -(-amount_cents * self.rate(settings) // 100)

    def earns_points(self, settings):
        return False

    def validate(self, line, context):
        if context.card.member_id is None:
            raise Unprocessable(f"card {context.card.card_no} has no member, so no points to pay with",
                                {line.field: "this card has no member's points"})

    def take(self, line, context):
        points = self.points_for(line.amount_cents, context.settings)
        rate = self.rate(context.settings)
        account_id = ledger.get_or_create_account(context.db, POINTS, member_id=context.card.member_id)
        try:
            posting = ledger.debit(context.db, account_id, points, kind="payment", business_key=context.business_key,
                                   fingerprint=context.fingerprint, occurred_at=context.occurred_at,
                                   outlet_id=context.outlet_id,
                                   note=f"{format_cents(line.amount_cents)} paid at {rate} points per 1.00")
        except InsufficientBalance as exc:
            available = exc.fields.get("amount", "").removeprefix("only ").removesuffix(" available") or "0"
            raise InsufficientBalance(
                f"{format_cents(line.amount_cents)} costs {points} points; the member has {available}",
                {line.field: f"needs {points} points, the member has {available}"}) from None
        return TakenTender(entry_id=posting.entry_id, reference=line.reference,
                           details={"points": points, "points_per_currency_unit": rate})

    def give_back(self, tender, share_cents, earlier_cents, context, *, whole_bill):
        points_back = running_share(tender.details["points"], tender.amount_cents, earlier_cents, share_cents)
        if points_back:
            ledger.reverse(context.db, tender.entry_id, points_back, business_key=context.business_key,
                           fingerprint=context.fingerprint)
        return {"points": points_back}
