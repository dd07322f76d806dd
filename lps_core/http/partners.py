"""Partners API (scope partners.manage, for headquarters' systems): create partners and franchise
stores with their outlets, suspend, reactivate and end them, add contract versions and manual
adjustments, read a period's statement (JSON, CSV or XLSX) and close it. Thin: read the input
through the operation's schema, call lps_core.partners (which audits), shape the answer."""
from pyramid.view import view_config

from lps_core.audit.services import Actor
from lps_core.components import IApiKeys
from lps_core.exports import XLSX_TYPE, download
from lps_core.http.document import answer, problems
from lps_core.http.operations import Operation, read_body, read_path, read_query
from lps_core.http.request import authenticate
from lps_core.partners import services, statements
from lps_core.partners.exports import statement_csv, statement_json, statement_xlsx
from lps_core.partners.schemas import (
    AdjustmentIn,
    ContractIn,
    PartnerIn,
    PartnerPath,
    PeriodQuery,
    StandingIn,
    StatementQuery,
    period_of,
)
from lps_core.timeutil import isoformat, utcnow

SCOPE = "partners.manage"


def includeme(config):
    config.add_route("api.partners", "/api/v1/partners")
    config.add_route("api.partner", "/api/v1/partners/{code}")
    for change in services.CHANGES:
        config.add_route(f"api.partner_{change}", f"/api/v1/partners/{{code}}/{change}")
    config.add_route("api.partner_contracts", "/api/v1/partners/{code}/contracts")
    config.add_route("api.partner_adjustments", "/api/v1/partners/{code}/adjustments")
    config.add_route("api.partner_statements", "/api/v1/partners/{code}/statements")
    config.add_route("api.partner_statement", "/api/v1/partners/{code}/statement")
    config.add_route("api.partner_statement_close", "/api/v1/partners/{code}/statement/close")
    config.add_api_operations(OPERATIONS, SCHEMAS)
    config.scan(__name__)


STANDING = {"suspend": "Suspend a partner: its outlets post nothing until it is reactivated",
            "reactivate": "Reactivate a suspended partner",
            "end": "End a partner or franchise store: its history stays, its members' points stay valid elsewhere"}
OPERATIONS = [
    Operation("api.partners", "get", "listPartners", "Partners and franchise stores, by code",
              {"200": answer("The partners", schema={"type": "object", "properties": {"partners": {
                  "type": "array", "items": {"$ref": "#/components/schemas/Partner"}}}}), **problems(401, 403)},
              scope=SCOPE),
    Operation("api.partners", "post", "createPartner", "Create a partner or franchise store with its outlets",
              {"201": answer("Created", "Partner"), **problems(401, 403, 409, 413, 422)}, scope=SCOPE,
              body=PartnerIn, description="A code taken by any property, or an outlet code taken, is 409 naming it."),
    Operation("api.partner", "get", "getPartner", "One partner with its outlets and contract versions",
              {"200": answer("The partner", "Partner"), **problems(401, 403, 404)}, scope=SCOPE, path=PartnerPath),
    *[Operation(f"api.partner_{change}", "post", f"{change}Partner", summary,
                {"200": answer("Its new standing", "Partner"), **problems(401, 403, 404, 409, 413)}, scope=SCOPE,
                path=PartnerPath, body=StandingIn, body_required=False,
                description="A change its standing does not allow (an ended partner) is 409 naming status.")
      for change, summary in STANDING.items()],
    Operation("api.partner_contracts", "post", "addPartnerContract", "Add a version of the partner's contract",
              {"201": answer("Added", "PartnerContract"), **problems(401, 403, 404, 409, 413, 422)}, scope=SCOPE,
              path=PartnerPath, body=ContractIn,
              description="A version in force is never changed: a later version starts today at the earliest "
                          "(409 naming effective_from); only the first version may start in the past."),
    Operation("api.partner_adjustments", "post", "addPartnerAdjustment",
              "A manual adjustment of what is owed, on the next statement to be closed",
              {"201": answer("Recorded", schema={"type": "object"}), **problems(401, 403, 404, 413, 422)}, scope=SCOPE,
              path=PartnerPath, body=AdjustmentIn),
    Operation("api.partner_statements", "get", "listPartnerStatements", "The partner's closed statements",
              {"200": answer("Closed statements, newest first, and where the next period starts",
                             schema={"type": "object"}), **problems(401, 403, 404)}, scope=SCOPE, path=PartnerPath),
    Operation("api.partner_statement", "get", "getPartnerStatement", "The statement of a month or custom period",
              {"200": {"description": "The statement, as JSON, CSV or XLSX (format)", "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/PartnerStatement"}},
                  "text/csv": {"schema": {"type": "string"}},
                  XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
               **problems(401, 403, 404, 409, 422)}, scope=SCOPE, path=PartnerPath, query=StatementQuery,
              description="A closed period answers its stored statement; an open one is computed from the ledger. "
                          "A period overlapping a closed one otherwise is 409 naming period."),
    Operation("api.partner_statement_close", "post", "closePartnerStatement", "Close a period: its statement is stored for good",
              {"201": answer("Closed", "PartnerStatement"), "200": answer("Already closed", "PartnerStatement"),
               **problems(401, 403, 404, 409, 422)}, scope=SCOPE, path=PartnerPath, query=PeriodQuery,
              description="409 naming period when the period has not ended, is not the next one, or holds a line "
                          "no contract version prices."),
]

