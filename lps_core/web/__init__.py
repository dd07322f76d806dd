"""Staff web screens: sessions, sign-in, CSRF on every form, security headers, and the landing page.

The screens themselves (cashier, members, configuration) arrive feature by feature; this package
holds what they share: the layout, the session and the security policy."""
import logging
import secrets

from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool

from lps_core.errors import ConfigurationError
from lps_core.web.security import StaffSecurityPolicy

log = logging.getLogger(__name__)


def includeme(config):
    settings = config.get_settings()
    secret = settings.get("lps.session.secret")
    if not secret and asbool(settings.get("lps.session.secure", False)):
        raise ConfigurationError("lps.session.secret is required with secure sessions: set LPS_SESSION_SECRET")
    if not secret:
        log.warning("lps.session.secret is not set: using a random one, so sessions end when LPS restarts")
        secret = secrets.token_hex(32)
    config.set_session_factory(SignedCookieSessionFactory(
        secret, cookie_name="lps_session", httponly=True, samesite="Lax",
        secure=asbool(settings.get("lps.session.secure", False)),
        timeout=None,  # the security policy ends idle sessions itself, so it can say why
    ))  # CSRF token and flash messages only: who is signed in lives on the server (security.py)
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(StaffSecurityPolicy(settings["lps.session.idle_timeout"],
                                                   secure=asbool(settings.get("lps.session.secure", False))))
    config.include("lps_core.web.i18n")
    config.include("lps_core.web.headers")
    config.add_static_view("static", "lps_core.web:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("password", "/password")
    config.scan("lps_core.web.views")
