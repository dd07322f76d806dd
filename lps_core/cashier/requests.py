"""Reading the cashier's API bodies into checked values; every bad field is named at once."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lps_core.cards.funds import DEPOSIT_TENDERS
from lps_core.cashier.models import TENDER_KINDS
from lps_core.earning.services import FUTURE_TOLERANCE
from lps_core.errors import ValidationFailed
from lps_core.money import parse_amount
from lps_core.timeutil import parse_timestamp, utcnow

MAX_ITEMS = 500
MAX_TENDERS = 10
MAX_QTY = Decimal("100000")


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


class Fields:
    """Collects the errors of one body, then raises them all together."""

    def __init__(self, data, known):
        if not isinstance(data, dict):
            raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"})
        self.data = data
        self.errors = {name: "is not a known field" for name in sorted(set(data) - set(known))}

    def get(self, name, parse, *, required=False, default=None):
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = "is required"
            return default
        try:
            return parse(value)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return default

    def done(self, message):
        if self.errors:
            raise ValidationFailed(message, self.errors)


def text(max_length):
    def parse(value):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be text")
        if len(value.strip()) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value.strip()
    return parse


def count(maximum):
    def parse(value):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise ValueError(f"must be a whole number from 1 to {maximum}")
        return value
    return parse


def past_timestamp(value) -> datetime:
    """A time the till sends for when something happened: never later than a clock skew from now."""
    parsed = parse_timestamp(value)
    if parsed > utcnow() + FUTURE_TOLERANCE:
        raise ValueError("is in the future")
    return parsed


def clean_settle_request(data) -> SettleRequest:
    fields = Fields(data, ("card_no", "bill_no", "amount", "items", "tenders", "pin", "occurred_at", "operator"))
    card_no = fields.get("card_no", text(40), required=True)
    bill_no = fields.get("bill_no", text(64), required=True)
    if data.get("items") is None:  # a bill without lines: one line of the whole amount
        amount = fields.get("amount", parse_amount, required=True)
        items = (Item(None, None, Decimal(1), amount),) if amount else ()
    else:
        items = fields.get("items", _items, default=())
        amount = fields.get("amount", parse_amount)
        if items and amount is not None and amount != sum(i.amount_cents for i in items):
            fields.errors["amount"] = "differs from the sum of the items; send one or the other"
        elif items == () and "items" not in fields.errors:
            fields.errors["items"] = "must have at least one line"
    tenders = fields.get("tenders", lambda value: _tenders(value, fields.errors), required=True, default=())
    pin = fields.get("pin", _pin)
    occurred_at = fields.get("occurred_at", past_timestamp)
    operator = fields.get("operator", text(64))
    fields.done("the settlement has invalid fields")
    return SettleRequest(card_no, bill_no, items, tenders, pin, occurred_at, operator)


def clean_refund_request(data) -> RefundRequest:
    fields = Fields(data, ("refund_no", "amount", "reason", "operator"))
    amount = fields.get("amount", parse_amount)
    refund_no = fields.get("refund_no", text(64), required=amount is not None,
                           default=None if amount is not None else "full")
    reason = fields.get("reason", text(200))
    operator = fields.get("operator", text(64))
    if amount is not None and "refund_no" in fields.errors and data.get("refund_no") is None:
        fields.errors["refund_no"] = "is required for a partial refund, so that retrying it is safe"
    fields.done("the refund has invalid fields")
    return RefundRequest(refund_no, amount, reason, operator)


def clean_movement_request(data, *, number_field, uses=False) -> MovementRequest:
    known = (number_field, "amount", "tender", "reference", "occurred_at") + (("uses",) if uses else ())
    fields = Fields(data, known)
    reference_no = fields.get(number_field, text(64), required=True)
    amount = fields.get("amount", lambda v: parse_amount(v, allow_zero=uses), required=not uses, default=0)
    count_of_uses = fields.get("uses", count(10_000), required=True) if uses else None
    tender = fields.get("tender", _deposit_tender, required=True)
    reference = fields.get("reference", text(64))
    occurred_at = fields.get("occurred_at", past_timestamp)
    fields.done("the request has invalid fields")
    return MovementRequest(reference_no, amount, count_of_uses, tender, reference, occurred_at)


def _deposit_tender(value):
    if value not in DEPOSIT_TENDERS:
        raise ValueError(f"must be one of {', '.join(DEPOSIT_TENDERS)}")
    return value


def _pin(value):
    if not isinstance(value, str) or not value.isdigit() or not 4 <= len(value) <= 6:
        raise ValueError("must be 4 to 6 digits")
    return value


def _items(value) -> tuple[Item, ...]:
    if not isinstance(value, list):
        raise ValueError("must be a list of {sku, category, qty, amount}")
    if len(value) > MAX_ITEMS:
        raise ValueError(f"must have at most {MAX_ITEMS} lines")
    items = []
    for index, line in enumerate(value):
        if not isinstance(line, dict):
            raise ValueError(f"line {index + 1} must be an object")
        unknown = sorted(set(line) - {"sku", "category", "qty", "amount"})
        if unknown:
            raise ValueError(f"line {index + 1}: {unknown[0]} is not a known field")
        for name in ("sku", "category"):
            if line.get(name) is not None and (not isinstance(line[name], str) or len(line[name]) > 64):
                raise ValueError(f"line {index + 1}: {name} must be text of at most 64 characters")
        try:
            qty = Decimal(str(line.get("qty", 1)))
        except InvalidOperation:
            raise ValueError(f"line {index + 1}: qty must be a number") from None
        if isinstance(line.get("qty"), bool) or not qty.is_finite() or not 0 < qty <= MAX_QTY:
            raise ValueError(f"line {index + 1}: qty must be greater than 0")
        if line.get("amount") is None:
            raise ValueError(f"line {index + 1}: amount is required")
        try:
            amount = parse_amount(line["amount"], allow_zero=True)
        except ValueError as exc:
            raise ValueError(f"line {index + 1}: amount {exc}") from None
        items.append(Item(line.get("sku"), line.get("category"), qty, amount))
    return tuple(items)


def _tenders(value, errors) -> tuple[Tender, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of {kind, amount, uses, reference}")
    if len(value) > MAX_TENDERS:
        raise ValueError(f"must have at most {MAX_TENDERS} tenders")
    tenders = []
    for index, tender in enumerate(value):
        name = f"tenders[{index}]"
        if not isinstance(tender, dict):
            raise ValueError(f"{name} must be an object")
        unknown = sorted(set(tender) - {"kind", "amount", "uses", "reference"})
        if unknown:
            raise ValueError(f"{name}: {unknown[0]} is not a known field")
        kind = tender.get("kind")
        if kind not in TENDER_KINDS:
            raise ValueError(f"{name}: kind must be one of {', '.join(TENDER_KINDS)}")
        try:
            amount = parse_amount(tender.get("amount"), allow_zero=kind == "uses")
        except ValueError as exc:
            raise ValueError(f"{name}: amount {exc}") from None
        uses = tender.get("uses")
        if kind == "uses":
            uses = 1 if uses is None else uses
            if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= 1000:
                raise ValueError(f"{name}: uses must be a whole number from 1 to 1000")
        elif uses is not None:
            raise ValueError(f"{name}: uses applies only to a uses tender")
        reference = tender.get("reference")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 64):
            raise ValueError(f"{name}: reference must be text of at most 64 characters")
        tenders.append(Tender(kind, amount, uses, reference))
    kinds = [t.kind for t in tenders if t.kind in ("stored_value", "credit", "uses")]
    if len(kinds) != len(set(kinds)):
        raise ValueError("stored_value, credit and uses may each appear once")
    return tuple(tenders)