SCHEMAS = {
    "Partner": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string", "enum": list(services.KINDS)},
        "status": {"type": "string", "enum": list(services.STANDINGS)},
        "joined_at": {"type": "string", "format": "date-time", "nullable": True},
        "ended_at": {"type": "string", "format": "date-time", "nullable": True},
        "exchange_component": {"type": "string", "nullable": True},
        "outlets": {"type": "array", "items": {"type": "object"}},
        "contracts": {"type": "array", "items": {"$ref": "#/components/schemas/PartnerContract"}}}},
    "PartnerContract": {"type": "object", "properties": {
        "id": {"type": "integer"}, "effective_from": {"type": "string", "format": "date"},
        "issue_cost_per_point": {"type": "string"}, "redeem_value_per_point": {"type": "string"},
        "cobrand_share": {"type": "string"}, "note": {"type": "string", "nullable": True}}},
    "PartnerStatement": {"type": "object", "properties": {
        "partner": {"type": "string"}, "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date", "description": "The last day, included"},
        "status": {"type": "string", "enum": ["open", "closed"]}, "points_issued": {"type": "integer"},
        "points_redeemed": {"type": "integer"}, "benefit_cost": {"type": "string"},
        "due_from_partner": {"type": "string"}, "due_to_partner": {"type": "string"},
        "net": {"type": "string", "description": "What the partner pays LPS; negative: what LPS pays the partner"},
        "lines": {"type": "array", "items": {"type": "object"}}}},
}


def partner_json(db, partner) -> dict:
    return {"code": partner.code, "name": partner.name, "kind": partner.kind, "status": partner.status,
            "joined_at": isoformat(partner.joined_at) if partner.joined_at else None,
            "ended_at": isoformat(partner.ended_at) if partner.ended_at else None,
            "exchange_component": partner.exchange_component,
            "outlets": [{"code": o.code, "name": o.name, "active": o.active}
                        for o in services.outlets_of(db, partner.id)],
            "contracts": [services.contract_json(c) for c in services.contracts_of(db, partner.id)]}


def _actor(request):
    key = request.verified_api_key
    return Actor.api_key(key.id, f"{key.prefix} ({key.label})" if key.label else key.prefix)


def _today(request):
    return utcnow().astimezone(request.programme.timezone).date()


@view_config(route_name="api.partners", request_method="GET", require_csrf=False, renderer="json")
def list_partners(request):
    authenticate(request, SCOPE)
    db = request.dbsession
    return {"partners": [partner_json(db, p) for p in db.scalars(services.partner_query().order_by("code"))]}


@view_config(route_name="api.partners", request_method="POST", require_csrf=False, renderer="json")
def create_partner(request):
    authenticate(request, SCOPE)
    body = read_body(request)
    partner = services.create_partner(request.dbsession, request.plugins, request.programme.timezone,
                                      body.new_partner(), actor=_actor(request), address=request.client_addr)
    request.response.status = 201
    return partner_json(request.dbsession, partner)


