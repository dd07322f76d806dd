"""The staff screens of database marketing (精准营销): segments with their live count, a preview
and an export; campaigns with their schedule, control group and results. Permission
promotions.manage (the programme's offers)."""


def includeme(config):
    config.add_route("marketing", "/marketing")
    config.add_route("marketing.segment", "/marketing/segments/{id:\\d+}")
    config.add_route("marketing.segment_new", "/marketing/segments/new")
    config.add_route("marketing.segment_export", "/marketing/segments/{id:\\d+}/export")
    config.add_route("marketing.campaign_new", "/marketing/campaigns/new")
    config.add_route("marketing.campaign", "/marketing/campaigns/{id:\\d+}")
    config.scan("lps_core.screens.marketing.views")
