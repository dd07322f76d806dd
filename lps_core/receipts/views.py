"""Receipt API views: an outlet's receipt layout (scope outlets.manage), and printing a
settlement's receipt with the list of its prints (scope cashier). Thin: read the input through its
operation's schema, call a service, shape.
A receipt prints in the language of the staff member's screen (request.locale_name: the language
switch's cookie, else the browser's Accept-Language)."""
from pyramid.i18n import TranslationString
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.api.operations import read_body, read_path, read_query
from lps_core.api.request import authenticate
from lps_core.earning.rules import outlet_id_of
from lps_core.receipts import services as receipts
from lps_core.timeutil import isoformat

# The receipt is a page of its own: nothing in it may run script, even if text slipped through.
RECEIPT_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"


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


@view_config(route_name="api.settlement_receipt", request_method="GET", require_csrf=False)
def settlement_receipt(request):
    outlet = authenticate(request, "cashier")
    settlement_id = read_path(request).id
    paper = read_query(request).paper
    printed = receipts.print_receipt(
        request.dbsession, request.receipt_templates, settlement_id, outlet, paper,
        macros=request.receipt_macros, time_zone=request.programme.timezone,
        translate=receipt_translator(request), language=request.locale_name)
    response = Response(printed.html, content_type="text/html", charset="utf-8")
    response.headers.update({"Cache-Control": "no-store", "Content-Security-Policy": RECEIPT_CSP,
                             "X-LPS-Receipt-Copy": str(printed.copy_no),
                             "X-LPS-Receipt-Template": printed.template})
    return response


def receipt_translator(request):
    """Chameleon's translate function, answering from the catalogs of the request's language."""
    localizer = request.localizer

    def translate(msgid, domain=None, mapping=None, default=None, context=None, target_language=None):
        return localizer.translate(TranslationString(msgid, domain=domain, mapping=mapping, default=default))

    return translate


@view_config(route_name="api.settlement_receipt_prints", request_method="GET", require_csrf=False, renderer="json")
def settlement_receipt_prints(request):
    outlet = authenticate(request, "cashier")
    settlement_id = read_path(request).id
    prints = receipts.list_prints(request.dbsession, settlement_id, outlet)
    return {"settlement_id": settlement_id,
            "prints": [{"copy": row.is_copy, "copy_no": row.copy_no, "paper": row.paper, "template": row.template,
                        "printed_at": isoformat(row.printed_at)} for row in prints]}
