"""Every API failure is an RFC 9457 problem (`application/problem+json`) naming the bad fields; never a
traceback. A path that exists answers 405 with `Allow` for a method it does not have."""
import logging

from pyramid.httpexceptions import HTTPException
from pyramid.interfaces import IRoutesMapper
from pyramid.view import exception_view_config, notfound_view_config

from lps_core.errors import LpsError, MethodNotAllowed, NotFound, ServiceUnavailable
from lps_core.http.operations import operations_of

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(request, error: LpsError):
    """Renders `error` as the response's problem body (status, content type and headers set)."""
    response = request.response
    response.status = error.status
    response.content_type = PROBLEM_JSON
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lps"'
    if isinstance(error, ServiceUnavailable):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return error.as_json()


@exception_view_config(LpsError, renderer="json", path_info=r"^/api/")
def lps_error(exc, request):
    return problem(request, exc)


@notfound_view_config(renderer="json", path_info=r"^/api/")
def api_not_found(request):
    allowed = _allowed_methods(request)
    if allowed:
        request.response.headers["Allow"] = ", ".join(allowed)
        return problem(request, MethodNotAllowed(f"{request.method} is not allowed on {request.path}; "
                                                 f"use {', '.join(allowed)}", {"method": request.method}))
    return problem(request, NotFound(f"no API resource at {request.path}"))


@exception_view_config(HTTPException, renderer="json", path_info=r"^/api/")
def api_http_error(exc, request):
    error = LpsError(exc.explanation or exc.title)
    error.status, error.code, error.title = exc.code, exc.title.lower().replace(" ", "_"), exc.title
    return problem(request, error)


@exception_view_config(Exception, renderer="json", path_info=r"^/api/")
def api_internal_error(exc, request):
    log.exception("unhandled error in %s %s", request.method, request.path)
    error = LpsError("the server failed to handle this request; it was logged")
    error.status, error.code, error.title = 500, "internal_error", "Internal error"
    return problem(request, error)


def _allowed_methods(request):
    """The methods of the API path that `request.path_info` names. Where several patterns match
    (/cards/anonymous and /cards/{card_no}), the one with the fewest placeholders names the path."""
    operations = operations_of(request.registry)
    matching = [route for route in request.registry.getUtility(IRoutesMapper).get_routes()
                if operations.methods(route.name) and route.match(request.path_info) is not None]
    if not matching:
        return []
    route = min(matching, key=lambda route: route.pattern.count("{"))
    methods = operations.methods(route.name)
    return [] if request.method in methods else methods
