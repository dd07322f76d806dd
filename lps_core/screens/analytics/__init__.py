"""The analytics screens (会员分析): the list of views, and each view with its filters, headline
figures, chart (Apache ECharts, vendored in the shell's static folder), tables and CSV and XLSX
exports, within the operator's outlets. The RFM view's quadrants open as member lists. Permission
reports.view."""


def includeme(config):
    from lps_core.analytics.settings import AnalyticsSettings

    AnalyticsSettings.from_mapping(config.registry.settings)
    config.add_route("analytics", "/analytics")
    config.add_route("analytics.view", "/analytics/{name}")
    config.scan("lps_core.screens.analytics.views")
