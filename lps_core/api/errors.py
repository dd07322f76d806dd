"""Every API failure is a JSON body with a code, a message and the bad fields; never a traceback."""
import logging

from pyramid.httpexceptions import HTTPException
from pyramid.view import exception_view_config, notfound_view_config

from lps_core.errors import LpsError

log = logging.getLogger(__name__)


@exception_view_config(LpsError, renderer="json")
def lps_error(exc, request):
    request.response.status = exc.status
    if exc.status == 401:
        request.response.headers["WWW-Authenticate"] = 'Bearer realm="lps"'
    return exc.as_json()


@notfound_view_config(renderer="json", path_info=r"^/api/")
def api_not_found(request):
    request.response.status = 404
    return {"error": "not_found", "message": f"no API resource at {request.path}"}


@exception_view_config(HTTPException, renderer="json", path_info=r"^/api/")
def api_http_error(exc, request):
    request.response.status = exc.status
    return {"error": exc.title.lower().replace(" ", "_"), "message": exc.explanation or exc.title}


@exception_view_config(Exception, renderer="json", path_info=r"^/api/")
def api_internal_error(exc, request):
    log.exception("unhandled error in %s %s", request.method, request.path)
    request.response.status = 500
    return {"error": "internal_error", "message": "the server failed to handle this request; it was logged"}
