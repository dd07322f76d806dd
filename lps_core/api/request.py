"""Authenticating API requests by their bearer key. Input is read through lps_core.api.operations."""
from lps_core.errors import Forbidden, Unauthorized


def bearer_key(request) -> str | None:
    """The key of an `Authorization: Bearer <key>` header; the scheme's case does not matter (RFC 9110)."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def authenticate(request, scope):
    """The OutletContext of the request's API key, if the key is live and carries `scope`."""
    key = bearer_key(request)
    if key is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", {"Authorization": "missing"})
    checked = request.registry["lps.api.keys"].check(request.dbsession, key)
    if checked is None:
        raise Unauthorized("the API key is not valid or has been revoked", {"Authorization": "invalid key"})
    outlet, scopes = checked
    if scope not in scopes:
        raise Forbidden(f"this API key may not use {scope!r}", {"Authorization": f"lacks scope {scope}"})
    return outlet


# TRANSITIONAL: the readers below serve the views not yet moved to lps_core.api.operations; they go
# when the last view reads its input through its operation's schema.
def json_body(request, *, optional=False):
    import json
    from decimal import Decimal

    from lps_core.api.operations import MAX_BODY_BYTES, BodyTooLarge
    from lps_core.errors import ValidationFailed
    from lps_core.validation import check_depth

    raw = request.body_file.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes", {"body": "too large"})
    if not raw.strip():
        if optional:
            return {}
        raise ValidationFailed("the body must be a JSON object", {"body": "is empty"})
    check_depth(raw)
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not valid JSON", {"body": f"is not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"})
    return data


def int_param(value, name, *, minimum=1, maximum=2**31 - 1, default=None):
    from lps_core.errors import ValidationFailed

    if value is None:
        return default
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not minimum <= int(text) <= maximum:
        raise ValidationFailed(f"{name} must be an integer {minimum} to {maximum}",
                               {name: f"must be an integer {minimum} to {maximum}"})
    return int(text)
