"""One request class for the life of the app, with the request properties of `add_request_method`.

Pyramid applies the properties (`request.dbsession`, `request.programme`, `request.tm` ...) to
each request by creating a new subclass of its class for that request alone: a `type()` call on
every request, and a class that only the garbage collector frees. `bake_request_properties` creates
that subclass once, when the app is built, and makes it the request factory; the methods (not
properties) are still bound to each request by Pyramid as before."""
from pyramid.interfaces import IRequestExtensions, IRequestFactory
from pyramid.request import Request

_MARKER = object()


def bake_request_properties(registry) -> None:
    """Move the registered request properties onto one subclass of the request factory. Call it
    after the configuration is committed (every `add_request_method` applied) and before the WSGI
    app is made, which reads the factory and the extensions once."""
    extensions = registry.queryUtility(IRequestExtensions)
    if extensions is None or not extensions.descriptors:
        return
    base = registry.queryUtility(IRequestFactory, default=Request)
    baked = type(base.__name__, (base,), {"__module__": base.__module__, **extensions.descriptors})
    # As Pyramid does for its per-request class: the subclass takes its parent's interface
    # declarations instead of growing its own on the first adapter look-up.
    for name in ("__implemented__", "__provides__"):
        value = getattr(base, name, _MARKER)
        if value is not _MARKER:
            setattr(baked, name, value)
    registry.registerUtility(baked, IRequestFactory)
    extensions.descriptors = {}
