"""What a card holds besides points: stored value (deposit and bonus value), uses of a service and
a credit line. Putting value on a card (deposit, top-up, repayment) and taking it as a tender.

Every movement is a ledger entry with a business key, so a retried deposit is posted once.
Stored value is two accounts: `stored_value` is the money the guest deposited, `bonus_value` what
a deposit promotion added. A payment takes from both in proportion to their balances, so the
share of bonus value spent is honest for finance and a refund can return each part to its account.
The credit account holds what the card owes: a charge adds to it, a repayment takes it down.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from lps_core.cards.models import Card, CardType
from lps_core.cards.products import ensure_usable
from lps_core.earning.limits import PostingLimits
from lps_core.errors import Conflict, InsufficientBalance, Unprocessable
from lps_core.ledger import services as ledger
from lps_core.ledger.models import CREDIT, STORED_VALUE, STORED_VALUE_BONUS, USES, Account, LedgerEntry
from lps_core.money import format_cents, parse_amount

DEPOSIT_TENDERS = ("cash", "bank_card", "transfer", "other")


@dataclass(frozen=True)
class StoredValueTaken:
    principal: ledger.Posting | None
    bonus: ledger.Posting | None

    @property
    def principal_cents(self):
        return -self.principal.amount if self.principal else 0

    @property
    def bonus_cents(self):
        return -self.bonus.amount if self.bonus else 0


@dataclass(frozen=True)
class CardMovement:
    """A deposit, a top-up of uses or a credit repayment, as posted (or replayed)."""

    kind: str
    card_no: str
    reference_no: str
    amount: int  # cents, or uses for a top-up
    bonus_cents: int
    balances: dict
    replayed: bool
    entry_id: int  # the ledger entry: its receipt is /cashier/receipts/card_movement/{entry_id}


def card_account(db, card_id, kind) -> int:
    return ledger.get_or_create_account(db, kind, card_id=card_id)


def card_balances(db, card: Card, card_type: CardType) -> dict:
    """The card's own balances in cents (uses as a count); None for what its type does not offer."""
    held = dict(db.execute(select(Account.kind, Account.balance).where(Account.card_id == card.id)).all())

    def balance(kind):
        return held.get(kind, 0)

    limit = credit_limit_of(card, card_type)
    owed = balance(CREDIT)
    return {
        "stored_value": balance(STORED_VALUE) if card_type.stored_value else None,
        "bonus_value": balance(STORED_VALUE_BONUS) if card_type.stored_value else None,
        "uses": balance(USES) if card_type.initial_uses is not None or balance(USES) else None,
        "credit_used": owed if limit is not None else None,
        "credit_limit": limit,
        "credit_left": max(limit - owed, 0) if limit is not None else None,
    }


def credit_limit_of(card: Card, card_type: CardType) -> int | None:
    return card.credit_limit_cents if card.credit_limit_cents is not None else card_type.credit_limit_cents


def deposit_bonus_for(card_type: CardType, amount_cents: int) -> int:
    """The bonus of the highest deposit step reached: "deposit 1000, receive 1100" is a step of
    {"min_deposit": "1000.00", "bonus": "100.00"}."""
    reached = [parse_amount(step["bonus"]) for step in card_type.deposit_bonuses or ()
               if parse_amount(step["min_deposit"]) <= amount_cents]
    return max(reached, default=0)


def deposit(db, card: Card, card_type: CardType, outlet, *, deposit_no, amount_cents, tender,
            occurred_at: datetime, reference=None, limits: PostingLimits | None = None) -> CardMovement:
    """Put money on a stored-value card, with the type's deposit bonus as bonus value. `occurred_at`
    may lie at most limits.max_backdate_days in the past (the built-in default without `limits`)."""
    (limits or PostingLimits()).check_occurred_at(occurred_at)
    ensure_usable(card, occurred_at, "deposit")
    if not card_type.stored_value:
        raise Unprocessable(f"card type {card_type.code} does not hold stored value",
                            {"card_no": "this card does not take deposits"})
    bonus = deposit_bonus_for(card_type, amount_cents)
    key = f"deposit:{outlet.id}:{deposit_no}"
    fingerprint = ledger.fingerprint_of({"card": card.id, "amount": amount_cents, "tender": tender,
                                         "reference": reference})
    note = f"deposit {deposit_no} ({tender})"
    posting = ledger.credit(db, card_account(db, card.id, STORED_VALUE), amount_cents, kind="deposit",
                            business_key=key, fingerprint=fingerprint, occurred_at=occurred_at,
                            outlet_id=outlet.id, note=note)
    if bonus and not posting.replayed:
        ledger.credit(db, card_account(db, card.id, STORED_VALUE_BONUS), bonus, kind="deposit_bonus",
                      business_key=f"{key}:bonus", fingerprint=fingerprint, occurred_at=occurred_at,
                      outlet_id=outlet.id, note=f"bonus for {note}")
    if posting.replayed:
        bonus = _amount_posted(db, f"{key}:bonus")
    return CardMovement("deposit", card.card_no, deposit_no, amount_cents, bonus,
                        card_balances(db, card, card_type), posting.replayed, posting.entry_id)


