"""The cashier's screen: look a card up (swipe, number, phone or name), build the bill, settle it
with mixed tenders, print the receipt; refund a settlement; put value on the card (deposit, uses
top-up, credit repayment). Thin views: the rules live in lps_core.cashier and lps_core.cards.

A form that fails is shown again with its values and each error beside its field; its transaction
is doomed, so nothing of a half-done settlement is kept (a wrong PIN is still counted: the PIN
check records failures once the transaction ends, whichever way)."""
import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render, render_to_response
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.cards.funds import card_balances, deposit, repay_credit, top_up_uses
from lps_core.cashier import services
from lps_core.cashier.documents import balances_json, settlement_document
from lps_core.cashier.lookup import look_up
from lps_core.cashier.models import Settlement
from lps_core.cashier.schemas import (
    CreditRepaymentIn,
    DepositIn,
    LookupQuery,
    RefundIn,
    SettleIn,
    UsesTopUpIn,
)
from lps_core.coupons import redemption
from lps_core.coupons.schemas import CouponApplyIn, CouponPath
from lps_core.errors import LpsError
from lps_core.members.schemas import filled
from lps_core.operators.permissions import Permission
from lps_core.outlets.models import Outlet
from lps_core.receipts import printers
from lps_core.receipts import services as receipts
from lps_core.receipts.presentation import RECEIPT_CSP, receipt_translator
from lps_core.screens.desk.amounts import cents_of
from lps_core.screens.desk.forms import (
    ITEM_FIELDS,
    ITEM_LINES,
    TENDER_FIELDS,
    TENDER_LINES,
    movement_body,
    new_reference,
    padded,
    refund_body,
    settle_body,
    settle_form_fields,
)
from lps_core.screens.desk.lines import known_lines, rates_by_category
from lps_core.screens.desk.outlets import context_of
from lps_core.screens.shared import audit, chosen_outlet, dgettext, flash, outlets_in_scope
from lps_core.timeutil import utcnow
from lps_core.validation import validate

CASHIER_PAGE = "lps_core.screens.desk:templates/cashier.pt"
SETTLEMENT_PAGE = "lps_core.screens.desk:templates/settlement.pt"
SETTLED_PANEL = "lps_core.screens.desk:templates/settled.pt"
# The fields each form shows beside an input; the services' other errors are listed above the form.
FORM_FIELDS = {
    "lookup": ("card_no", "phone", "name"),
    "settle": ("bill_no", "amount", "items", "tenders", "pin") + tuple(f"tenders[{n}]" for n in range(10)),
    "deposit": ("deposit_no", "amount", "tender", "reference"),
    "top_up": ("topup_no", "uses", "amount", "tender"),
    "repay": ("repayment_no", "amount", "tender"),
    "refund": ("scope", "amount", "refund_no", "reason"),
}
MOVEMENTS = {  # form -> (number field, service call, schema)
    "deposit": ("deposit_no", lambda db, card, card_type, outlet, body, at: deposit(
        db, card, card_type, outlet, deposit_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, reference=body.reference, occurred_at=at), DepositIn),
    "top_up": ("topup_no", lambda db, card, card_type, outlet, body, at: top_up_uses(
        db, card, card_type, outlet, topup_no=body.reference_no, uses=body.uses, price_cents=body.amount_cents,
        tender=body.tender, occurred_at=at), UsesTopUpIn),
    "repay": ("repayment_no", lambda db, card, card_type, outlet, body, at: repay_credit(
        db, card, card_type, outlet, repayment_no=body.reference_no, amount_cents=body.amount_cents,
        tender=body.tender, occurred_at=at), CreditRepaymentIn),
}


def form_failed(request, exc: LpsError, form, fields=None) -> dict:
    """Keep nothing of the failed request, answer 400, and sort its errors (or `fields`, the errors
    named as the form shows them) for the template."""
    request.tm.doom()
    request.response.status = 400
    return errors_for(form, fields or exc.fields or {"": exc.message})


