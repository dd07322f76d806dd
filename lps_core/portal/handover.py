"""The handover from the hotel's website to the portal: the website, having signed a member in
itself, asks LPS for a token (POST /api/v1/website/handover, lps_core.http.website) and sends the
browser to /portal/handover?token=...; this view uses the token up and starts the member's portal
session with the portal's own session functions (lps_core.portal.security.remember_member), then
opens the portal page the website named.

A token is good once, for lps.website.handover_seconds, and is signed with a key derived from the
portal's secret (lps.portal.secret, or the one derived from lps.session.secret); without either,
a random key per process is used, as the portal's cookies do, and a warning says so. A token that
is not good (used, expired, forged) opens the sign-in page with a message, never a session."""
import logging
import secrets

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from lps_core.portal.security import remember_member
from lps_core.portal.texts import dgettext
from lps_core.website.services import handover_key, redeem_handover

log = logging.getLogger(__name__)
NOT_GOOD = dgettext("lps_portal", "This sign-in link from the hotel's website has expired or was used already. "
                                  "Please sign in here.")


def includeme(config):
    secret = config.registry.portal_settings.secret
    if not secret:
        log.warning("lps.portal.secret is not set: handover tokens from the website are signed with a random key, "
                    "so a token made by one LPS process is refused by another")
        secret = secrets.token_hex(32)
    config.registry.handover_key = handover_key(secret)
    config.add_route("portal.handover", "/portal/handover")
    config.scan(__name__)


@view_config(route_name="portal.handover", request_method="GET", permission=NO_PERMISSION_REQUIRED)
def handover(request):
    token = request.GET.get("token", "")
    found = redeem_handover(request.dbsession, token, key=request.registry.handover_key)
    if found is None:
        request.portal_session.flash(request.localizer.translate(NOT_GOOD), "error")
        return HTTPSeeOther(request.route_url("portal.sign_in"))
    member_id, next_path = found
    return HTTPSeeOther(request.application_url + next_path, headers=remember_member(request, member_id))
