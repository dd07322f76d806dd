"""Tenders: the ways a settled bill is paid (stored value, credit, uses, cash, bank card, voucher,
points, or a plugin's own such as a hotel folio). Switched on per outlet.

A tender validates its line before anything is posted, takes it inside the settlement's one
transaction (so a failure anywhere posts nothing), and gives its share back on a refund. The
cashier knows no tender by name: it asks the tender whether the money it covers earns points, and
whether it takes from an account of the card or member (then it may appear once per bill)."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zope.interface import Attribute, Interface


class TenderRefused(Exception):
    """A tender line that cannot be taken: answered 422 with `message`, and `reason` (default: the
    message) beside `field` (e.g. "tenders[1].reference")."""

    def __init__(self, message, field, reason=None):
        super().__init__(message)
        self.message, self.field, self.reason = message, field, reason or message


@dataclass(frozen=True)
class TenderLine:
    """One tender of a settlement as the cashier entered it; `position` is its index in the bill's
    tenders, so `field` names it the way the API's errors do."""

    kind: str
    amount_cents: int
    position: int
    uses: int | None = None
    reference: str | None = None

    @property
    def field(self) -> str:
        return f"tenders[{self.position}]"


@dataclass(frozen=True)
class TenderContext:
    """What a tender sees of the settlement it pays or refunds.

    `card` and `card_type` are the card and its product (read them, do not change them); `settings`
    are the tender's per-outlet settings in force (an instance of its settings_schema, or None);
    `lines` are all the bill's tender lines, for checks across lines (one voucher named twice);
    `business_key` and `fingerprint` make any ledger entry the tender posts idempotent (add a suffix
    of your own for a second entry); `hook` is the plugin manager's hook relay, to raise events such
    as lps_on_credit_warning. `settlement_id` is set when taking and giving back, not when validating.
    A tender never sees the card's PIN: LPS checks it once per bill when a tender `needs_pin`."""

    db: Any
    outlet_id: int
    outlet_code: str
    card: Any
    card_type: Any
    occurred_at: datetime
    settings: Any = None
    settlement_id: int | None = None
    business_key: str | None = None
    fingerprint: str | None = None
    lines: tuple = ()
    hook: Any = None


@dataclass
class TakenTender:
    """What taking a tender did, recorded on the settlement's tender row and handed back on a refund
    (as a SettledTender). `not_earning_cents` is the part of the amount that earns no points although
    the tender earns (stored value's bonus part); `details` is any JSON a tender keeps for its refund."""

    entry_id: int | None = None
    bonus_entry_id: int | None = None
    principal_cents: int | None = None
    bonus_cents: int | None = None
    reference: str | None = None
    not_earning_cents: int = 0
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SettledTender:
    """A tender as a settlement recorded it: the line and what taking it returned."""

    settlement_id: int
    position: int
    kind: str
    amount_cents: int
    uses: int | None
    reference: str | None
    entry_id: int | None
    bonus_entry_id: int | None
    principal_cents: int | None
    bonus_cents: int | None
    details: dict

    @property
    def field(self) -> str:
        return f"tenders[{self.position}]"


class ITender(Interface):
    name = Attribute("The tender's kind as the API names it, e.g. 'stored_value' (letters, digits, _ and -; "
                     "at most 64)")
    label = Attribute("A short name for staff screens: a str or a pyramid TranslationString")
    settings_schema = Attribute("A contract.OutletSettings subclass of its per-outlet settings, or None")
    moves_card_account = Attribute("True when it takes from an account LPS keeps for the card or its member "
                                   "(stored value, credit, uses, points): then it may appear at most once per bill")
    needs_pin = Attribute("True when the card's PIN must be given (if the card has one) to take it")

    def earns_points(settings):
        """True when the money this tender covers earns points, with the settings in force."""

    def validate(line, context):
        """Check a TenderLine before anything is posted; raise TenderRefused naming the field."""

    def take(line, context):
        """Take the line inside the settlement's transaction; return a TakenTender. Raise
        TenderRefused when it cannot be taken after all: the whole settlement rolls back."""

    def give_back(tender, share_cents, earlier_cents, context, *, whole_bill):
        """Return `share_cents` of a SettledTender on a refund (`earlier_cents` went back before;
        `whole_bill` is true when this refund completes the settlement's) and return a JSON dict of
        what went back, recorded on the refund: keys ending in `_cents` are shown as money without
        the suffix, other keys as they are. The share can be 0 (a uses tender that paid nothing)."""
