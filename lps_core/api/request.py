"""Reading API requests: the bearer key, the JSON body and query parameters, each checked."""
import json
from decimal import Decimal

from lps_core.errors import Forbidden, LpsError, Unauthorized, ValidationFailed

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(LpsError):
    status = 413
    code = "body_too_large"


def authenticate(request, scope):
    """The OutletContext of the request's API key, if the key is live and carries `scope`."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'", {"Authorization": "missing"})
    checked = request.registry["lps.api.keys"].check(request.dbsession, header[7:].strip())
    if checked is None:
        raise Unauthorized("the API key is not valid or has been revoked", {"Authorization": "invalid key"})
    outlet, scopes = checked
    if scope not in scopes:
        raise Forbidden(f"this API key may not use {scope!r}", {"Authorization": f"lacks scope {scope}"})
    return outlet


def json_body(request, *, optional=False):
    """The parsed JSON object of the body; numbers with a fraction become Decimal, never float."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes", {"body": "too large"})
    raw = request.body_file.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes", {"body": "too large"})
    if not raw.strip():
        if optional:
            return {}
        raise ValidationFailed("the body must be a JSON object", {"body": "is empty"})
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not valid JSON", {"body": f"is not valid JSON: {exc}"}) from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"body": "must be a JSON object"})
    return data


def int_param(value, name, *, minimum=1, maximum=None, default=None):
    if value is None:
        return default
    if not str(value).isdigit() or int(value) < minimum or (maximum is not None and int(value) > maximum):
        bound = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationFailed(f"{name} must be an integer {bound}", {name: f"must be an integer {bound}"})
    return int(value)
