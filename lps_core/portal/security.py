"""The portal's own session, apart from the staff's.

- `lps_member` (path /portal) holds a random token naming a server-side portal session
  (lps_core.portal.sessions); `request.portal_member` is the signed-in member or None. The staff's
  `lps_staff` cookie is never read here, and the staff's security policy never reads `lps_member`:
  a staff session opens no portal page and a member's session opens no staff screen.
- `lps_portal` (path /portal) is a signed cookie session of its own secret (lps.portal.secret or
  LPS_PORTAL_SECRET; without one, a secret derived from the staff's lps.session.secret) carrying the portal's CSRF token, its flash messages and the card or phone a
  code was asked for. It is `request.portal_session`; the staff's `lps_session` is not used.

CSRF: one storage policy serves both sites by path: forms under /portal carry the token of
`lps_portal`, every other form the staff session's, so Pyramid's CSRF check applies to every
form of both (require_csrf is on for every view)."""
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from types import SimpleNamespace

from pyramid.csrf import LegacySessionCSRFStoragePolicy
from pyramid.interfaces import ICSRFStoragePolicy
from pyramid.session import SignedCookieSessionFactory
from pyramid.settings import asbool
from pyramid.util import strings_differ
from sqlalchemy import select, update
from webob.cookies import make_cookie
from zope.interface import implementer

from lps_core.components import ISettings, require
from lps_core.errors import ConfigurationError
from lps_core.members.models import Member
from lps_core.portal.sessions import end_session, session_member, start_session
from lps_core.settings import MESSAGE_LANGUAGES
from lps_core.timeutil import utcnow

log = logging.getLogger(__name__)
PREFIX = "/portal"
MEMBER_COOKIE = "lps_member"
SESSION_COOKIE = "lps_portal"


@dataclass(frozen=True)
class PortalSettings:
    """lps.portal.secret (LPS_PORTAL_SECRET), lps.portal.secure (default: lps.session.secure) and
    lps.portal.idle_timeout in seconds (default 1800)."""

    secret: str | None
    secure: bool
    idle_timeout: int

    @classmethod
    def from_settings(cls, settings, staff_secret=None):
        """From the ini settings; without a portal secret of its own, one derived from the staff
        session's secret (`staff_secret`), so that setting LPS_SESSION_SECRET is enough."""
        secret = os.environ.get("LPS_PORTAL_SECRET") or settings.get("lps.portal.secret") or None
        if secret is None and staff_secret:
            secret = hmac.new(staff_secret.encode(), b"lps.portal.session", hashlib.sha256).hexdigest()
        secure = asbool(settings.get("lps.portal.secure", settings.get("lps.session.secure", False)))
        raw_timeout = settings.get("lps.portal.idle_timeout", "1800")
        try:
            idle_timeout = int(raw_timeout)
        except (TypeError, ValueError):
            idle_timeout = 0
        if idle_timeout < 1:
            raise ConfigurationError(f"lps.portal.idle_timeout must be a whole number of seconds, not {raw_timeout!r}")
        if secure and not secret:
            raise ConfigurationError("lps.portal.secret (or lps.session.secret) is required with secure cookies: "
                                     "set LPS_PORTAL_SECRET")
        return cls(secret, secure, idle_timeout)


def in_portal(request) -> bool:
    path = request.path_info
    return path == PREFIX or path.startswith(PREFIX + "/")


@implementer(ICSRFStoragePolicy)
class PortalCSRFStoragePolicy:
    """The portal's token for forms under /portal, the staff session's for every other form."""

    def __init__(self):
        self.staff = LegacySessionCSRFStoragePolicy()

    def new_csrf_token(self, request):
        return request.portal_session.new_csrf_token() if in_portal(request) else self.staff.new_csrf_token(request)

    def get_csrf_token(self, request):
        return request.portal_session.get_csrf_token() if in_portal(request) else self.staff.get_csrf_token(request)

    def check_csrf_token(self, request, supplied_token):
        if not in_portal(request):
            return self.staff.check_csrf_token(request, supplied_token)
        expected = self.get_csrf_token(request)
        return not strings_differ(expected.encode("utf-8"), (supplied_token or "").encode("utf-8"))


def portal_member(request):
    """The signed-in member (id, name, status, email, tier_id) or None; an idle session ends here."""
    settings = request.registry.portal_settings
    member_id, idle = session_member(request.dbsession, request.cookies.get(MEMBER_COOKIE), utcnow(),
                                     settings.idle_timeout)
    if idle:
        request.portal_session.flash("idle")
    if member_id is None:
        return None
    row = db_member(request.dbsession, member_id)
    return row if row is not None and row.status in ("active", "dormant", "suspended") else None


def db_member(db, member_id):
    row = db.execute(select(Member.id, Member.name, Member.status, Member.email, Member.tier_id)
                     .where(Member.id == member_id)).one_or_none()
    return SimpleNamespace(**row._asdict()) if row is not None else None


def remember_member(request, member_id) -> list:
    """Start a portal session (a fresh token and CSRF token: no session fixation); the headers to send.
    The member's messages follow the language they use the portal in."""
    settings = request.registry.portal_settings
    remember_language(request, member_id)
    request.portal_session.invalidate()
    request.portal_session.new_csrf_token()
    token = start_session(request.dbsession, member_id, utcnow(), address=request.client_addr,
                          idle_seconds=settings.idle_timeout)
    return [("Set-Cookie", member_cookie(settings, token))]


def remember_language(request, member_id):
    if request.locale_name in MESSAGE_LANGUAGES:
        request.dbsession.execute(update(Member).where(Member.id == member_id, Member.language.is_distinct_from(
            request.locale_name)).values(language=request.locale_name))


def forget_member(request) -> list:
    end_session(request.dbsession, request.cookies.get(MEMBER_COOKIE))
    request.portal_session.invalidate()
    return [("Set-Cookie", member_cookie(request.registry.portal_settings, None))]


def dead_member_cookie(request) -> list:
    """Headers that drop a member cookie naming no live session; none when there is no such cookie."""
    if MEMBER_COOKIE not in request.cookies:
        return []
    return [("Set-Cookie", member_cookie(request.registry.portal_settings, None))]


def member_cookie(settings, token):
    return make_cookie(MEMBER_COOKIE, token or "", max_age=None if token else 0, path=PREFIX,
                       secure=settings.secure, httponly=True, samesite="Lax")


def includeme(config):
    staff_secret = require(config.registry, ISettings, "lps_core.portal").session.secret
    settings = PortalSettings.from_settings(config.registry.settings, staff_secret)
    config.registry.portal_settings = settings
    secret = settings.secret
    if not secret:
        log.warning("lps.portal.secret is not set: using a random one, so portal forms in progress end when LPS "
                    "restarts")
        secret = secrets.token_hex(32)
    factory = SignedCookieSessionFactory(secret, cookie_name=SESSION_COOKIE, path=PREFIX, httponly=True,
                                         samesite="Lax", secure=settings.secure, timeout=settings.idle_timeout,
                                         salt="lps.portal.")
    config.add_request_method(factory, "portal_session", reify=True)
    config.add_request_method(portal_member, "portal_member", reify=True)
    config.set_csrf_storage_policy(PortalCSRFStoragePolicy())
