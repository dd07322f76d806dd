"""Printing the receipt of a document other than a settlement (lps_core.receipts.documents): as an
HTML page (80 mm or A4) or on the outlet's thermal printer, each print recorded in receipt_prints
under the document's kind and id: the first is the original, later ones are numbered COPYs, per
document. The document's row is locked while its print is counted and recorded, so two tills never
both print an original; a thermal print is recorded only once the printer took it (see printers).

The outlet's receipt layout (header, footer, logo, the parts shown) applies to these receipts too;
its template is a settlement's, so these print with LPS's document templates for the paper."""
from datetime import timezone, tzinfo
from functools import cache

from sqlalchemy import func, insert, select

from lps_core.errors import NotFound
from lps_core.receipts.documents import build_document
from lps_core.receipts.models import ReceiptPrint
from lps_core.receipts.parts import document_parts
from lps_core.receipts.printers import TEMPLATE as THERMAL_TEMPLATE
from lps_core.receipts.printers import ThermalPrint, get_printer, send
from lps_core.receipts.services import PrintedReceipt, get_layout
from lps_core.receipts.template_registry import load_template
from lps_core.receipts.thermal import document_lines, escpos_bytes, logo_image
from lps_core.timeutil import utcnow

DOCUMENT_TEMPLATES = {"80mm": ("lps-document-80mm", "lps_core.receipts:templates/receipt_document_80mm.pt"),
                      "a4": ("lps-document-a4", "lps_core.receipts:templates/receipt_document_a4.pt")}
DOCUMENT_MACROS_SPEC = "lps_core.receipts:templates/receipt_document_macros.pt"


@cache
def document_template(paper):
    """The compiled template of `paper` (compiled once; includeme compiles both at start-up)."""
    return load_template(DOCUMENT_TEMPLATES[paper][1])


@cache
def document_macros():
    return load_template(DOCUMENT_MACROS_SPEC)


def _next_copy_no(db, kind, document_id) -> int:
    return db.scalar(select(func.count()).select_from(ReceiptPrint)
                     .where(ReceiptPrint.document == kind, ReceiptPrint.document_id == document_id))


def _record(db, kind, document_id, copy_no, paper, template):
    db.execute(insert(ReceiptPrint).values(document=kind, document_id=document_id, copy_no=copy_no, paper=paper,
                                           template=template, printed_at=utcnow()))


def render_document(document, layout, *, paper, copy_no, macros, time_zone: tzinfo = timezone.utc,
                    translate=None, language="en") -> str:
    """The document's receipt as an HTML page; `macros` are the settlement receipts' shared ones
    (header, footer), `translate` Chameleon's translation function (see services.render_receipt)."""
    receipt = {"language": language.replace("_", "-"), "paper": paper, "copy_no": copy_no, "is_copy": copy_no > 0,
               "header_lines": (layout.header_text or "").splitlines(),
               "footer_lines": (layout.footer_text or "").splitlines()}
    parts = document_parts(document, time_zone=time_zone, translate=translate, fields=layout.fields)
    extra = {"translate": translate} if translate is not None else {}
    return document_template(paper)(doc=document, parts=parts, layout=layout, receipt=receipt,
                                    macros=macros.macros, document_macros=document_macros().macros, **extra)


def print_document(db, kind, document_id, outlet, paper=None, *, macros, time_zone: tzinfo = timezone.utc,
                   translate=None, language="en") -> PrintedReceipt:
    """Render the document's receipt as HTML and record the print (original, then numbered COPYs)."""
    document = build_document(db, kind, document_id, outlet.id, lock=True)
    layout = get_layout(db, outlet.id)
    paper = paper or layout.paper
    copy_no = _next_copy_no(db, kind, document_id)
    html = render_document(document, layout, paper=paper, copy_no=copy_no, macros=macros, time_zone=time_zone,
                           translate=translate, language=language)
    name = DOCUMENT_TEMPLATES[paper][0]
    _record(db, kind, document_id, copy_no, paper, name)
    return PrintedReceipt(html, copy_no, paper, name)


def print_document_on_printer(db, kind, document_id, outlet, *, time_zone, translate=None) -> ThermalPrint:
    """Print the document's receipt on the outlet's thermal printer, and record the print once the
    printer took it (a printer out of reach answers 503 and records nothing)."""
    document = build_document(db, kind, document_id, outlet.id, lock=True)
    printer = get_printer(db, outlet.id)
    if printer is None:
        raise NotFound(f"outlet {outlet.code} has no receipt printer", {"printer": "none configured for the outlet"})
    layout = get_layout(db, outlet.id)
    copy_no = _next_copy_no(db, kind, document_id)
    parts = document_parts(document, time_zone=time_zone, translate=translate, fields=layout.fields)
    lines = document_lines(parts, layout, paper=printer.paper, copy_no=copy_no, outlet=document["outlet"]["name"],
                           property_name=document["property"]["name"], translate=translate)
    data = escpos_bytes(lines, paper=printer.paper, logo=logo_image(layout.logo, printer.paper))
    send(printer, data)
    _record(db, kind, document_id, copy_no, printer.paper, THERMAL_TEMPLATE)
    return ThermalPrint(copy_no, printer.paper, len(data))


def list_document_prints(db, kind, document_id, outlet) -> list[ReceiptPrint]:
    """Every print of the document's receipt, original first (404 for another outlet's document)."""
    build_document(db, kind, document_id, outlet.id)
    return list(db.scalars(select(ReceiptPrint).where(ReceiptPrint.document == kind,
                                                      ReceiptPrint.document_id == document_id)
                           .order_by(ReceiptPrint.copy_no)))
