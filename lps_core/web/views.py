"""The landing page: what this installation runs, for hotel IT checking a fresh install."""
from pyramid.view import view_config
from sqlalchemy import select

from lps_core.outlets.models import Outlet


@view_config(route_name="home", renderer="lps_core.web:templates/home.pt")
def home(request):
    outlets = request.dbsession.execute(
        select(Outlet.code, Outlet.name, Outlet.formula).where(Outlet.active.is_(True)).order_by(Outlet.code)
    ).all()
    plugins = request.registry["lps.plugins"]
    return {"outlets": outlets, "plugins": plugins.plugin_names(), "formulas": sorted(plugins.formulas)}
