"""A catalogue of Reports served by the API, written once for the reports (lps_core.http.reports)
and the analytics views (lps_core.http.analytics): GET <path>/<name> for each name, with the
`reports` scope, answering the Report as JSON or as a CSV or XLSX file by `format`.

Each name gets its own route and Operation, so the OpenAPI document shows each one's summary and
filters, and read_query() validates a request with the schema its operation shows."""
from typing import get_args

from pyramid.response import Response

from lps_core.exports import XLSX_TYPE
from lps_core.reports.report import report_download
from lps_core.http.document import problems
from lps_core.http.operations import Operation, read_query
from lps_core.http.request import authenticate

# A key with this scope reads the whole programme's figures, whichever outlet it belongs to: the
# scope is for head office and finance systems, granted only by name.
SCOPE = "reports"
_MONEY_OR_NUMBER = {"description": "Money as a decimal string, counts as integers, ratios as decimal strings"}


def add_catalogue_api(config, *, prefix, path, names, summaries, filters, runner, answer, schema, description):
    """Serve each of `names` at `{path}/{name}` as route `api.{prefix}_{name}` and operation
    `get{Prefix}{Name}` (both with dashes dropped). `filters[name]` is the name's query model,
    `runner(request, name, filters, export)` builds its Report (`export`: every row, not one page),
    `answer` describes the 200 answer and `schema` names the component its JSON body is."""
    def catalogue_view(request):
        authenticate(request, SCOPE)
        name = request.matched_route.pattern.rsplit("/", 1)[1]
        query = read_query(request)
        report = runner(request, name, query, export=query.format != "json")
        return report_response(report, query.format, name)

    for name in names:
        config.add_route(_route(prefix, name), f"{path}/{name}")
        config.add_view(catalogue_view, route_name=_route(prefix, name), request_method="GET", require_csrf=False)
    config.add_api_operations([
        Operation(_route(prefix, name), "get", _operation_id(prefix, name), summaries[name],
                  {"200": {"description": f"{answer}: JSON, or a CSV or XLSX file by `format`", "content": {
                      "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                      "text/csv": {"schema": {"type": "string"}},
                      XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                   **problems(401, 403, 422)},
                  scope=SCOPE, query=filters[name], description=description)
        for name in names
    ], {schema: report_schema(names, grains_of(filters.values()))})


def _route(prefix, name):
    return f"api.{prefix}_{name.replace('-', '_')}"


def _operation_id(prefix, name):
    return f"get{prefix.title()}" + "".join(part.title() for part in name.split("-"))


def grains_of(models) -> list:
    """The `group_by` values the query models accept, in their order: what a Report's period may
    say it is grouped by (taken from the models so the document cannot fall behind them)."""
    grains = []
    for model in models:
        field = model.model_fields.get("group_by")
        for choice in get_args(field.annotation) if field else ():  # Literal[...] | None
            grains += [grain for grain in get_args(choice) if grain not in grains]
    return grains


def report_schema(names, grains) -> dict:
    """The JSON schema of a Report (lps_core.reports.report) named by one of `names`, grouped by
    one of `grains`."""
    return {"type": "object", "properties": {
        "report": {"type": "string", "enum": list(names)},
        "title": {"type": "string"},
        "period": {"type": "object", "properties": {
            "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
            "group_by": {"type": "string", "enum": grains}, "time_zone": {"type": "string"},
            "starts_at": {"type": "string", "format": "date-time"},
            "ends_at": {"type": "string", "format": "date-time"}}},
        "filters": {"type": "object", "additionalProperties": {"type": "string"}},
        "outlets": {"type": "array", "items": {"type": "string"}, "nullable": True,
                    "description": "The outlets filtered on; null for every outlet"},
        "totals": {"type": "object", "additionalProperties": _MONEY_OR_NUMBER},
        "tables": {"type": "array", "items": {"type": "object", "properties": {
            "title": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "kind": {"type": "string", "enum": ["text", "integer", "money", "ratio", "date"]}}}},
            "rows": {"type": "array", "items": {"type": "object"}},
            "totals": {"type": "object", "nullable": True}}}},
        "chart": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "page": {"type": "object", "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                                                  "total": {"type": "integer"}}},
    }}


def report_response(report, format_, name):
    """The report as the format asks: a JSON body, or a CSV or XLSX download named for the report
    and its period."""
    if format_ == "json":
        return Response(json_body=report.as_json(), content_type="application/json", charset="utf-8")
    return report_download(report, format_, name)
