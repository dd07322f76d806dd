"""Staff web screens. For now the landing page; the screens themselves arrive feature by feature."""


def includeme(config):
    config.add_static_view("static", "lps_core.web:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.scan("lps_core.web.views")
