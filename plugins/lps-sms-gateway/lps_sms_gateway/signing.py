"""Filling the request's templates and signing its canonical string: HMAC-SHA256, HMAC-SHA1 or MD5,
hex or base64."""
import base64
import hashlib
import hmac
from urllib.parse import quote

from lps_sms_gateway.settings import PLACEHOLDER


def fill(template: str, values: dict) -> str:
    """The template with each `{name}` replaced by its value; the values are not read again, so a
    brace in a member's text is only text."""
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), template)


def fill_all(template, values):
    """A JSON template (objects, lists, strings) with every string filled in."""
    if isinstance(template, str):
        return fill(template, values)
    if isinstance(template, dict):
        return {key: fill_all(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_all(value, values) for value in template]
    return template


def percent_encode(text: str) -> str:
    """RFC 3986: everything but letters, digits and -_.~ as %XX of its UTF-8 bytes."""
    return quote(str(text), safe="-_.~")


def sorted_params(params: dict) -> str:
    """name=value pairs sorted by name, each percent-encoded, joined by &."""
    return "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in sorted(params.items()))


def sign(algorithm: str, key: str, text: str, encoding: str, *, timestamp="", date="", service="") -> str:
    """The signature of `text`: a keyed HMAC, or for md5 the MD5 of the text itself (such gateways
    put the secret into the text they sign), or Tencent Cloud's TC3-HMAC-SHA256 of `text` as its
    canonical request (its key derived from `key`, the UTC `date` and the `service`)."""
    if algorithm == "tc3-hmac-sha256":
        scope = f"{date}/{service}/tc3_request"
        string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(text.encode()).hexdigest()}"
        derived = ("TC3" + key).encode()
        for part in (date, service, "tc3_request"):
            derived = hmac.new(derived, part.encode(), hashlib.sha256).digest()
        digest = hmac.new(derived, string_to_sign.encode(), hashlib.sha256).digest()
    elif algorithm == "hmac-sha256":
        digest = hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()
    elif algorithm == "hmac-sha1":
        digest = hmac.new(key.encode(), text.encode(), hashlib.sha1).digest()
    elif algorithm == "md5":
        digest = hashlib.md5(text.encode()).digest()
    else:
        raise ValueError(f"no signature algorithm {algorithm!r}")
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()
