"""The OpenAPI 3.1 document of /api/v1, assembled from the declared operations (lps_core.http.operations).

Request bodies, query strings and path parameters are described by the same pydantic models that
validate them; the answers' schemas are each feature's `SCHEMAS`. The document is built once, when the
application is made, and served as bytes.
"""
import json

from pydantic.json_schema import models_json_schema
from pyramid.interfaces import IRoutesMapper

from lps_core.http.operations import operations_of

PROBLEM_CODES = {400: "Malformed input; `fields` names each bad field", 401: "Missing or invalid API key",
                 403: "The key's outlet or scopes do not allow this", 404: "Not found",
                 405: "Method not allowed on this path",
                 409: "Conflicts with what is recorded (replayed key with other content, over-refund, balance)",
                 413: "Body larger than 64 KiB", 422: "Names a card or thing that cannot be used",
                 503: "The database is unavailable; retry after the Retry-After seconds"}
PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail", "code"], "properties": {
    "type": {"type": "string", "example": "urn:lps:problem:validation_failed"},
    "title": {"type": "string"},
    "status": {"type": "integer"},
    "detail": {"type": "string"},
    "code": {"type": "string", "example": "validation_failed"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"},
               "example": {"amount": "must be greater than 0"}},
}}
DESCRIPTION = ("Loyalty programme API for outlets, tills and the hotel website. Every call needs "
               "`Authorization: Bearer <key>`; a key belongs to one outlet and carries scopes. Errors are "
               "`application/problem+json` (RFC 9457) with LPS's `code` and `fields` members.")


def answer(description, schema_name=None, schema=None):
    """A successful response whose body is the component `schema_name` (or an inline `schema`)."""
    response = {"description": description}
    if schema_name:
        schema = {"$ref": f"#/components/schemas/{schema_name}"}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


def problems(*codes):
    """The error responses of an operation, each a problem body. 400 and 503 may come from any call."""
    return {str(code): {"description": PROBLEM_CODES[code], "content": {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for code in sorted({*codes, 400, 503})}


def build_document(registry) -> dict:
    operations = list(operations_of(registry))
    mapper = registry.getUtility(IRoutesMapper)
    models = {model for op in operations for model in (op.body, op.query, op.path) if model is not None}
    refs, generated = models_json_schema([(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
                                         ref_template="#/components/schemas/{model}")
    schemas = {"Problem": PROBLEM, **_openapi_31(operations_of(registry).schemas), **generated.get("$defs", {})}
    paths = {}
    for op in sorted(operations, key=lambda op: (mapper.get_route(op.route).pattern, op.method)):
        entry = {"operationId": op.operation_id, "summary": op.summary,
                 "responses": _openapi_31(op.responses)}
        if op.description:
            entry["description"] = op.description
        if op.scope is None:
            entry["security"] = []
        else:
            entry["summary"] = f"{op.summary} (scope {op.scope})"
        parameters = _parameters(op.path, "path") + _parameters(op.query, "query")
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required, "content": {"application/json": {
                "schema": refs[(op.body, "validation")]}}}
        paths.setdefault(mapper.get_route(op.route).pattern, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "LPS API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
    }


def document_bytes(registry) -> bytes:
    return json.dumps(build_document(registry), indent=2).encode()


def _parameters(model, where):
    if model is None:
        return []
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = {key: value for key, value in prop.items() if key != "title"}
        description = prop.pop("description", None)
        parameter = {"name": name, "in": where, "required": where == "path" or name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _openapi_31(schema):
    """Hand-written schemas say `nullable: true` (OpenAPI 3.0); 3.1 says `type: [..., "null"]`."""
    if isinstance(schema, list):
        return [_openapi_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _openapi_31(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        elif "type" not in converted:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


# An amount of money as the API writes it; resource modules share it in their answers' schemas.
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "380.00",
           "description": "An amount as a decimal string with 2 decimals"}
