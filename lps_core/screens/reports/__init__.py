"""The report screens (报表): the list of reports, and each report with its filters, totals, chart
(Apache ECharts, vendored in the shell's static folder), tables, print stylesheet and its CSV and
XLSX exports, within the operator's outlets. Permission reports.view."""


def includeme(config):
    from lps_core.reports.settings import ReportSettings

    ReportSettings.from_mapping(config.registry.settings)  # a bad lps.reports.* value stops start-up
    config.add_route("reports", "/reports")
    config.add_route("reports.view", "/reports/{name}")
    config.scan("lps_core.screens.reports.views")