def top_up_uses(db, card: Card, card_type: CardType, outlet, *, topup_no, uses, price_cents, tender,
                occurred_at: datetime, limits: PostingLimits | None = None) -> CardMovement:
    """Add uses to a count card (the price paid is recorded in the entry's note, not as stored value)."""
    (limits or PostingLimits()).check_occurred_at(occurred_at)
    ensure_usable(card, occurred_at, "top_up")
    if card_type.initial_uses is None:
        raise Unprocessable(f"card type {card_type.code} is not a count card",
                            {"card_no": "this card has no uses to top up"})
    fingerprint = ledger.fingerprint_of({"card": card.id, "uses": uses, "price": price_cents, "tender": tender})
    posting = ledger.credit(db, card_account(db, card.id, USES), uses, kind="top_up",
                            business_key=f"top-up:{outlet.id}:{topup_no}", fingerprint=fingerprint,
                            occurred_at=occurred_at, outlet_id=outlet.id,
                            note=f"top-up {topup_no}: {uses} uses for {format_cents(price_cents)} ({tender})")
    return CardMovement("top_up", card.card_no, topup_no, uses, 0, card_balances(db, card, card_type),
                        posting.replayed, posting.entry_id)


def repay_credit(db, card: Card, card_type: CardType, outlet, *, repayment_no, amount_cents, tender,
                 occurred_at: datetime, limits: PostingLimits | None = None) -> CardMovement:
    """Pay back what the card owes on its credit line; never more than is owed."""
    (limits or PostingLimits()).check_occurred_at(occurred_at)
    ensure_usable(card, occurred_at, "repay")
    account_id = card_account(db, card.id, CREDIT)
    fingerprint = ledger.fingerprint_of({"card": card.id, "amount": amount_cents, "tender": tender})
    try:
        posting = ledger.debit(db, account_id, amount_cents, kind="repayment",
                               business_key=f"repayment:{outlet.id}:{repayment_no}", fingerprint=fingerprint,
                               occurred_at=occurred_at, outlet_id=outlet.id,
                               note=f"repayment {repayment_no} ({tender})")
    except InsufficientBalance:
        owed = ledger.balance_of(db, account_id)
        raise Conflict(f"the card owes {format_cents(owed)}, less than {format_cents(amount_cents)}",
                       {"amount": f"at most {format_cents(owed)} is owed"}) from None
    return CardMovement("repayment", card.card_no, repayment_no, amount_cents, 0,
                        card_balances(db, card, card_type), posting.replayed, posting.entry_id)


def take_stored_value(db, card: Card, amount_cents, *, business_key, fingerprint, outlet_id, occurred_at,
                      field="tenders") -> StoredValueTaken:
    """Pay from the card's deposit and bonus value, in proportion to their balances."""
    principal_id = card_account(db, card.id, STORED_VALUE)
    bonus_id = card_account(db, card.id, STORED_VALUE_BONUS)
    principal = ledger.lock_account(db, principal_id).balance
    bonus = ledger.lock_account(db, bonus_id).balance
    if principal + bonus < amount_cents:
        raise InsufficientBalance(
            f"the card holds {format_cents(principal + bonus)}, less than {format_cents(amount_cents)}",
            {field: f"only {format_cents(principal + bonus)} of stored value on the card"})
    from_bonus = amount_cents * bonus // (principal + bonus)
    from_principal = amount_cents - from_bonus
    taken = {}
    for name, account_id, amount in (("principal", principal_id, from_principal), ("bonus", bonus_id, from_bonus)):
        if amount:
            taken[name] = ledger.debit(db, account_id, amount, kind="payment", business_key=f"{business_key}:{name}",
                                       fingerprint=fingerprint, occurred_at=occurred_at, outlet_id=outlet_id)
    return StoredValueTaken(taken.get("principal"), taken.get("bonus"))


def charge_credit(db, hook, card: Card, card_type: CardType, amount_cents, *, business_key, fingerprint,
                  outlet_id, occurred_at, field="tenders") -> ledger.Posting:
    """Charge the card's credit line, within its limit; warn once usage crosses the type's threshold
    (lps_on_credit_warning, through `hook`, the plugin manager's hook relay)."""
    limit = credit_limit_of(card, card_type)
    if not limit:
        raise Unprocessable(f"card {card.card_no} has no credit line", {field: "this card has no credit line"})
    account_id = card_account(db, card.id, CREDIT)
    owed = ledger.lock_account(db, account_id).balance
    if owed + amount_cents > limit:
        raise InsufficientBalance(
            f"credit left on card {card.card_no} is {format_cents(limit - owed)}, less than {format_cents(amount_cents)}",
            {field: f"only {format_cents(limit - owed)} of credit left"})
    posting = ledger.credit(db, account_id, amount_cents, kind="charge", business_key=business_key,
                            fingerprint=fingerprint, occurred_at=occurred_at, outlet_id=outlet_id)
    threshold = Decimal(limit) * Decimal(card_type.credit_warning_ratio)
    if owed < threshold <= posting.balance_after:
        hook.lps_on_credit_warning(dbsession=db, card_id=card.id, member_id=card.member_id,
                                   used_cents=posting.balance_after, limit_cents=limit)
    return posting


def take_uses(db, card: Card, card_type: CardType, uses, outlet_code, *, business_key, fingerprint, outlet_id,
              occurred_at, field="tenders") -> ledger.Posting:
    """Take uses of a count card, at an outlet where its uses are valid."""
    if card_type.uses_outlets and outlet_code not in card_type.uses_outlets:
        raise Unprocessable(f"uses of {card_type.code} cards are not valid at {outlet_code}",
                            {field: f"uses are valid only at {', '.join(card_type.uses_outlets)}"})
    account_id = card_account(db, card.id, USES)
    try:
        return ledger.debit(db, account_id, uses, kind="use", business_key=business_key, fingerprint=fingerprint,
                            occurred_at=occurred_at, outlet_id=outlet_id)
    except InsufficientBalance:
        left = ledger.balance_of(db, account_id)
        raise InsufficientBalance(f"card {card.card_no} has {left} uses left, not {uses}",
                                  {field: f"only {left} uses left"}) from None


def _amount_posted(db, business_key) -> int:
    return db.scalar(select(LedgerEntry.amount).where(LedgerEntry.business_key == business_key)) or 0
