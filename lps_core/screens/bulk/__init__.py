"""The staff screens of the bulk exchange (先浏览，确认后再传): exports, the upload of an import
file, its preview (paginated, filtered by action) with conflicts resolved beside their rows, the
confirm, and a progress bar while the confirmed rows are applied chunk by chunk."""


def includeme(config):
    config.add_route("bulk", "/bulk")
    config.add_route("bulk.export", "/bulk/export")
    config.add_route("bulk.imports", "/bulk/imports")
    config.add_route("bulk.resolve", "/bulk/imports/{id:\\d+}/resolve")
    config.add_route("bulk.skip_conflicts", "/bulk/imports/{id:\\d+}/skip-conflicts")
    config.add_route("bulk.confirm", "/bulk/imports/{id:\\d+}/confirm")
    config.add_route("bulk.apply", "/bulk/imports/{id:\\d+}/apply")
    config.add_route("bulk.discard", "/bulk/imports/{id:\\d+}/discard")
    config.add_static_view("bulk/static", "lps_core.screens.bulk:static", cache_max_age=3600)
    config.scan("lps_core.screens.bulk.views")
