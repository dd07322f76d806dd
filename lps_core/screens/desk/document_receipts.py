"""The receipt of an earn-only bill, a card movement, a redemption or a refund as its own page to
print from the desk (lps_core.receipts.document_printing): linked from the settlement's refunds and
the redemptions at the desk. Another outlet's document is answered like an unknown one."""
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.receipts import document_printing
from lps_core.receipts.documents import BUILDERS, document_outlet_id
from lps_core.receipts.presentation import RECEIPT_CSP, receipt_translator
from lps_core.receipts.services import PAPERS
from lps_core.screens.desk.outlets import context_of

MAX_ID = 2_147_483_647


@view_config(route_name="cashier.document_receipt", request_method="GET", permission=Permission.CASHIER_SETTLE)
def document_receipt(request):
    """The first print is the original, later ones COPY, numbered per document."""
    kind, raw = request.matchdict["kind"], request.matchdict["id"]
    document_id = int(raw) if raw.isdigit() and len(raw) < 11 and 0 < int(raw) <= MAX_ID else None
    outlet_id = document_outlet_id(request.dbsession, kind, document_id) \
        if kind in BUILDERS and document_id is not None else None
    if outlet_id is None or not request.identity.covers_outlet(outlet_id):
        raise HTTPNotFound("no such document")
    paper = request.params.get("paper")
    printed = document_printing.print_document(
        request.dbsession, kind, document_id, context_of(request.dbsession.get(Outlet, outlet_id), posting=False),
        paper if paper in PAPERS else None, macros=request.receipt_macros, time_zone=request.programme.timezone,
        translate=receipt_translator(request), language=request.locale_name)
    response = Response(printed.html, content_type="text/html", charset="utf-8")
    response.headers.update({"Cache-Control": "no-store", "Content-Security-Policy": RECEIPT_CSP})
    return response
