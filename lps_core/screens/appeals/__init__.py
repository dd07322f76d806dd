"""The staff screens for points appeals (积分申诉): the queue with its search and SLA clock, one
appeal with its approve and reject forms, and filing an appeal on a member's behalf."""


from lps_core.appeals.services import AppealSettings


def includeme(config):
    AppealSettings.from_mapping(config.registry.settings)  # a bad lps.appeals.* value stops start-up
    config.add_route("appeals", "/appeals")
    config.add_route("appeals.new", "/appeals/new")
    config.add_route("appeals.view", "/appeals/{id:\\d+}")
    config.add_route("appeals.receipt", "/appeals/{id:\\d+}/receipt")
    config.add_route("appeals.approve", "/appeals/{id:\\d+}/approve")
    config.add_route("appeals.reject", "/appeals/{id:\\d+}/reject")
    config.scan("lps_core.screens.appeals.views")
