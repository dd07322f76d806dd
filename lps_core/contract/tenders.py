"""Tenders: the ways a settled bill is paid (stored value, credit, uses, cash, bank card, voucher,
points, or a plugin's own such as a hotel folio). Switched on per outlet.

A tender validates its line before anything is posted, takes it inside the settlement's one
transaction (so a failure anywhere posts nothing), and gives its share back on a refund."""
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zope.interface import Attribute, Interface


class TenderRefused(Exception):
    """A tender line that cannot be taken: answered 422 naming `field` (e.g. "tenders[1].reference")."""

    def __init__(self, message, field):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class TenderLine:
    """One tender of a settlement as the cashier entered it."""

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
    """What a tender sees of the settlement it pays. `card` and `card_type` are read-only views of
    the card and its product; `settings` are the tender's settings in force at the outlet;
    `business_key` and `fingerprint` make any ledger entry it posts idempotent."""

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
    pin: str | None = None


@dataclass
class TakenTender:
    """What taking a tender did, recorded on the settlement's tender row and handed back on a refund.
    `not_earning_cents` is the part of the amount that earns no points."""

    entry_id: int | None = None
    bonus_entry_id: int | None = None
    principal_cents: int | None = None
    bonus_cents: int | None = None
    reference: str | None = None
    not_earning_cents: int = 0
    details: dict = field(default_factory=dict)


class ITender(Interface):
    name = Attribute("The tender's kind as the API names it, e.g. 'stored_value'")
    label = Attribute("A short name for staff screens")
    settings_schema = Attribute("A contract.OutletSettings subclass of its per-outlet settings, or None")
    moves_card_account = Attribute("True when it takes from an account of the card (then at most once per bill, "
                                   "and a card PIN may be asked)")

    def earns_points(settings):
        """True when the money this tender covers earns points, with the settings in force."""

    def validate(line, context):
        """Check a TenderLine before anything is posted; raise TenderRefused naming the field."""

    def take(line, context):
        """Take the line inside the settlement's transaction; return a TakenTender."""

    def give_back(tender, share_cents, earlier_cents, context, *, whole_bill):
        """Return `share_cents` of a taken tender (the settlement's tender row, with the TakenTender's
        fields) on a refund, `earlier_cents` having gone back before; return a dict describing what
        went back, recorded on the refund."""
