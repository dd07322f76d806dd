"""Input schemas of earning: a bill posted by a till, its reversal, and a preview."""
from pydantic import model_validator

from lps_core.earning.formula import BillLine
from lps_core.earning.services import EarnRequest
from lps_core.validation import (
    Body,
    Field,
    Id,
    Money,
    MoneyOrZero,
    PostingTime,
    Quantity,
    Query,
    Text,
    unprocessable,
)

MAX_ITEMS = 500


class BillItemIn(Body):
    sku: Text(64)
    category: Text(64) | None = None
    qty: Quantity = 1
    amount: MoneyOrZero = Field(description="The line's total")

    def line(self) -> BillLine:
        return BillLine(self.sku, self.category or "", self.qty, self.amount)


class TransactionIn(Body):
    """A bill to earn points for. Idempotent on (outlet, bill_no)."""

    card_no: Text(40)
    bill_no: Text(64)
    amount: Money
    occurred_at: PostingTime | None = None
    items: list[BillItemIn] | None = Field(None, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def items_within_amount(self):
        if self.items and sum(item.amount for item in self.items) > self.amount:
            raise unprocessable("items", "add up to more than the bill amount")
        return self

    def earn_request(self) -> EarnRequest:
        return EarnRequest(self.card_no, self.bill_no, self.amount, self.occurred_at,
                           tuple(item.line() for item in self.items or ()))


class ReversalIn(Body):
    """Without `amount`, refunds what is left; a `refund_no` makes a partial refund safe to retry."""

    amount: Money | None = None
    refund_no: Text(64) | None = None


class TransactionPath(Query):
    id: Id
