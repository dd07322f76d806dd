"""Receipt API views: an outlet's receipt layout and thermal printer (scope outlets.manage), and
printing the receipt of a settlement or of another document (an earn-only bill, a card movement, a
redemption, a refund), as a page or on the outlet's printer, with the list of its prints, and a
document as JSON (scope cashier). One view serves each of these for both kinds of receipt. Thin:
read the input through its operation's schema, call a service, shape.
A receipt prints in the language of the staff member's screen (request.locale_name: the language
switch's cookie, else the browser's Accept-Language)."""
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from pyramid.response import Response
from pyramid.view import view_config

from lps_core.cashier.schemas import SettlementPath
from lps_core.earning.rules import outlet_id_of
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.receipts import printers
from lps_core.receipts import services as receipts
from lps_core.receipts.presentation import RECEIPT_CSP, receipt_translator
from lps_core.receipts import document_printing
from lps_core.receipts.documents import BUILDERS as DOCUMENT_KINDS
from lps_core.receipts.documents import build_document
from lps_core.receipts.schemas import BAUDRATES, DocumentPath, OutletPath, ReceiptLayoutIn, ReceiptPrinterIn, ReceiptQuery
from lps_core.receipts.services import FIELDS, PAPERS
from lps_core.receipts.thermal import PAPERS as THERMAL_PAPERS
from lps_core.timeutil import isoformat


def includeme(config):
    config.add_route("api.receipt_layout", "/api/v1/outlets/{code}/receipt-layout")
    config.add_route("api.settlement_receipt", "/api/v1/settlements/{id}/receipt")
    config.add_route("api.settlement_receipt_prints", "/api/v1/settlements/{id}/receipt/prints")
    config.add_route("api.receipt_printer", "/api/v1/outlets/{code}/receipt-printer")
    config.add_route("api.settlement_receipt_print", "/api/v1/settlements/{id}/receipt/print")
    config.add_route("api.document_receipt", "/api/v1/receipts/{kind}/{id}")
    config.add_route("api.document_receipt_json", "/api/v1/receipts/{kind}/{id}/document")
    config.add_route("api.document_receipt_print", "/api/v1/receipts/{kind}/{id}/print")
    config.add_route("api.document_receipt_prints", "/api/v1/receipts/{kind}/{id}/prints")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


OPERATIONS = [
    Operation("api.receipt_layout", "get", "getReceiptLayout", "An outlet's receipt layout, or the defaults",
              {"200": answer("The layout", "ReceiptLayout"), **problems(401, 403, 404)},
              scope="outlets.manage", path=OutletPath),
    Operation("api.receipt_layout", "put", "putReceiptLayout",
              "Replace an outlet's receipt layout; fields left out take their defaults",
              {"200": answer("The layout saved", "ReceiptLayout"), **problems(401, 403, 404, 413, 422)},
              scope="outlets.manage", body=ReceiptLayoutIn, path=OutletPath),
    Operation("api.settlement_receipt", "get", "printReceipt",
              "Print a settlement's receipt as an HTML page (the key's outlet must be the settlement's)",
              {"200": {"description": "The receipt, ready to print",
                       "content": {"text/html": {"schema": {"type": "string"}}}}, **problems(401, 403, 404)},
              scope="cashier", path=SettlementPath, query=ReceiptQuery,
              description="Every call records a print. The first is the original; every later one is marked COPY "
                          "and numbered (header X-LPS-Receipt-Copy: 0 for the original, 1, 2... for copies). "
                          "Another outlet's settlement answers 404, like an unknown one."),
    Operation("api.receipt_printer", "get", "getReceiptPrinter", "An outlet's thermal receipt printer",
              {"200": answer("The printer, or null when the outlet has none", "ReceiptPrinterOfOutlet"),
               **problems(401, 403, 404)}, scope="outlets.manage", path=OutletPath),
    Operation("api.receipt_printer", "put", "putReceiptPrinter", "Set an outlet's thermal (ESC/POS) receipt printer",
              {"200": answer("The printer saved", "ReceiptPrinterOfOutlet"), **problems(401, 403, 404, 413, 422)},
              scope="outlets.manage", body=ReceiptPrinterIn, path=OutletPath),
    Operation("api.receipt_printer", "delete", "deleteReceiptPrinter", "Remove an outlet's receipt printer",
              {"200": answer("The outlet has no printer now", "ReceiptPrinterOfOutlet"), **problems(401, 403, 404)},
              scope="outlets.manage", path=OutletPath),
    Operation("api.settlement_receipt_print", "post", "printReceiptOnPrinter",
              "Print a settlement's receipt on its outlet's thermal printer",
              {"201": answer("The print, recorded once the printer took it", "ThermalPrint"),
               **problems(401, 403, 404)}, scope="cashier", path=SettlementPath,
              description="The first print is the original; later ones are marked COPY. If the printer cannot be "
                          "reached the answer is 503 naming the printer and nothing is recorded, so the next "
                          "print is still the original. 404 when the outlet has no printer."),
    Operation("api.settlement_receipt_prints", "get", "listReceiptPrints",
              "Every print of a settlement's receipt, original first",
              {"200": answer("The prints", "ReceiptPrints"), **problems(401, 403, 404)},
              scope="cashier", path=SettlementPath),
    Operation("api.document_receipt", "get", "printDocumentReceipt",
              "Print the receipt of an earn-only bill, a card movement, a redemption or a refund as an HTML page",
              {"200": {"description": "The receipt, ready to print",
                       "content": {"text/html": {"schema": {"type": "string"}}}}, **problems(401, 403, 404)},
              scope="cashier", path=DocumentPath, query=ReceiptQuery,
              description="Every call records a print of that document: the first is the original, later ones "
                          "are marked COPY and numbered (header X-LPS-Receipt-Copy). Another outlet's document "
                          "answers 404, like an unknown one."),
    Operation("api.document_receipt_json", "get", "getReceiptDocument",
              "The document a receipt prints, as JSON (the same shape the printed receipt lays out)",
              {"200": answer("The document", "ReceiptDocument"), **problems(401, 403, 404)},
              scope="cashier", path=DocumentPath),
    Operation("api.document_receipt_print", "post", "printDocumentReceiptOnPrinter",
              "Print a document's receipt on its outlet's thermal printer",
              {"201": answer("The print, recorded once the printer took it", "ThermalPrint"),
               **problems(401, 403, 404)}, scope="cashier", path=DocumentPath,
              description="Numbered per document like the HTML receipt. 503 naming the printer when it cannot be "
                          "reached (nothing recorded); 404 when the outlet has no printer."),
    Operation("api.document_receipt_prints", "get", "listDocumentReceiptPrints",
              "Every print of a document's receipt, original first",
              {"200": answer("The prints", "ReceiptPrints"), **problems(401, 403, 404)},
              scope="cashier", path=DocumentPath),
]