def money(request):
    """For templates: a decimal string of the documents ("12.34") formatted for the page's locale."""
    return lambda amount: request.fmt.money(cents_of(amount))


def errors_for(form, fields) -> dict:
    errors = {name: {} for name in FORM_FIELDS}
    errors[form] = dict(fields)
    errors["other"] = [message for name, message in fields.items() if name not in FORM_FIELDS[form]]
    return errors


def from_script(request) -> bool:
    """Sent by cashier.js (fetch) rather than by a plain form post: answered in place."""
    return request.headers.get("X-Requested-With") == "fetch"


@view_config(route_name="cashier", request_method="GET", renderer=CASHIER_PAGE, permission=Permission.CASHIER_SETTLE)
def cashier(request):
    return cashier_page(request, chosen_outlet(request))


def cashier_page(request, outlet, *, card_no=None, errors=None, bill=None, values=None, failed=None) -> dict:
    """Everything the cashier's screen shows: the outlet (or the choice of one), the look-up and its
    matches, the card, and the bill and value forms (fresh, or as a failed POST left them)."""
    params = request.params
    search = {"card_no": card_no or params.get("card_no", ""), "phone": "" if card_no else params.get("phone", ""),
              "name": "" if card_no else params.get("name", "")}
    errors = errors or errors_for("lookup", {})
    zone = request.programme.timezone
    page = {"outlet": outlet, "outlets": outlets_in_scope(request), "search": search,
            "may_fund": request.has_permission(Permission.STORED_VALUE_DEPOSIT),
            "matches": [], "card": None, "errors": errors, "failed": failed,
            "money": money(request), "cents_of": cents_of, "offer_due": 0, "movement_receipt": _movement_receipt(request),
            "tenders": services.tenders_on_at(request.dbsession, request.plugins, outlet.id) if outlet else [],
            "values": {"deposit_no": new_reference("D", zone), "topup_no": new_reference("U", zone),
                       "repayment_no": new_reference("P", zone), **(values or {})},
            "lines": {"skus": [], "categories": []}, "rates_json": "{}",
            "bill": bill or {"bill_no": new_reference(f"{outlet.code}-", zone) if outlet else "", "amount": "",
                             "items": padded([], ITEM_LINES, ITEM_FIELDS),
                             "tenders": padded([], TENDER_LINES, TENDER_FIELDS)}}
    if outlet is None or not any(search.values()):
        return page
    try:
        # The API's look-up query (GET /api/v1/cashier/lookup) checks the desk's look-up form too.
        query = validate(LookupQuery, filled(search, search), message="the look-up has invalid fields")
        page["matches"] = look_up(request.dbsession, outlet.code, utcnow(), card_no=query.card_no,
                                  phone=query.phone, name=query.name, tz=request.programme.timezone)
    except LpsError as exc:
        errors["lookup"] = exc.fields
        request.response.status = 400
        return page
    if not page["matches"]:
        field = next(name for name, value in search.items() if value)
        errors["lookup"] = {field: request.localizer.translate(dgettext("lps_cashier", "No card found."))}
    elif len(page["matches"]) == 1:
        page["card"] = page["matches"][0]
        page["lines"] = known_lines(request.dbsession, outlet.id, outlet.code)
        page["offer_due"] = _due_cents(bill_amount=page["bill"].get("amount"), rate=page["card"]["discount_rate"])
        page["rates_json"] = json.dumps(rates_by_category(request.dbsession, page["card"], outlet.code,
                                                          page["lines"]["categories"]))
    return page


