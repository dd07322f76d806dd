"""Staff web screens: sessions, sign-in, CSRF on every form, security headers, and the landing page.

The screens themselves (cashier, members, configuration) arrive feature by feature; this package
holds what they share: the layout, the session and the security policy."""
import logging
import secrets

from pyramid.session import SignedCookieSessionFactory

from lps_core.components import ISettings, require
from lps_core.screens.shell.security import StaffSecurityPolicy

log = logging.getLogger(__name__)


def includeme(config):
    session = require(config.registry, ISettings, "lps_core.screens.shell").session
    secret = session.secret
    if not secret:
        log.warning("lps.session.secret is not set: using a random one, so sessions end when LPS restarts")
        secret = secrets.token_hex(32)
    config.set_session_factory(SignedCookieSessionFactory(
        secret, cookie_name="lps_session", httponly=True, samesite="Lax", secure=session.secure,
        timeout=None,  # the security policy ends idle sessions itself, so it can say why
    ))  # CSRF token and flash messages only: who is signed in lives on the server (security.py)
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(StaffSecurityPolicy(session.idle_timeout, secure=session.secure))
    config.include("lps_core.screens.shell.i18n")
    config.include("lps_core.screens.shell.headers")
    config.add_static_view("static", "lps_core.screens.shell:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("password", "/password")
    config.scan("lps_core.screens.shell.views")
