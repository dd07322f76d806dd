"""Input schemas of the cashier: the look-up, a settlement, its refund, and value put on a card
(deposit, top-up of uses, credit repayment). The API and the desk's cashier screen validate with
these same models, and the OpenAPI document is generated from them.

What JSON Schema can state is stated in the document and refused with 400: a tender's kind shaped
as a code, a money tender's amount above 0, `uses` on a uses tender only, `amount` when a bill has
no items, a `refund_no` with a partial refund. What it cannot state is refused with 422 naming the
field: a mistyped check digit, an `amount` that differs from the sum of the items, and a look-up
that names not exactly one of card_no, phone or name. Tender kinds are plugins (lps_core.builtin.tenders
and any third party's), so the kind is an open string here: the cashier refuses a kind no plugin
provides, or one switched off at the outlet, and an account tender given twice, with 422.
"""
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from lps_core.cards.funds import DEPOSIT_TENDERS
from lps_core.cards.schemas import CardNo, Pin, card_no_named
from lps_core.cashier.requests import (
    Item,
    MovementRequest,
    RefundRequest,
    SettleRequest,
    Tender,
)
from lps_core.validation import (
    Body,
    Code,
    Field,
    Id,
    Int,
    LenientQuery,
    Money,
    MoneyOrZero,
    PostingTime,
    Quantity,
    Query,
    Text,
    invalid,
    unprocessable,
    unusable,
)

MAX_ITEMS = 500
MAX_TENDERS = 10
MAX_USES_PER_TENDER = 1000
MAX_USES_PER_TOP_UP = 10_000



def _at_least_two(value: str) -> str:
    if len(value) < 2:
        raise invalid("must have at least 2 characters")
    return value


NameSearch = Annotated[Text(200), AfterValidator(_at_least_two), WithJsonSchema({
    "type": "string", "minLength": 2, "maxLength": 200, "pattern": r"^\s*[^\x00\s][^\x00]*[^\x00\s]\s*$",
    "description": "Any part of the member's name, at least 2 characters"})]
TenderKind = Code(64, description="A tender's name: stored_value, credit, uses, cash, bank_card, voucher, "
                                   "other, points, or a plugin's own; it must be on at the outlet (422 otherwise)")
DepositTender = Literal[DEPOSIT_TENDERS]
Reference = Text(64, description="A slip or transaction number of the till")


# -- look-up ------------------------------------------------------------------------------------

class LookupQuery(LenientQuery):
    """Exactly one of card_no, phone or name (OpenAPI cannot say "exactly one": 422 otherwise)."""

    card_no: CardNo | None = None
    phone: Text(32, description="In E.164 or as dialled in the programme's region") | None = None
    name: NameSearch | None = None

    @model_validator(mode="after")
    def _exactly_one(self):
        card_no_named(self.card_no)
        if sum(value is not None for value in (self.card_no, self.phone, self.name)) != 1:
            raise unprocessable("card_no", "give exactly one of card_no, phone or name")
        return self


# -- settlement ---------------------------------------------------------------------------------

class ItemIn(Body):
    sku: Text(64) | None = None
    category: Text(64, description="Decides the card type's discount override") | None = None
    qty: Quantity = Decimal(1)
    amount: MoneyOrZero = Field(description="The line's total before discount")

    def item(self) -> Item:
        return Item(self.sku, self.category, Decimal(self.qty), self.amount)


