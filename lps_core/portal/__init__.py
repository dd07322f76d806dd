"""The members' portal: a mobile-first site under /portal, in English and Chinese, with its own
session (lps_core.portal.security): members apply for membership or claim their card, sign in with
a password or a one-time code, and see their points, tier, rewards, appeals and profile.
docs/portal.md describes it for staff and IT."""


def includeme(config):
    config.include("lps_core.portal.security")
    config.add_static_view("portal/static", "lps_core.portal:static", cache_max_age=3600)
    config.add_route("portal.home", "/portal")
    config.add_route("portal.sign_in", "/portal/sign-in")
    config.add_route("portal.sign_out", "/portal/sign-out")
    config.add_route("portal.code", "/portal/code/{purpose}")
    config.add_route("portal.register", "/portal/register")
    config.add_route("portal.points", "/portal/points")
    config.add_route("portal.rewards", "/portal/rewards")
    config.add_route("portal.cancel", "/portal/reservations/{number}/cancel")
    config.add_route("portal.appeals", "/portal/appeals")
    config.add_route("portal.profile", "/portal/profile")
    config.add_route("portal.preferences", "/portal/profile/preferences")
    config.add_route("portal.consent", "/portal/profile/consent")
    config.add_route("portal.password", "/portal/profile/password")
    config.add_route("portal.lost", "/portal/profile/lost")
    config.add_route("portal.inbox", "/portal/inbox")
    config.scan("lps_core.portal.views")
    config.include("lps_core.portal.handover")  # the website's handover (docs/website.md)
