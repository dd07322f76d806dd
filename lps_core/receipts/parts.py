"""A document (lps_core.receipts.documents) as the parts of its receipt: a title, the reference rows
(number, time, member, card), sections of label/value rows and a closing line. The HTML receipt
(receipt_document_*.pt) and the thermal one (thermal.document_lines) both print these parts, so
the two always say the same thing in the same order.

Labels are translated here, in the domain lps_receipts, by the `translate` the view passes in (the
language of whoever prints); the values are the document's. Everything is plain text: the
templates print it with ${...}, which escapes it."""
from dataclasses import dataclass, field

from lps_core.receipts.services import local_time, mask_card_no
from lps_core.receipts.thermal import BALANCE_LABELS, TENDER_LABELS

TITLES = {"bill": "Bill", "deposit": "Deposit", "top_up": "Top-up of uses", "repayment": "Credit repayment",
          "redemption": "Redemption", "settlement_refund": "Refund", "bill_refund": "Refund"}
STATUS_LABELS = {"collected": "Collected", "awaiting_pickup": "Awaiting pick-up", "cancelled": "Cancelled"}
DEPOSIT_TENDERS = {"transfer": "Bank transfer"}


def dgettext(domain, msgid):
    """Marks a label for the catalog of `domain`: lps_core.catalogs finds the labels by these calls
    (the settlement receipt's labels are found in its templates). It is translated when printed."""
    return msgid


# The labels only these receipts use, for the catalog lps_receipts (zh_CN: docs/translating.md).
MESSAGES = (
    dgettext("lps_receipts", "Bill"),
    dgettext("lps_receipts", "Deposit"),
    dgettext("lps_receipts", "Top-up of uses"),
    dgettext("lps_receipts", "Credit repayment"),
    dgettext("lps_receipts", "Redemption"),
    dgettext("lps_receipts", "Refund"),
    dgettext("lps_receipts", "Collected"),
    dgettext("lps_receipts", "Awaiting pick-up"),
    dgettext("lps_receipts", "Cancelled"),
    dgettext("lps_receipts", "Bank transfer"),
    dgettext("lps_receipts", "Redemption no."),
    dgettext("lps_receipts", "No."),
    dgettext("lps_receipts", "Balances after"),
    dgettext("lps_receipts", "Points earned"),
    dgettext("lps_receipts", "Amount"),
    dgettext("lps_receipts", "Uses added"),
    dgettext("lps_receipts", "Price"),
    dgettext("lps_receipts", "Repaid"),
    dgettext("lps_receipts", "Bonus value granted"),
    dgettext("lps_receipts", "Reward"),
    dgettext("lps_receipts", "Quantity"),
    dgettext("lps_receipts", "Status"),
    dgettext("lps_receipts", "Voucher valid until"),
    dgettext("lps_receipts", "Please collect the reward at the outlet, with this receipt."),
    dgettext("lps_receipts", "Returned to"),
    dgettext("lps_receipts", "Points taken back"),
    dgettext("lps_receipts", "Refunded"),
)


@dataclass
class Section:
    caption: str | None
    rows: list = field(default_factory=list)  # (label, value)


@dataclass
class Parts:
    title: str
    reference: list  # (label, value): number, time, cashier, member, card
    sections: list  # Section
    total: tuple | None = None  # (label, value), printed large
    note: str | None = None


def translator(translate):
    """t(msgid, **mapping): the label in the printer's language (English without `translate`)."""
    def t(msgid, **mapping):
        text = msgid if translate is None else translate(msgid, domain="lps_receipts", mapping=mapping or None,
                                                         default=msgid)
        for name, value in mapping.items():
            text = text.replace("${" + name + "}", str(value))
        return text
    return t


def _tender(t, kind):
    labels = {**TENDER_LABELS, **DEPOSIT_TENDERS}
    return t(labels[kind]) if kind in labels else (kind or "")


def _balances(t, balances, show) -> list[Section]:
    rows = [(t(BALANCE_LABELS.get(kind, kind)), str(value)) for kind, value in (balances or {}).items()
            if value is not None]
    return [Section(t("Balances after"), rows)] if rows and show("balances") else []