class TenderIn(Body):
    """One way the discounted bill is paid. A uses tender may pay 0.00 (the uses were prepaid)."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"kind": {"const": "uses"}}},
        "else": {"properties": {"uses": {"type": "null"}}}})

    kind: TenderKind
    amount: MoneyOrZero = Field(description="The part of the discounted bill this tender pays; above 0 "
                                            "except for a uses tender")
    uses: Int(1, MAX_USES_PER_TENDER, description="uses tenders only; default 1") | None = None
    reference: Reference | None = None

    @field_validator("amount")
    @classmethod
    def _money_tenders_pay_something(cls, amount, info: ValidationInfo):
        if amount == 0 and info.data.get("kind", "uses") != "uses":
            raise unusable("must be greater than 0")
        return amount

    @field_validator("uses")
    @classmethod
    def _uses_only_on_a_uses_tender(cls, uses, info: ValidationInfo):
        if uses is not None and info.data.get("kind", "uses") != "uses":
            raise invalid("applies only to a uses tender")
        return uses

    def tender(self) -> Tender:
        uses = (self.uses or 1) if self.kind == "uses" else None
        return Tender(self.kind, self.amount, uses, self.reference)


class SettleIn(Body):
    """A bill paid with a card: its items (or one amount), the tenders and the PIN. Idempotent on
    (outlet, bill_no)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["items"], "properties": {"items": {"type": "array"}}},
        {"required": ["amount"], "properties": {"amount": {"type": "string"}}}]})

    card_no: CardNo
    bill_no: Text(64)
    items: list[ItemIn] | None = Field(None, min_length=1, max_length=MAX_ITEMS)
    amount: Money | None = Field(None, validate_default=True,
                                 description="The bill before discount; required when it has no items, and "
                                             "then it is one line without a category")
    tenders: list[TenderIn] = Field(min_length=1, max_length=MAX_TENDERS)
    pin: Pin | None = Field(None, description="Needed when the card has a PIN and a tender asks for it "
                                              "(stored_value, credit)")
    occurred_at: PostingTime | None = None
    operator: Text(64) | None = None

    @field_validator("amount")
    @classmethod
    def _amount_without_items(cls, amount, info: ValidationInfo):
        if amount is None and "items" in info.data and info.data["items"] is None:
            raise invalid("is required when the bill has no items")
        return amount

    @model_validator(mode="after")
    def _consistent(self):
        card_no_named(self.card_no)
        if self.items is not None and self.amount is not None and self.amount != sum(i.amount for i in self.items):
            raise unprocessable("amount", "differs from the sum of the items; send one or the other")
        return self

    def settle_request(self) -> SettleRequest:
        items = tuple(item.item() for item in self.items) if self.items is not None \
            else (Item(None, None, Decimal(1), self.amount),)
        return SettleRequest(card_no_named(self.card_no), self.bill_no, items, tuple(t.tender() for t in self.tenders), self.pin,
                             self.occurred_at, self.operator)


class RefundIn(Body):
    """Without `amount`, what is left is refunded (its refund_no is "full"); a partial refund needs a
    refund_no, so that retrying it is safe."""

    model_config = ConfigDict(json_schema_extra={
        "if": {"required": ["amount"], "properties": {"amount": {"type": "string"}}},
        "then": {"required": ["refund_no"], "properties": {"refund_no": {"type": "string"}}}})

    amount: Money | None = None
    refund_no: Text(64) | None = Field(None, validate_default=True)
    reason: Text(200) | None = None
    operator: Text(64) | None = None

    @field_validator("refund_no")
    @classmethod
    def _partial_refunds_are_numbered(cls, refund_no, info: ValidationInfo):
        if refund_no is None and info.data.get("amount") is not None:
            raise invalid("is required for a partial refund, so that retrying it is safe")
        return refund_no

    def refund_request(self) -> RefundRequest:
        return RefundRequest(self.refund_no or "full", self.amount, self.reason, self.operator)


class SettlementPath(Query):
    id: Id


# -- value put on a card ------------------------------------------------------------------------

TillNumber = Text(64, description="The till's own number: the same number again replays, with other content "
                                  "it is a 409")


class DepositIn(Body):
    """Money put on a stored-value card; the card type's deposit bonus is added as bonus value."""

    deposit_no: TillNumber
    amount: Money
    tender: DepositTender
    reference: Reference | None = None
    occurred_at: PostingTime | None = None

    def movement(self) -> MovementRequest:
        return MovementRequest(self.deposit_no, self.amount, None, self.tender, self.reference, self.occurred_at)


class UsesTopUpIn(Body):
    """Uses added to a count card; `amount` is the price paid, recorded with the top-up."""

    topup_no: TillNumber
    uses: Int(1, MAX_USES_PER_TOP_UP)
    amount: MoneyOrZero = Field(0, description="The price paid; 0.00 when nothing was paid")
    tender: DepositTender
    occurred_at: PostingTime | None = None

    def movement(self) -> MovementRequest:
        return MovementRequest(self.topup_no, self.amount, self.uses, self.tender, None, self.occurred_at)


class CreditRepaymentIn(Body):
    """What the card owes on its credit line, paid back; never more than is owed (409)."""

    repayment_no: TillNumber
    amount: Money
    tender: DepositTender
    occurred_at: PostingTime | None = None

    def movement(self) -> MovementRequest:
        return MovementRequest(self.repayment_no, self.amount, None, self.tender, None, self.occurred_at)
