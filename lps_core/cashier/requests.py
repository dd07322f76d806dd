"""What the cashier's services take: a settlement, a refund and value put on a card, already
checked. lps_core.cashier.schemas validates the API's and the desk's input and builds these."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Item:
    sku: str | None
    category: str | None
    qty: Decimal
    amount_cents: int  # the line's total before discount


@dataclass(frozen=True)
class Tender:
    kind: str
    amount_cents: int
    uses: int | None = None
    reference: str | None = None


@dataclass(frozen=True)
class SettleRequest:
    card_no: str
    bill_no: str
    items: tuple[Item, ...]
    tenders: tuple[Tender, ...]
    pin: str | None
    occurred_at: datetime | None
    operator: str | None

    def content(self):
        """What makes two requests the same settlement (the PIN is not part of it)."""
        return {
            "card_no": self.card_no,
            "items": [[i.sku, i.category, str(i.qty), i.amount_cents] for i in self.items],
            "tenders": [[t.kind, t.amount_cents, t.uses, t.reference] for t in self.tenders],
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
        }


@dataclass(frozen=True)
class RefundRequest:
    refund_no: str
    amount_cents: int | None
    reason: str | None
    operator: str | None


@dataclass(frozen=True)
class MovementRequest:
    """A deposit, a top-up of uses or a credit repayment at the till."""

    reference_no: str
    amount_cents: int
    uses: int | None
    tender: str
    reference: str | None
    occurred_at: datetime | None
