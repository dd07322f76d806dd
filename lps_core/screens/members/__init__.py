"""The staff screens for members: search, the member page, enrolment and approvals."""


def includeme(config):
    config.add_route("members", "/members")
    config.add_route("members.enrol", "/members/new")
    config.add_route("members.view", "/members/{id:\\d+}")
    config.add_route("members.edit", "/members/{id:\\d+}/edit")
    config.add_route("members.adjust", "/members/{id:\\d+}/points")
    config.add_route("members.contact", "/members/{id:\\d+}/contacts")
    config.add_route("members.family", "/members/{id:\\d+}/family")
    config.add_route("members.family_remove", "/members/{id:\\d+}/family/{family_id:\\d+}/remove")
    config.add_route("members.preferences", "/members/{id:\\d+}/preferences")
    config.add_route("members.card_status", "/members/{id:\\d+}/cards/{card_no}/status")
    config.add_route("members.card_replace", "/members/{id:\\d+}/cards/{card_no}/replace")
    config.add_route("members.membership", "/members/{id:\\d+}/membership")
    config.add_route("members.membership_cancel", "/members/{id:\\d+}/membership/{card_no}/cancel")
    config.add_route("members.approvals", "/approvals")
    config.add_route("members.approve", "/approvals/{id:\\d+}/approve")
    config.add_route("members.reject", "/approvals/{id:\\d+}/reject")
    config.scan("lps_core.screens.members.views")
    config.scan("lps_core.screens.members.membership")
