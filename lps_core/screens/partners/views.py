"""Partner screens. Views read the form through lps_core.partners.schemas, call lps_core.partners
(whose services audit each change) and redirect; a refused form is shown again with the message
beside each field and the HTTP status of the error. Every view needs partners.manage; a change
also needs an operator of every outlet (head office)."""
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from lps_core.components import IApiKeys
from lps_core.errors import LpsError
from lps_core.exports import download
from lps_core.members.schemas import read_form
from lps_core.operators.permissions import Permission
from lps_core.partners import services, statements
from lps_core.partners.exports import statement_csv, statement_xlsx
from lps_core.partners.schemas import (
    AdjustmentForm,
    ContractForm,
    NewPartnerForm,
    PeriodQuery,
    StandingForm,
    period_of,
)
from lps_core.screens.partners import texts
from lps_core.screens.shared import actor, flash, form_errors
from lps_core.timeutil import utcnow
from lps_core.validation import validate

TEMPLATES = "lps_core.screens.partners:templates/"
NEW_FIELDS = ("code", "name", "kind", "joined_on", "exchange_component", "outlet_code", "outlet_name")


def _today(request):
    return utcnow().astimezone(request.programme.timezone).date()


def _head_office(request):
    if not request.identity.all_outlets:
        raise HTTPForbidden("only an operator of every outlet may change partners")


def _refused(request, exc, known) -> dict:
    request.response.status = exc.status
    request.tm.doom()
    errors = {}
    for name, message in form_errors(exc.fields).items():
        errors[name if name in known else "form"] = message
    return errors or {"form": exc.message}


def _cents(amount) -> int:
    return int(amount * 100)


LABELS = {"standings": texts.STANDINGS, "kind_labels": texts.KINDS, "directions": texts.DIRECTIONS,
          "line_kinds": texts.LINE_KINDS}


# --- The list ---------------------------------------------------------------------------------------

@view_config(route_name="partners", renderer=TEMPLATES + "partners.pt", permission=Permission.PARTNERS_MANAGE)
def partners(request):
    errors, form = {}, {"kind": "partner"}
    if request.method == "POST":
        _head_office(request)
        form = {name: request.POST.get(name, "") for name in NEW_FIELDS}
        try:
            partner = services.create_partner(request.dbsession, request.plugins, request.programme.timezone,
                                              read_form(NewPartnerForm, request.POST).new_partner(),
                                              actor=actor(request), address=request.client_addr)
        except LpsError as exc:
            errors = _refused(request, exc, NEW_FIELDS + ("outlets",))
            if "outlets" in errors:
                errors["outlet_code"] = errors.pop("outlets")
        else:
            flash(request, texts.CREATED)
            return HTTPSeeOther(request.route_url("partners.view", code=partner.code))
    return _list_page(request, errors, form)


def _list_page(request, errors, form) -> dict:
    db = request.dbsession
    today = _today(request)
    rows = []
    for partner in db.scalars(services.partner_query().order_by("code")):
        in_force = services.contract_in_force(services.contracts_of(db, partner.id), today)
        rows.append((partner, services.outlets_of(db, partner.id), in_force))
    return {**LABELS, "rows": rows, "errors": errors, "form": form, "kinds": services.KINDS,
            "exchanges": sorted(request.plugins.of_kind(services.EXCHANGE))}


# --- One partner ------------------------------------------------------------------------------------

def _partner(request, *, lock=False):
    try:
        return services.get_partner(request.dbsession, request.matchdict["code"], lock=lock)
    except LpsError:
        raise HTTPNotFound() from None


def partner_page(request, partner, errors=None, form=None) -> dict:
    db = request.dbsession
    today = _today(request)
    contracts = services.contracts_of(db, partner.id)
    next_start = statements.next_period_start(db, partner.id)
    return {**LABELS, "partner": partner, "outlets": services.outlets_of(db, partner.id),
            "contracts": list(reversed(contracts)),
            "in_force": services.contract_in_force(contracts, today), "today": today,
            "closed": [(row, statements.Period(row.period_start, row.period_end).last)
                       for row in statements.closed_statements(db, partner.id)], "next_start": next_start,
            "this_month": today.strftime("%Y-%m"), "errors": errors or {}, "form": form or {},
            "cents": _cents, "changes": [change for change, (allowed, _) in services.CHANGES.items()
                                         if partner.status in allowed]}


@view_config(route_name="partners.view", renderer=TEMPLATES + "partner.pt", permission=Permission.PARTNERS_MANAGE)
def partner_view(request):
    return partner_page(request, _partner(request))


@view_config(route_name="partners.standing", request_method="POST", renderer=TEMPLATES + "partner.pt",
             permission=Permission.PARTNERS_MANAGE)
