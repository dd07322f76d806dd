"""Authenticating API requests by their bearer key. Input is read through lps_core.http.operations."""
from lps_core.components import IApiKeys
from lps_core.errors import Forbidden, Unauthorized
from lps_core.partners.standing import require_posting

READS = ("GET", "HEAD", "OPTIONS")


def bearer_key(request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; the scheme's case does not matter (RFC 9110)."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def authenticate(request, scope):
    """The OutletContext of the request's API key, if the key is live and carries `scope`. The
    VerifiedKey stays on the request as `verified_api_key`, so that the records naming the key
    read it from there rather than from the database. A key of a suspended or ended partner's
    outlet may still read, but posts nothing (422 naming the outlet)."""
    key = bearer_key(request)
    if key is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", {"Authorization": "missing"})
    checked = request.registry.getUtility(IApiKeys).check(request.dbsession, key)
    if checked is None:
        raise Unauthorized("the API key is not valid or has been revoked", {"Authorization": "invalid key"})
    if scope not in checked.scopes:
        raise Forbidden(f"this API key may not use {scope!r}", {"Authorization": f"lacks scope {scope}"})
    if request.method not in READS:
        require_posting(checked.outlet.code, checked.standing, checked.property_code)
    request.verified_api_key = checked
    return checked.outlet

