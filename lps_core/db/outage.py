"""When the database cannot be reached or does not answer in time, say so: 503 with Retry-After.

A connection refused or timed out, a statement cancelled by `lps.db.statement_timeout_ms` or cut
off by the watchdog, and no free pooled connection within `sqlalchemy.pool_timeout` are outages,
not bugs: the API answers an RFC 9457 problem (`service_unavailable`), the staff screens a short
page of their own that needs no database (the usual layout would look up the signed-in operator).
SQLAlchemy throws away the connections that failed, so the server recovers by itself once the
database is back; nothing needs a restart."""
import logging
from html import escape

from pyramid.response import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from lps_core.errors import ServiceUnavailable
from lps_core.i18n import _

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
OUTAGES = (OperationalError, InterfaceError, PoolTimeoutError)
MESSAGE = "the database is not available at the moment; try again in a few seconds"


def database_unavailable(exc, request):
    log.error("database unavailable during %s %s: %s", request.method, request.path,
              str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    error = ServiceUnavailable(MESSAGE)
    retry_after = str(error.retry_after_seconds)
    if request.path_info.startswith("/api/"):
        response = Response(json_body=error.as_json(), status=error.status, content_type=PROBLEM_JSON,
                            charset="utf-8")
    else:
        response = Response(_screen(request), status=error.status, content_type="text/html", charset="utf-8")
    response.headers["Retry-After"] = retry_after
    return response


def _screen(request) -> str:
    """The page, with no template: its texts are marked outside the f-string, as before Python 3.12
    an f-string is one token and the catalog extractor would not see a text marked inside it."""
    localizer = request.localizer
    title = localizer.translate(_("The system is busy"))
    text = localizer.translate(_("LPS cannot reach its database at the moment. Nothing was saved by this "
                                 "request. Please try again in a minute; if it goes on, call IT."))
    again = localizer.translate(_("Try again"))
    stylesheet = request.static_url("lps_core.screens.shell:static/lps.css")
    return (f'<!DOCTYPE html>\n<html lang="{escape(request.locale_name.replace("_", "-"))}">\n<head>\n'
            f'<meta charset="utf-8"><title>{escape(title)}</title>\n'
            f'<link rel="stylesheet" href="{escape(stylesheet)}">\n</head>\n'
            f'<body><main><h1>{escape(title)}</h1><p>{escape(text)}</p>'
            f'<p><a href="{escape(request.path_qs)}">{escape(again)}</a></p>'
            f'</main></body>\n</html>\n')


def includeme(config):
    for outage in OUTAGES:
        config.add_exception_view(database_unavailable, context=outage)
