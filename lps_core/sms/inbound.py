"""Reading and checking an inbound SMS as the gateway posts it to the webhook.

Where each field is (a header or a parameter: a form field, a JSON key, a query parameter) and how
the gateway signs (HMAC-SHA256, HMAC-SHA1 or MD5 over a canonical string, hex or base64) are the
settings lps.sms.inbound_* (lps_core.settings.SmsSettings). A request is refused, in this order:
- 403 `signature` when the signature is missing or does not match (nothing else is looked at);
- 403 `timestamp` when the gateway's timestamp is missing, unreadable, or further from now than
  lps.sms.inbound_max_age_seconds, either way;
- 400 when the phone number, the text or the nonce is missing.
The replay guard (a nonce seen before) is the unique row in sms_inbound (lps_core.sms.commands)."""
import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lps_core.errors import Forbidden, ValidationFailed
from lps_core.timeutil import as_utc

PLACEHOLDER = re.compile(r"\{(\w+)\}")
SIGNED_FIELDS = ("timestamp", "nonce", "body", "phone", "text", "secret")
MAX_TEXT = 1000
MAX_NONCE = 128


@dataclass(frozen=True)
class InboundSms:
    phone: str  # as the gateway wrote it; lps_core.pii reads it
    text: str
    nonce: str
    sent_at: datetime


def read_inbound(request, sms, now) -> InboundSms:
    """The checked message of a webhook request, with `sms` the SmsSettings; see the module docstring."""
    raw = request.body or b""
    params = _params(request, raw)

    def value(where):
        source, _, name = where.partition(":")
        found = request.headers.get(name) if source == "header" else params.get(name, request.GET.get(name))
        return None if found is None else str(found)

    given = value(sms.inbound_signature)
    timestamp, nonce = value(sms.inbound_timestamp), value(sms.inbound_nonce)
    phone, text = value(sms.inbound_phone), value(sms.inbound_text)
    if not given:
        raise Forbidden("the request is not signed", {"signature": "is missing"})
    values = {"timestamp": timestamp or "", "nonce": nonce or "", "body": raw.decode("utf-8", errors="replace"),
              "phone": phone or "", "text": text or "", "secret": sms.inbound_secret}
    canonical = PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), sms.inbound_signature_string)
    expected = sign(sms.inbound_algorithm, sms.inbound_secret, canonical, sms.inbound_encoding)
    if not _same(expected, given.strip(), sms.inbound_encoding):
        raise Forbidden("the signature does not match the request", {"signature": "does not match"})
    sent_at = parse_timestamp(timestamp)
    if sent_at is None:
        raise Forbidden("the request has no readable timestamp", {"timestamp": "is missing or unreadable"})
    if abs(now - sent_at) > timedelta(seconds=sms.inbound_max_age_seconds):
        raise Forbidden("the request's timestamp is too far from now",
                        {"timestamp": f"is more than {sms.inbound_max_age_seconds} seconds from now"})
    missing = {name: "is missing" for name, found in (("phone", phone), ("text", text), ("nonce", nonce))
               if not (found or "").strip()}
    if missing:
        raise ValidationFailed("the message lacks " + ", ".join(missing), missing)
    if len(nonce) > MAX_NONCE:
        raise ValidationFailed("the nonce is too long", {"nonce": f"is longer than {MAX_NONCE} characters"})
    return InboundSms(phone.strip(), text.strip()[:MAX_TEXT], nonce.strip(), sent_at)


def sign(algorithm, secret, text, encoding) -> str:
    """The signature of `text`: an HMAC keyed with the secret, or for md5 the MD5 of the text (such
    gateways put {secret} into the text they hash)."""
    if algorithm == "md5":
        digest = hashlib.md5(text.encode()).digest()
    else:
        digest = hmac.new(secret.encode(), text.encode(),
                          hashlib.sha1 if algorithm == "hmac-sha1" else hashlib.sha256).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


def parse_timestamp(text) -> datetime | None:
    """Unix seconds, Unix milliseconds or ISO 8601 with an offset, as an aware UTC datetime."""
    text = (text or "").strip()
    try:
        if text.isdigit():
            number = int(text)
            return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return as_utc(moment) if moment.tzinfo is not None else None


def _params(request, raw) -> dict:
    """The body's fields: a JSON object's keys, or a form's fields."""
    if request.content_type == "application/json":
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise ValidationFailed("the body is not JSON", {"body": "is not valid JSON"}) from None
        return body if isinstance(body, dict) else {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {name: value for name, value in request.POST.items() if isinstance(value, str)}
    return {}


def _same(expected, given, encoding) -> bool:
    if encoding == "hex":
        expected, given = expected.lower(), given.lower()
    return hmac.compare_digest(expected.encode(), given.encode())
