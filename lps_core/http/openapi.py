"""The OpenAPI document, GET /api/v1/openapi.json: assembled from the operations that each resource
module of this package, and each plugin that adds routes, declares with config.add_api_operations."""
from pyramid.response import Response
from pyramid.view import view_config

from lps_core.http.document import answer, document_bytes
from lps_core.http.operations import Operation, operations_of


def includeme(config):
    config.add_route("api.openapi", "/api/v1/openapi.json")
    config.add_api_operations(OPERATIONS, {})
    config.scan(__name__)


OPERATIONS = [
    Operation("api.openapi", "get", "getOpenApi", "This document", {"200": answer("OpenAPI 3.1 document")}),
]


@view_config(route_name="api.openapi", request_method="GET", require_csrf=False)
def openapi(request):
    """Built from the declared operations once every feature and plugin is included; needs no database."""
    operations = operations_of(request.registry)
    if operations.document is None:
        operations.document = document_bytes(request.registry)
    return Response(body=operations.document, content_type="application/json")