def standing(request):
    _head_office(request)
    partner = _partner(request)
    try:
        wanted = read_form(StandingForm, request.POST)
        services.change_standing(request.dbsession, partner.code, wanted.change, reason=wanted.reason,
                                 actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        errors = _refused(request, exc, ("change", "reason", "status"))
        return partner_page(request, partner, {"standing": errors}, {"reason": request.POST.get("reason", "")})
    request.registry.getUtility(IApiKeys).clear()  # this process's keys of its outlets see it at once
    flash(request, texts.STANDING_DONE[wanted.change])
    return HTTPSeeOther(request.route_url("partners.view", code=partner.code))


CONTRACT_FIELDS = ("effective_from", "issue_cost_per_point", "redeem_value_per_point", "cobrand_share", "note")


@view_config(route_name="partners.contracts", request_method="POST", renderer=TEMPLATES + "partner.pt",
             permission=Permission.PARTNERS_MANAGE)
def add_contract(request):
    _head_office(request)
    partner = _partner(request)
    try:
        terms = read_form(ContractForm, request.POST).terms()
        services.add_contract(request.dbsession, partner.code, terms, _today(request), actor=actor(request),
                              address=request.client_addr)
    except LpsError as exc:
        return partner_page(request, partner, {"contract": _refused(request, exc, CONTRACT_FIELDS)},
                            {name: request.POST.get(name, "") for name in CONTRACT_FIELDS})
    flash(request, texts.CONTRACT_ADDED)
    return HTTPSeeOther(request.route_url("partners.view", code=partner.code))


@view_config(route_name="partners.contract_withdraw", request_method="POST", renderer=TEMPLATES + "partner.pt",
             permission=Permission.PARTNERS_MANAGE)
def withdraw_contract(request):
    _head_office(request)
    partner = _partner(request)
    try:
        services.withdraw_contract(request.dbsession, partner.code, int(request.matchdict["id"]), _today(request),
                                   actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        return partner_page(request, partner, {"contract": _refused(request, exc, ())})
    flash(request, texts.CONTRACT_WITHDRAWN)
    return HTTPSeeOther(request.route_url("partners.view", code=partner.code))


ADJUSTMENT_FIELDS = ("direction", "amount", "reason")


@view_config(route_name="partners.adjustments", request_method="POST", renderer=TEMPLATES + "partner.pt",
             permission=Permission.PARTNERS_MANAGE)
def add_adjustment(request):
    _head_office(request)
    partner = _partner(request)
    try:
        wanted = read_form(AdjustmentForm, request.POST)
        services.add_adjustment(request.dbsession, partner.code, wanted.direction, wanted.amount_decimal(),
                                wanted.reason, actor=actor(request), address=request.client_addr)
    except LpsError as exc:
        return partner_page(request, partner, {"adjustment": _refused(request, exc, ADJUSTMENT_FIELDS)},
                            {name: request.POST.get(name, "") for name in ADJUSTMENT_FIELDS})
    flash(request, texts.ADJUSTMENT_ADDED)
    return HTTPSeeOther(request.route_url("partners.view", code=partner.code))


# --- A statement ------------------------------------------------------------------------------------

def _period(params):
    given = {name: params.get(name, "").strip() for name in ("period", "from", "to")}
    return period_of(validate(PeriodQuery, {name: value for name, value in given.items() if value}))


def _period_query(period) -> dict:
    label = period.label()
    if len(label) == 7:
        return {"period": label}
    return {"from": period.start.isoformat(), "to": period.last.isoformat()}


@view_config(route_name="partners.statement", renderer=TEMPLATES + "statement.pt",
             permission=Permission.PARTNERS_MANAGE)
def statement(request):
    partner = _partner(request)
    tz = request.programme.timezone
    try:
        period = _period(request.params)
        shown = statements.statement_for(request.dbsession, tz, partner, period)
    except LpsError as exc:
        page = partner_page(request, partner, {"period": form_errors(exc.fields) or {"form": exc.message}},
                            {name: request.params.get(name, "") for name in ("period", "from", "to")})
        response = render_to_response(TEMPLATES + "partner.pt", page, request=request)
        response.status = exc.status
        return response
    export = request.params.get("format")
    if export in ("csv", "xlsx"):
        body = statement_csv(shown, tz) if export == "csv" else statement_xlsx(shown, tz)
        return download(body, f"statement-{partner.code}-{period.start.isoformat()}", export)
    today = _today(request)
    next_start = statements.next_period_start(request.dbsession, partner.id)
    may_close = shown.closed is None and period.end <= today and (next_start is None or period.start == next_start)
    return {**LABELS, "partner": partner, "statement": shown, "query": _period_query(period), "cents": _cents,
            "may_close": may_close, "printing": request.params.get("print") == "1", "tz": tz}


@view_config(route_name="partners.close", request_method="POST", renderer=TEMPLATES + "statement.pt",
             permission=Permission.PARTNERS_MANAGE)
def close(request):
    _head_office(request)
    partner = _partner(request)
    tz = request.programme.timezone
    try:
        period = _period(request.POST)
        statements.close_period(request.dbsession, tz, partner.code, period, _today(request), actor=actor(request),
                                address=request.client_addr)
    except LpsError as exc:  # refused before anything is written: told on the partner's page
        flash(request, exc.message)
        return HTTPSeeOther(request.route_url("partners.view", code=partner.code))
    flash(request, texts.CLOSED)
    return HTTPSeeOther(request.route_url("partners.statement", code=partner.code, _query=_period_query(period)))