def document_parts(doc, *, time_zone, translate=None, fields=None) -> Parts:
    """The receipt's parts for `doc`; `fields` are the layout's parts shown (member, card, balances...)."""
    t = translator(translate)
    show = (set(fields) if fields is not None else {"member", "card", "points", "balances", "tenders"}).__contains__
    kind = doc["kind"]
    title = t(TITLES[doc.get("movement", kind)])
    number_label = {"bill": t("Bill no."), "redemption": t("Redemption no.")}.get(kind, t("No."))
    reference = [(number_label, doc["number"])]
    if doc.get("bill_no"):
        reference.append((t("Bill no."), doc["bill_no"]))
    reference.append((t("Time"), local_time(doc["occurred_at"], time_zone)))
    if doc.get("operator"):
        reference.append((t("Cashier"), doc["operator"]))
    if show("member") and doc.get("member"):
        reference.append((t("Member"), doc["member"]["name"]))
    if show("card") and doc.get("card"):
        reference.append((t("Card"), mask_card_no(doc["card"]["card_no"])))
    builder = {"bill": _bill, "card_movement": _movement, "redemption": _redemption,
               "settlement_refund": _refund, "bill_refund": _refund}[kind]
    sections, total, note = builder(doc, t, show, time_zone)
    return Parts(title, reference, sections + _balances(t, doc.get("balances"), show), total, note)


def _bill(doc, t, show, time_zone):
    sections = []
    if doc["items"]:
        sections.append(Section(t("Items"), [(item.get("sku") or item.get("category") or t("Item"),
                                              f'{item.get("qty", "")} x {item.get("amount", "")}'.strip(" x"))
                                             for item in doc["items"]]))
    points = Section(t("Points earned"), [(line.get("description") or line.get("rule") or line.get("step"),
                                           str(line["points"])) for line in doc["points_breakdown"]
                                          if line.get("points")])
    points.rows.append((t("Points earned"), str(doc["points"])))
    if show("points"):
        sections.append(points)
    if doc["refunds"]:
        sections.append(Section(t("Refunds"), [(r["refund_no"], f'-{r["amount"]} (-{r["points"]})')
                                               for r in doc["refunds"]]))
    return sections, (t("Amount"), doc["amount"]), None


def _movement(doc, t, show, time_zone):
    rows = []
    if doc["movement"] == "top_up":
        rows.append((t("Uses added"), str(doc["uses"])))
        if doc.get("price"):
            rows.append((t("Price"), doc["price"]))
        total = (t("Uses added"), str(doc["uses"]))
    else:
        label = t("Deposit") if doc["movement"] == "deposit" else t("Repaid")
        rows.append((label, doc["amount"]))
        if doc["bonus"] != "0.00":
            rows.append((t("Bonus value granted"), doc["bonus"]))
        total = (label, doc["amount"])
    if doc.get("tender"):
        rows.append((t("Paid with"), _tender(t, doc["tender"])))
    return [Section(None, rows)], total, None


def _redemption(doc, t, show, time_zone):
    rows = [(t("Reward"), doc["reward"]["name"]), (t("Quantity"), str(doc["quantity"])),
            (t("Status"), t(STATUS_LABELS.get(doc["status"], doc["status"])))]
    if doc.get("voucher_expires_at"):
        rows.append((t("Voucher valid until"), local_time(doc["voucher_expires_at"], time_zone)))
    if doc.get("collected_at"):
        rows.append((t("Collected"), local_time(doc["collected_at"], time_zone)))
    if doc.get("cancelled_at"):
        rows.append((t("Cancelled"), local_time(doc["cancelled_at"], time_zone)))
    note = t("Please collect the reward at the outlet, with this receipt.") \
        if doc["status"] == "awaiting_pickup" else doc.get("cancel_reason")
    return [Section(None, rows)], (t("Points"), f'-{doc["points"]}'), note


def _refund(doc, t, show, time_zone):
    sections = []
    if doc["tenders"]:
        sections.append(Section(t("Returned to"), [
            (_tender(t, returned["kind"]) + (f' ({returned["uses"]})' if returned.get("uses") else ""),
             returned["amount"]) for returned in doc["tenders"]]))
    if show("points"):
        sections.append(Section(None, [(t("Points taken back"), f'-{doc["points"]}')]))
    return sections, (t("Refunded"), f'-{doc["amount"]}'), doc.get("reason")
