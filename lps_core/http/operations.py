"""API operations declared once: the schemas a view reads its input with are the ones the OpenAPI
document shows, because both come from the same `Operation`.

A feature declares its operations in `<feature>/openapi.py` as `OPERATIONS` (and the JSON schemas of
its answers as `SCHEMAS`) and registers them in its `includeme` with `config.add_api_operations(...)`.
A view then reads its input with `read_body(request)`, `read_query(request)` and `read_path(request)`,
which look up the operation of the matched route and method: a view cannot validate with one schema
while the document shows another.
"""
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError
from zope.interface import Interface, implementer

from lps_core.errors import LpsError, NotFound, ValidationFailed
from lps_core.validation import failure, validate, validate_json

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(LpsError):
    status = 413
    code = "body_too_large"
    title = "Body too large"


@dataclass(frozen=True)
class Operation:
    """One method of one route of the API."""

    route: str  # the Pyramid route name
    method: str  # "get", "post", ...
    operation_id: str
    summary: str
    responses: dict  # status -> response object; see answer() and problems()
    scope: str | None = None  # the API key scope it needs; None: no key
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    description: str = ""
    tags: tuple[str, ...] = field(default=())


class IApiOperations(Interface):
    """Every declared API operation, by route name and method."""

    def add(operation):
        """Register an operation; a second one for the same route and method is an error."""

    def find(route, method):
        """The Operation, or None."""

    def methods(route):
        """The methods declared for a route name, upper case."""


@implementer(IApiOperations)
class ApiOperations:
    def __init__(self):
        self.by_key = {}
        self.schemas = {}
        self.document = None  # the OpenAPI document's bytes, built on first use, once every feature is in

    def add(self, operation):
        key = (operation.route, operation.method.lower())
        if key in self.by_key:
            raise ValueError(f"two API operations for {operation.method.upper()} {operation.route}")
        self.by_key[key] = operation

    def find(self, route, method):
        return self.by_key.get((route, method.lower()))

    def methods(self, route):
        return sorted(method.upper() for name, method in self.by_key if name == route)

    def __iter__(self):
        return iter(self.by_key.values())


def add_api_operations(config, operations, schemas=None):
    """Directive: `config.add_api_operations(OPERATIONS, SCHEMAS)`."""
    registry = config.registry.getUtility(IApiOperations)
    for operation in operations:
        registry.add(operation)
    registry.schemas.update(schemas or {})


def operations_of(registry) -> ApiOperations:
    return registry.getUtility(IApiOperations)


def _operation(request) -> Operation:
    route = request.matched_route.name if request.matched_route else None
    operation = operations_of(request.registry).find(route, request.method)
    if operation is None:
        raise LookupError(f"no API operation declared for {request.method} {route}")
    return operation


def read_body(request):
    """The request's JSON body, validated by its operation's body schema; an absent (zero-length) optional
    body is {}."""
    model = _operation(request).body
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes", {"body": "too large"})
    raw = request.body_file.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes", {"body": "too large"})
    if not raw and not _operation(request).body_required:
        return validate(model, {})
    if not raw.strip():  # sent, but blank: not the JSON the Content-Type promises
        raise ValidationFailed("the body must be a JSON object", {"body": "is empty"})
    return validate_json(model, raw)


def read_query(request):
    """The query string, validated by its operation's query schema; a repeated name is refused."""
    model = _operation(request).query
    values = {}
    for name, value in request.GET.items():
        if name in values:
            raise ValidationFailed("the query string has invalid fields", {name: "must be given once"})
        values[name] = value
    return validate(model, values, message="the query string has invalid fields")


def read_path(request):
    """The path parameters, validated by the operation's path schema. A malformed or out-of-range id
    is a 404, as for an id that does not exist: there is no such resource."""
    model = _operation(request).path
    try:
        return model.model_validate(dict(request.matchdict))
    except ValidationError as exc:
        raise NotFound(f"no API resource at {request.path}", failure(exc, "").fields) from None
