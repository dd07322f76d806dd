"""Receipt layouts and printing: storing a layout (lps_core.receipts.schemas checks it), choosing the
template, counting reprints and rendering a settlement document to HTML. No `request` here; the views
pass in what they resolved.

Staff text (header, footer) reaches the templates only as plain strings, which Chameleon's ${}
escapes; templates never render it with `structure:`, because Chameleon expressions run Python.
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from sqlalchemy import func, insert, select, update

from lps_core.cashier.models import Settlement
from lps_core.errors import NotFound
from lps_core.receipts.models import ReceiptLayout, ReceiptPrint
from lps_core.receipts.template_registry import CORE_TEMPLATES
from lps_core.timeutil import utcnow

PAPERS = ("80mm", "a4")
# The parts of a receipt a layout can switch off; outlet, bill no. and totals always show.
FIELDS = ("member", "card", "tier", "items", "discount", "tenders", "points", "balances", "refunds", "signature")


@dataclass(frozen=True)
class Layout:
    header_text: str | None = None
    footer_text: str | None = None
    logo: str | None = None
    paper: str = "80mm"
    template: str = CORE_TEMPLATES["80mm"]
    fields: tuple = FIELDS
    customised: bool = False

    def as_json(self):
        return {"header_text": self.header_text, "footer_text": self.footer_text, "logo": self.logo,
                "paper": self.paper, "template": self.template, "fields": list(self.fields),
                "default": not self.customised}

    def template_for(self, paper) -> str:
        """The layout's template for its own paper; LPS's template for the other paper."""
        return self.template if paper == self.paper else CORE_TEMPLATES[paper]


@dataclass
class PrintedReceipt:
    html: str
    copy_no: int
    paper: str
    template: str
    printed_at: datetime = field(default_factory=utcnow)


def get_layout(db, outlet_id) -> Layout:
    row = db.scalar(select(ReceiptLayout).where(ReceiptLayout.outlet_id == outlet_id))
    if row is None:
        return Layout()
    return Layout(row.header_text, row.footer_text, row.logo, row.paper, row.template, tuple(row.fields), True)


def save_layout(db, outlet_id, layout: Layout) -> Layout:
    values = {"header_text": layout.header_text, "footer_text": layout.footer_text, "logo": layout.logo,
              "paper": layout.paper, "template": layout.template, "fields": list(layout.fields),
              "updated_at": utcnow()}
    if db.scalar(select(ReceiptLayout.id).where(ReceiptLayout.outlet_id == outlet_id)) is None:
        db.execute(insert(ReceiptLayout).values(outlet_id=outlet_id, **values))
    else:
        db.execute(update(ReceiptLayout).where(ReceiptLayout.outlet_id == outlet_id).values(**values))
    return layout


def settlement_outlet(db, settlement_id, outlet, *, lock=False) -> int:
    """The settlement's outlet id, after checking that `outlet` (the API key's, the desk's) is it:
    another outlet's settlement is answered exactly like an unknown one."""
    query = select(Settlement.outlet_id).where(Settlement.id == settlement_id, Settlement.outlet_id == outlet.id)
    outlet_id = db.scalar(query.with_for_update() if lock else query)
    if outlet_id is None:
        raise NotFound(f"settlement {settlement_id} does not exist", {"id": "no such settlement"})
    return outlet_id


def print_receipt(db, templates, settlement_id, outlet, paper=None, *, macros, time_zone: tzinfo = timezone.utc,
                  translate=None, language="en") -> PrintedReceipt:
    """Render the settlement's receipt and record the print: the first is the original, every
    later one a numbered COPY. The settlement row is locked, so two tills never both print an original.
    `translate` (see render_receipt) prints the labels in the staff member's `language`."""
    from lps_core.cashier.documents import settlement_document

    outlet_id = settlement_outlet(db, settlement_id, outlet, lock=True)
    layout = get_layout(db, outlet_id)
    paper = paper or layout.paper
    name = layout.template_for(paper)
    if name not in templates:  # the plugin that provided it was uninstalled: print with LPS's own
        name = CORE_TEMPLATES[paper]
    copy_no = db.scalar(select(func.count()).select_from(ReceiptPrint)
                        .where(ReceiptPrint.settlement_id == settlement_id))
    html = render_receipt(templates[name], settlement_document(db, settlement_id), layout,
                          paper=paper, copy_no=copy_no, macros=macros, time_zone=time_zone, translate=translate,
                          language=language)
    printed = PrintedReceipt(html, copy_no, paper, name)
    db.execute(insert(ReceiptPrint).values(document="settlement", document_id=settlement_id,
                                           settlement_id=settlement_id, copy_no=copy_no, paper=paper,
                                           template=name, printed_at=printed.printed_at))
    return printed


def list_prints(db, settlement_id, outlet) -> list[ReceiptPrint]:
    settlement_outlet(db, settlement_id, outlet)
    return list(db.scalars(select(ReceiptPrint).where(ReceiptPrint.settlement_id == settlement_id)
                           .order_by(ReceiptPrint.copy_no)))


def render_receipt(template, document, layout: Layout, *, paper, copy_no, macros, time_zone: tzinfo = timezone.utc,
                   translate=None, language="en") -> str:
    """The receipt as an HTML page. The template gets the settlement document as `doc`, the
    layout's choices as `layout`, and `receipt`: values prepared for printing.

    `translate` is Chameleon's translation function, `translate(msgid, domain=None, mapping=None,
    default=None, context=None, target_language=None) -> str`, for the labels (domain lps_receipts);
    without it they print in English. `receipt["language"]` is the page's `lang` (a BCP 47 tag)."""
    receipt = {
        "language": language.replace("_", "-"),
        "paper": paper,
        "copy_no": copy_no,
        "is_copy": copy_no > 0,
        "time": local_time(document["occurred_at"], time_zone),
        "card_no": mask_card_no(document["card"]["card_no"]) if document.get("card") else None,
        "header_lines": (layout.header_text or "").splitlines(),
        "footer_lines": (layout.footer_text or "").splitlines(),
        "balances": [(kind, value) for kind, value in (document.get("balances") or {}).items() if value is not None],
        "refunds_time": {refund["refund_no"]: local_time(refund["created_at"], time_zone)
                         for refund in document.get("refunds") or ()},
    }
    shown = set(layout.fields)
    extra = {"translate": translate} if translate is not None else {}
    return template(doc=document, layout=layout, receipt=receipt, show=shown.__contains__, macros=macros.macros,
                    **extra)


def mask_card_no(card_no: str) -> str:
    """Every digit but the last four hidden: 8800123456789012 -> ************9012."""
    return "*" * max(len(card_no) - 4, 0) + card_no[-4:]


def local_time(value: str, time_zone: tzinfo) -> str:
    """An ISO 8601 time as the programme's local time (lps.timezone), to the minute."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(time_zone).strftime("%Y-%m-%d %H:%M")