SCHEMAS = {
    "ReceiptLayout": {"type": "object", "properties": {
        "outlet": {"type": "string"},
        "header_text": {"type": "string", "nullable": True}, "footer_text": {"type": "string", "nullable": True},
        "logo": {"type": "string", "nullable": True},
        "paper": {"type": "string", "enum": list(PAPERS)},
        "template": {"type": "string", "example": "lps-80mm"},
        "fields": {"type": "array", "items": {"type": "string", "enum": list(FIELDS)}},
        "default": {"type": "boolean", "description": "True when the outlet has no layout of its own"}}},
    "ReceiptPrints": {"type": "object", "properties": {
        "settlement_id": {"type": "integer", "description": "A settlement's prints only"},
        "kind": {"type": "string", "description": "A document's prints only"},
        "id": {"type": "integer", "description": "A document's prints only"},
        "prints": {"type": "array", "items": {"type": "object", "properties": {
            "copy": {"type": "boolean"}, "copy_no": {"type": "integer", "description": "0 for the original"},
            "paper": {"type": "string", "enum": sorted({*PAPERS, *THERMAL_PAPERS})}, "template": {"type": "string"},
            "printed_at": {"type": "string", "format": "date-time"}}}},
    }},
    "ReceiptPrinterOfOutlet": {"type": "object", "properties": {
        "outlet": {"type": "string"},
        "printer": {"type": "object", "nullable": True, "properties": {
            "connection": {"type": "string", "enum": list(printers.CONNECTIONS)}, "address": {"type": "string"},
            "paper": {"type": "string", "enum": list(THERMAL_PAPERS)},
            "baudrate": {"type": "integer", "nullable": True, "enum": [*BAUDRATES, None]},
            "auto_print": {"type": "boolean"}}}}},
    "ReceiptDocument": {"type": "object", "description": "Fields by kind; see docs/receipts.md", "properties": {
        "kind": {"type": "string", "enum": list(DOCUMENT_KINDS)}, "id": {"type": "integer"},
        "number": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"},
        "outlet": {"type": "object"}, "property": {"type": "object"}, "card": {"type": "object"},
        "member": {"type": "object", "nullable": True}, "balances": {"type": "object"}}},
    "ThermalPrint": {"type": "object", "properties": {
        "settlement_id": {"type": "integer", "description": "A settlement's print only"},
        "kind": {"type": "string", "description": "A document's print only"},
        "id": {"type": "integer", "description": "A document's print only"}, "copy": {"type": "boolean"},
        "copy_no": {"type": "integer", "description": "0 for the original"},
        "paper": {"type": "string", "enum": list(THERMAL_PAPERS)},
        "bytes": {"type": "integer", "description": "The size of the ESC/POS stream sent"}}},
}


@view_config(route_name="api.receipt_layout", request_method="GET", require_csrf=False, renderer="json")
def get_receipt_layout(request):
    authenticate(request, "outlets.manage")
    code = read_path(request).code
    layout = receipts.get_layout(request.dbsession, outlet_id_of(request.dbsession, code))
    return {"outlet": code, **layout.as_json()}


