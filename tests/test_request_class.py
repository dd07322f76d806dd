"""The request properties (request.dbsession, request.programme, request.tm ...) live on one request
class made when the app is built: Pyramid no longer makes a class per request for them, and they
still work as before, each request with its own values."""
from pyramid.interfaces import IRequest, IRequestExtensions, IRequestFactory
from pyramid.request import Request
from webtest import TestApp

from lps_core import FEATURES, make_app
from lps_core.testing import TEST_SETTINGS

SETTINGS = {"sqlalchemy.url": "sqlite://", "lps.check_outlets_on_start": "false", **TEST_SETTINGS}


def seen_by_views(config):
    """A feature that adds a view answering what its request looked like."""
    config.add_request_method(lambda request: object(), "fresh_token", reify=True)
    config.add_request_method(lambda request, word: f"{word}!", "shout")
    config.add_route("test.request", "/test/request")

    def view(request):
        return {"class": id(type(request)), "name": type(request).__name__,
                "session": id(request.dbsession), "same_session": request.dbsession is request.dbsession,
                "token": id(request.fresh_token), "same_token": request.fresh_token is request.fresh_token,
                "shout": request.shout("earn"), "is_request": IRequest.providedBy(request),
                "has_tm": request.tm is not None, "timezone": str(request.lps_settings.timezone)}

    config.add_view(view, route_name="test.request", renderer="json")


def test_the_properties_are_on_one_class_made_at_start_up():
    app = make_app(SETTINGS, FEATURES + (seen_by_views,))
    factory = app.registry.getUtility(IRequestFactory)
    assert issubclass(factory, Request) and factory is not Request
    assert {"dbsession", "programme", "plugins", "tm", "fresh_token"} <= set(vars(factory))
    assert app.registry.getUtility(IRequestExtensions).descriptors == {}

    client = TestApp(app)
    first, second = client.get("/test/request").json, client.get("/test/request").json
    assert first["class"] == second["class"] == id(factory) and first["name"] == "Request"
    assert first["same_session"] and first["same_token"] and first["is_request"] and first["has_tm"]
    assert first["shout"] == "earn!" and first["timezone"] == "UTC"


def test_each_request_still_gets_its_own_values():
    app = make_app(SETTINGS, FEATURES + (seen_by_views,))
    factory = app.registry.getUtility(IRequestFactory)
    one, two = factory.blank("/"), factory.blank("/")
    assert one.fresh_token is one.fresh_token and one.fresh_token is not two.fresh_token
    assert "fresh_token" in vars(one)  # kept on the request, not on the shared class