@view_config(route_name="api.partner", request_method="GET", require_csrf=False, renderer="json")
def get_partner(request):
    authenticate(request, SCOPE)
    return partner_json(request.dbsession, services.get_partner(request.dbsession, read_path(request).code))


def _change_standing(request, change):
    authenticate(request, SCOPE)
    code = read_path(request).code
    body = read_body(request)
    partner = services.change_standing(request.dbsession, code, change, reason=body.reason,
                                       actor=_actor(request), address=request.client_addr)
    request.registry.getUtility(IApiKeys).clear()  # this process's keys of its outlets see it at once
    return partner_json(request.dbsession, partner)


@view_config(route_name="api.partner_suspend", request_method="POST", require_csrf=False, renderer="json")
def suspend(request):
    return _change_standing(request, "suspend")


@view_config(route_name="api.partner_reactivate", request_method="POST", require_csrf=False, renderer="json")
def reactivate(request):
    return _change_standing(request, "reactivate")


@view_config(route_name="api.partner_end", request_method="POST", require_csrf=False, renderer="json")
def end(request):
    return _change_standing(request, "end")


@view_config(route_name="api.partner_contracts", request_method="POST", require_csrf=False, renderer="json")
def add_contract(request):
    authenticate(request, SCOPE)
    code = read_path(request).code
    body = read_body(request)
    contract = services.add_contract(request.dbsession, code, body.terms(), _today(request), actor=_actor(request),
                                     address=request.client_addr)
    request.response.status = 201
    return services.contract_json(contract)


@view_config(route_name="api.partner_adjustments", request_method="POST", require_csrf=False, renderer="json")
def add_adjustment(request):
    authenticate(request, SCOPE)
    code = read_path(request).code
    body = read_body(request)
    made = services.add_adjustment(request.dbsession, code, body.direction, body.amount_decimal(), body.reason,
                                   actor=_actor(request), address=request.client_addr)
    request.response.status = 201
    return {"id": made.id, "direction": made.direction, "amount": str(made.amount), "reason": made.reason,
            "created_at": isoformat(made.created_at)}


@view_config(route_name="api.partner_statements", request_method="GET", require_csrf=False, renderer="json")
def list_statements(request):
    authenticate(request, SCOPE)
    db = request.dbsession
    partner = services.get_partner(db, read_path(request).code)
    start = statements.next_period_start(db, partner.id)
    return {"partner": partner.code, "next_period_start": start.isoformat() if start else None,
            "statements": [{"id": s.id, "period_start": s.period_start.isoformat(),
                            "period_end": statements.Period(s.period_start, s.period_end).last.isoformat(),
                            "points_issued": s.points_issued, "points_redeemed": s.points_redeemed,
                            "net": str(s.net), "closed_at": isoformat(s.closed_at), "closed_by": s.closed_by}
                           for s in statements.closed_statements(db, partner.id)]}


@view_config(route_name="api.partner_statement", request_method="GET", require_csrf=False, renderer="json")
def get_statement(request):
    authenticate(request, SCOPE)
    db = request.dbsession
    partner = services.get_partner(db, read_path(request).code)
    query = read_query(request)
    tz = request.programme.timezone
    statement = statements.statement_for(db, tz, partner, period_of(query))
    if query.format == "json":
        return statement_json(statement, tz)
    body = statement_csv(statement, tz) if query.format == "csv" else statement_xlsx(statement, tz)
    return download(body, f"statement-{partner.code}-{statement.period.start.isoformat()}", query.format)


@view_config(route_name="api.partner_statement_close", request_method="POST", require_csrf=False, renderer="json")
def close_statement(request):
    authenticate(request, SCOPE)
    code = read_path(request).code
    period = period_of(read_query(request))
    tz = request.programme.timezone
    statement, already = statements.close_period(request.dbsession, tz, code, period, _today(request),
                                                 actor=_actor(request), address=request.client_addr)
    request.response.status = 200 if already else 201
    return statement_json(statement, tz)