def _due_cents(*, bill_amount, rate) -> int:
    """The amount due of the quick amount after the member's discount (half up, as the settlement),
    for greying out the coupons under their minimum spend; 0 while no valid amount is typed
    (cashier.js keeps it up to date as the bill changes)."""
    try:
        gross = Decimal(bill_amount or "0").quantize(Decimal("0.01"))
    except InvalidOperation:
        return 0
    if not gross.is_finite() or gross <= 0:
        return 0
    cents = int(gross * 100)
    return cents - int((Decimal(cents) * Decimal(rate or 0)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _movement_receipt(request):
    """The receipt of the deposit, top-up or repayment just posted (its ledger entry id in ?movement):
    the receipt page itself checks the entry is of an outlet the operator covers."""
    raw = request.params.get("movement", "")
    return request.route_url("cashier.document_receipt", kind="card_movement", id=raw) \
        if raw.isdigit() and len(raw) < 11 else None


def _outlet_or_back(request):
    outlet = chosen_outlet(request)
    if outlet is None:
        raise HTTPSeeOther(request.route_url("cashier"))
    return outlet


@view_config(route_name="cashier.settle", request_method="POST", renderer=CASHIER_PAGE,
             permission=Permission.CASHIER_SETTLE)
def settle(request):
    outlet = _outlet_or_back(request)
    body, shown = settle_body(request.POST, request.identity.username)
    db = request.dbsession
    try:
        result = services.settle_bill(db, request.plugins, request.programme, context_of(outlet),
                                      validate(SettleIn, body).settle_request())
    except LpsError as exc:
        errors = form_failed(request, exc, "settle", settle_form_fields(exc.fields))
        return cashier_page(request, outlet, card_no=body.get("card_no"), errors=errors, bill=shown, failed="settle")
    if not result.replayed:
        document = settlement_document(db, result.id)
        audit(request, "settlement.create", ("settlement", result.id),
              after={key: document[key] for key in ("bill_no", "card", "gross", "discount", "charged", "tenders",
                                                    "points", "balances")},
              outlet_id=outlet.id)
    if from_script(request):
        return settled_in_place(request, result, outlet)
    if not result.replayed:
        flash(request, dgettext("lps_cashier", "The bill is settled."))
        # A fresh settlement prints by itself where the outlet's printer is set to (settlement.pt).
        return HTTPSeeOther(request.route_url("cashier.settlement", id=result.id, _query={"print": "auto"}))
    flash(request, dgettext("lps_cashier", "This bill was already settled: here it is."))
    return HTTPSeeOther(request.route_url("cashier.settlement", id=result.id))


def settled_in_place(request, result, outlet):
    """The settlement for cashier.js, which shows it where the bill was (no page load) and prints it:
    the result panel as HTML, and where to print, reprint, refund. Auto-printing is for a fresh
    settlement only, as on the settlement page."""
    printer = printers.get_printer(request.dbsession, outlet.id)
    message = (dgettext("lps_cashier", "This bill was already settled: here it is.") if result.replayed
               else dgettext("lps_cashier", "The bill is settled."))
    panel = {"doc": settlement_document(request.dbsession, result.id), "outlet": outlet, "printer": printer,
             "money": money(request), "message": message,
             "may_refund": request.has_permission(Permission.CASHIER_REFUND)}
    return render_to_response("json", {
        "settled": True, "id": result.id, "replayed": result.replayed, "bill_no": panel["doc"]["bill_no"],
        "html": render(SETTLED_PANEL, panel, request),
        "print_url": request.route_url("cashier.print", id=result.id) if printer else None,
        "auto_print": bool(printer and printer.auto_print and not result.replayed),
        "receipt_url": request.route_url("cashier.receipt", id=result.id),
        "settlement_url": request.route_url("cashier.settlement", id=result.id)}, request)


def _settlement_in_scope(request) -> tuple[int, Outlet]:
    raw = request.matchdict["id"]
    settlement = request.dbsession.get(Settlement, int(raw)) if raw.isdigit() and len(raw) < 18 else None
    if settlement is None or not request.identity.covers_outlet(settlement.outlet_id):
        raise HTTPNotFound("no such settlement")  # another outlet's settlement, as an unknown one
    return settlement.id, request.dbsession.get(Outlet, settlement.outlet_id)


@view_config(route_name="cashier.settlement", request_method="GET", renderer=SETTLEMENT_PAGE,
             permission=Permission.CASHIER_SETTLE)
def settlement(request):
    settlement_id, outlet = _settlement_in_scope(request)
    return settlement_page(request, settlement_id, outlet)


def settlement_page(request, settlement_id, outlet, *, errors=None, values=None) -> dict:
    printer = printers.get_printer(request.dbsession, outlet.id)
    return {"doc": settlement_document(request.dbsession, settlement_id), "outlet": outlet, "printer": printer,
            "auto_print": printer is not None and printer.auto_print and request.params.get("print") == "auto"
            and not receipts.list_prints(request.dbsession, settlement_id, context_of(outlet, posting=False)),
            "money": money(request), "may_refund": request.has_permission(Permission.CASHIER_REFUND),
            "errors": errors or errors_for("refund", {}),
            "values": values or {"scope": "all", "refund_no": new_reference("RF", request.programme.timezone)}}


@view_config(route_name="cashier.refund", request_method="POST", renderer=SETTLEMENT_PAGE,
             permission=Permission.CASHIER_REFUND)
def refund(request):
    settlement_id, outlet = _settlement_in_scope(request)
    db = request.dbsession
    before = settlement_document(db, settlement_id)["refundable"]
    try:
        result = services.refund_settlement(db, request.plugins, context_of(outlet), settlement_id,
                                            validate(RefundIn, refund_body(request.POST, request.identity.username))
                                            .refund_request())
    except LpsError as exc:
        errors = form_failed(request, exc, "refund")
        return settlement_page(request, settlement_id, outlet, errors=errors, values=dict(request.POST))
    if not result.replayed:
        document = settlement_document(db, settlement_id)
        made = next(item for item in document["refunds"] if item["id"] == result.id)
        audit(request, "settlement.refund", ("settlement", settlement_id),
              before={"refundable": before},
              after={"refundable": document["refundable"], "refund_no": made["refund_no"],
                     "amount": made["amount"], "points": made["points"], "reason": made["reason"]},
              outlet_id=outlet.id)
        flash(request, dgettext("lps_cashier", "The refund is made."))
    else:
        flash(request, dgettext("lps_cashier", "This refund was already made."))
    return HTTPSeeOther(request.route_url("cashier.settlement", id=settlement_id))


@view_config(route_name="cashier.receipt", request_method="GET", permission=Permission.CASHIER_SETTLE)
def receipt(request):
    """The receipt as its own page to print: the first print is the original, later ones COPY."""
    settlement_id, outlet = _settlement_in_scope(request)
    paper = request.params.get("paper")
    printed = receipts.print_receipt(
        request.dbsession, request.receipt_templates, settlement_id, context_of(outlet, posting=False),
        paper if paper in receipts.PAPERS else None, macros=request.receipt_macros,
        time_zone=request.programme.timezone, translate=receipt_translator(request),
        language=request.locale_name)
    response = Response(printed.html, content_type="text/html", charset="utf-8")
    response.headers.update({"Cache-Control": "no-store", "Content-Security-Policy": RECEIPT_CSP})
    return response


@view_config(route_name="cashier.print", request_method="POST", permission=Permission.CASHIER_SETTLE)
def print_on_printer(request):
    """Print the receipt on the outlet's thermal printer. The settlement page sends this by itself
    (fetch, answered in JSON) right after a settlement when the printer prints automatically; the
    button sends it as a form, answered with a message on the settlement page."""
    settlement_id, outlet = _settlement_in_scope(request)
    try:
        printed = printers.print_on_printer(request.dbsession, settlement_id, context_of(outlet, posting=False),
                                            time_zone=request.programme.timezone,
                                            translate=receipt_translator(request))
    except LpsError as exc:
        message = dgettext("lps_cashier", "The receipt did not print: ${reason}", mapping={"reason": str(exc)})
        ok = False
    else:
        message = (dgettext("lps_cashier", "The receipt is printed.") if printed.copy_no == 0
                   else dgettext("lps_cashier", "A copy of the receipt is printed."))
        ok = True
    if from_script(request):
        return render_to_response("json", {"printed": ok, "message": request.localizer.translate(message)}, request)
    flash(request, message)
    return HTTPSeeOther(request.route_url("cashier.settlement", id=settlement_id))


def _movement(request, form):
    number_field, post, schema = MOVEMENTS[form]
    outlet = _outlet_or_back(request)
    card_no = request.matchdict["card_no"]
    db = request.dbsession
    try:
        body = validate(schema, movement_body(request.POST, number_field, uses=schema is UsesTopUpIn)).movement()
        at = utcnow()
        card, card_type = services.card_for_use(db, card_no, at, tz=request.programme.timezone)
        before = balances_json(card_balances(db, card, card_type))
        movement = post(db, card, card_type, context_of(outlet), body, at)
    except LpsError as exc:
        return cashier_page(request, outlet, card_no=card_no, errors=form_failed(request, exc, form),
                            values={**dict(request.POST), "form": form}, failed=form)
    if movement.replayed:
        flash(request, dgettext("lps_cashier", "This was already recorded."))
    else:
        audit(request, f"card.{movement.kind}", ("card", card.card_no),
              before=before, after={**balances_json(movement.balances), number_field: movement.reference_no,
                                    "amount": movement.amount, "bonus_cents": movement.bonus_cents,
                                    "tender": body.tender},
              outlet_id=outlet.id)
        flash(request, dgettext("lps_cashier", "Saved: the balances below are up to date."))
    # The page after shows the movement's receipt to print (?movement=<ledger entry id>).
    return HTTPSeeOther(request.route_url("cashier", _query={"outlet": outlet.code, "card_no": card.card_no,
                                                             "movement": movement.entry_id}))


@view_config(route_name="cashier.deposit", request_method="POST", renderer=CASHIER_PAGE,
             permission=Permission.STORED_VALUE_DEPOSIT)
def card_deposit(request):
    return _movement(request, "deposit")


@view_config(route_name="cashier.top_up", request_method="POST", renderer=CASHIER_PAGE,
             permission=Permission.STORED_VALUE_DEPOSIT)
def card_top_up(request):
    return _movement(request, "top_up")


@view_config(route_name="cashier.repay", request_method="POST", renderer=CASHIER_PAGE,
             permission=Permission.STORED_VALUE_DEPOSIT)
def card_repayment(request):
    return _movement(request, "repay")


@view_config(route_name="cashier.coupon", request_method="POST", permission=Permission.CASHIER_SETTLE)
def apply_coupon(request):
    """A points multiplier coupon on the bill just settled (cashier.js sends it right after the
    settlement succeeds): the extra points, or the refusal naming its field, in JSON. Applying it
    to the same bill again answers the first application (POST /api/v1/coupons/{code}/apply)."""
    outlet = _outlet_or_back(request)
    try:
        code = validate(CouponPath, dict(request.matchdict)).code
        bill_no = validate(CouponApplyIn, {"bill_no": request.POST.get("bill_no", "")}).bill_no
        done = redemption.apply_multiplier(request.dbsession, outlet, code, bill_no)
    except LpsError as exc:
        request.tm.doom()
        request.response.status = exc.status
        return render_to_response("json", {"applied": False, "fields": exc.fields or {"code": exc.message},
                                           "message": exc.message}, request, response=request.response)
    message = dgettext("lps_cashier", "Coupon ${code}: ${points} extra points.",
                       mapping={"code": code, "points": request.fmt.number(done.points)})
    return render_to_response("json", {"applied": True, "code": code, "bill_no": bill_no, "points": done.points,
                                       "message": request.localizer.translate(message)}, request)