@view_config(route_name="api.receipt_layout", request_method="PUT", require_csrf=False, renderer="json")
def put_receipt_layout(request):
    authenticate(request, "outlets.manage")
    code = read_path(request).code
    outlet_id = outlet_id_of(request.dbsession, code)
    layout = read_body(request).layout(request.receipt_templates)
    receipts.save_layout(request.dbsession, outlet_id, layout)
    return {"outlet": code, **layout.as_json()}


def _printer_json(code, printer) -> dict:
    return {"outlet": code, "printer": printer.as_json() if printer is not None else None}


@view_config(route_name="api.receipt_printer", request_method="GET", require_csrf=False, renderer="json")
def get_receipt_printer(request):
    authenticate(request, "outlets.manage")
    code = read_path(request).code
    return _printer_json(code, printers.get_printer(request.dbsession, outlet_id_of(request.dbsession, code)))


@view_config(route_name="api.receipt_printer", request_method="PUT", require_csrf=False, renderer="json")
def put_receipt_printer(request):
    authenticate(request, "outlets.manage")
    code = read_path(request).code
    outlet_id = outlet_id_of(request.dbsession, code)
    printer = printers.save_printer(request.dbsession, outlet_id, read_body(request).printer())
    return _printer_json(code, printer)


@view_config(route_name="api.receipt_printer", request_method="DELETE", require_csrf=False, renderer="json")
def delete_receipt_printer(request):
    authenticate(request, "outlets.manage")
    code = read_path(request).code
    printers.remove_printer(request.dbsession, outlet_id_of(request.dbsession, code))
    return _printer_json(code, None)


# A receipt route names a settlement (/settlements/{id}/receipt...) or another document
# (/receipts/{kind}/{id}...): the same views serve both, with the services of the one named.

@dataclass(frozen=True)
class _Receipt:
    """The receipt a route names: `names`, how the answers name it, and its services bound to it:
    page(paper, **options), on_printer(**options) and prints()."""
    names: dict
    page: Callable
    on_printer: Callable
    prints: Callable


def _receipt(request, outlet) -> _Receipt:
    db, path = request.dbsession, read_path(request)
    if isinstance(path, SettlementPath):
        return _Receipt({"settlement_id": path.id},
                        page=partial(receipts.print_receipt, db, request.receipt_templates, path.id, outlet),
                        on_printer=partial(printers.print_on_printer, db, path.id, outlet),
                        prints=partial(receipts.list_prints, db, path.id, outlet))
    return _Receipt({"kind": path.kind, "id": path.id},
                    page=partial(document_printing.print_document, db, path.kind, path.id, outlet),
                    on_printer=partial(document_printing.print_document_on_printer, db, path.kind, path.id, outlet),
                    prints=partial(document_printing.list_document_prints, db, path.kind, path.id, outlet))


@view_config(route_name="api.settlement_receipt", request_method="GET", require_csrf=False)
@view_config(route_name="api.document_receipt", request_method="GET", require_csrf=False)
def receipt_page(request):
    receipt = _receipt(request, authenticate(request, "cashier"))
    printed = receipt.page(read_query(request).paper, macros=request.receipt_macros,
                           time_zone=request.programme.timezone, translate=receipt_translator(request),
                           language=request.locale_name)
    response = Response(printed.html, content_type="text/html", charset="utf-8")
    # The receipt is a page of its own: nothing in it may run script, even if text slipped through.
    response.headers.update({"Cache-Control": "no-store", "Content-Security-Policy": RECEIPT_CSP,
                             "X-LPS-Receipt-Copy": str(printed.copy_no),
                             "X-LPS-Receipt-Template": printed.template})
    return response


@view_config(route_name="api.settlement_receipt_print", request_method="POST", require_csrf=False, renderer="json")
@view_config(route_name="api.document_receipt_print", request_method="POST", require_csrf=False, renderer="json")
def receipt_on_printer(request):
    receipt = _receipt(request, authenticate(request, "cashier"))
    printed = receipt.on_printer(time_zone=request.programme.timezone, translate=receipt_translator(request))
    request.response.status_code = 201
    return {**receipt.names, "copy": printed.copy_no > 0, "copy_no": printed.copy_no, "paper": printed.paper,
            "bytes": printed.size}


@view_config(route_name="api.settlement_receipt_prints", request_method="GET", require_csrf=False, renderer="json")
@view_config(route_name="api.document_receipt_prints", request_method="GET", require_csrf=False, renderer="json")
def receipt_prints(request):
    receipt = _receipt(request, authenticate(request, "cashier"))
    return {**receipt.names,
            "prints": [{"copy": row.is_copy, "copy_no": row.copy_no, "paper": row.paper, "template": row.template,
                        "printed_at": isoformat(row.printed_at)} for row in receipt.prints()]}


@view_config(route_name="api.document_receipt_json", request_method="GET", require_csrf=False, renderer="json")
def document_receipt_json(request):
    outlet = authenticate(request, "cashier")
    path = read_path(request)
    return build_document(request.dbsession, path.kind, path.id, outlet.id)
