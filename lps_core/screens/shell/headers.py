"""Security headers on every answer of the staff screens.

- A Content-Security-Policy that allows only LPS's own scripts, styles and images (the templates
  carry no inline script, style or event handler: behaviour lives in static/*.js), and
  `frame-ancestors 'none'` so that no other site can frame a screen (click-jacking);
- `X-Content-Type-Options: nosniff` and a Referrer-Policy that sends no path to other sites;
- `Cache-Control: no-store` on every screen, since screens show members' personal data and the
  CSRF token: a shared computer's browser cache, or a proxy, keeps none of it.

A view that sets its own policy keeps it (the printable receipt allows its inline styles), with
`frame-ancestors 'none'` added when it says nothing about framing. Static files keep their cache
headers. The JSON API gets nosniff and the Referrer-Policy; it is no page to frame or to style."""
from pyramid.events import NewResponse

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
REFERRER_POLICY = "same-origin"


def add_security_headers(event):
    request, headers = event.request, event.response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    path = request.path_info
    if path.startswith("/api/"):
        return
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy}; frame-ancestors 'none'"
    headers.setdefault("X-Frame-Options", "DENY")
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"


def includeme(config):
    config.add_subscriber(add_security_headers, NewResponse)
