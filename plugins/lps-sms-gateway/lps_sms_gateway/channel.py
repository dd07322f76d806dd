"""The "sms" notification channel: one HTTP request to the gateway per message, built from the
configured templates and signed, and the gateway's answer classified as a DeliveryResult.

- delivered: a 2xx answer whose result code is a success code (any 2xx when none are configured);
- temporary: no answer (refused, timed out), 408, 429, 5xx, a result code listed as temporary
  (throttling), an answer that cannot be read, or a set-up fault (no URL): a later try may succeed;
- permanent: any other 4xx, a 2xx with another result code (a bad number, refused content), or a
  recipient that is not an E.164 phone number: trying again cannot help."""
import hashlib
import json
import re
import time
import uuid
from datetime import datetime, timezone
from urllib import error, request
from urllib.parse import urlencode, urlsplit

import phonenumbers
from zope.interface import implementer

from lps_core.contract import DeliveryResult, INotificationChannel

from lps_sms_gateway.settings import SmsGatewaySettings, SmsOutletSettings
from lps_sms_gateway.signing import fill, fill_all, percent_encode, sign, sorted_params

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
TEMPORARY_STATUSES = (408, 425, 429)
DETAIL_LENGTH = 300


@implementer(INotificationChannel)
class SmsGatewayChannel:
    name = "sms"
    label = "SMS"
    settings_schema = SmsOutletSettings

    def __init__(self, options: SmsGatewaySettings, clock=time.time, nonces=None):
        self.options = options
        self.clock = clock
        self.nonces = nonces or (lambda: uuid.uuid4().hex)

    def send(self, message, settings: SmsOutletSettings | None) -> DeliveryResult:
        if not E164.match(message.recipient or ""):
            return DeliveryResult.permanent(f"{message.recipient!r} is not a phone number in E.164 (+8613800000000)")
        if not self.options.url:
            return DeliveryResult.temporary("lps.sms_gateway.url is not set: the gateway's address is unknown")
        outgoing = self.build_request(message, settings)
        try:
            with request.urlopen(outgoing, timeout=self.options.timeout) as answer:
                return self.outcome(answer.status, answer.read())
        except error.HTTPError as exc:
            return self.outcome(exc.code, exc.read())
        except (error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return DeliveryResult.temporary(f"the gateway could not be reached: {type(reason).__name__}: {reason}")

    def build_request(self, message, settings: SmsOutletSettings | None) -> request.Request:
        """The signed HTTP request that sends `message`."""
        options = self.options
        values = self.placeholders(message, settings)
        params = fill_all(options.body, values)
        headers = fill_all(options.headers, values)
        if options.idempotency_header and message.message_id:
            headers[options.idempotency_header] = message.message_id
        url = options.url
        if options.signature_algorithm != "none":
            signature = self.signature(params, values)
            if options.signature_header:
                headers[options.signature_header] = fill(options.signature_header_value,
                                                         {**values, "signature": signature})
            else:
                params[options.signature_param] = signature
        body = self.serialize(params)
        if options.body_format == "query":
            url = f"{url}{'&' if '?' in url else '?'}{body.decode()}"
            body = None
        else:
            headers.setdefault("Content-Type", "application/json; charset=utf-8" if options.body_format == "json"
                               else "application/x-www-form-urlencoded; charset=utf-8")
        return request.Request(url, data=body, headers=headers, method=options.method)

    def placeholders(self, message, settings) -> dict:
        options = self.options
        now = self.clock()
        timestamp = {"unix": str(int(now)), "unix_ms": str(int(now * 1000)),
                     "iso8601": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        text = message.body or message.subject
        return {
            "phone": message.recipient,
            "phone_digits": message.recipient.lstrip("+"),
            "phone_national": str(phonenumbers.parse(message.recipient).national_number),
            "text": text,
            "template_param": json.dumps({options.template_param: text}, ensure_ascii=False),
            "sign_name": (settings and settings.sign_name) or options.sign_name,
            "template_id": (settings and settings.template_id) or options.template_id,
            "message_id": message.message_id or "",
            "timestamp": timestamp[options.timestamp_format],
            "date": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d"),
            "nonce": self.nonces(),
            "access_key_id": options.access_key_id,
            "app_id": options.app_id,
        }

    def serialize(self, params) -> bytes:
        if self.options.body_format == "json":
            return json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode()
        return urlencode({name: _flat(value) for name, value in params.items()}).encode()

    def signature(self, params, values) -> str:
        """The signature of the request, over the canonical string filled in with the request as it
        will be sent (without the signature itself)."""
        options = self.options
        parts = urlsplit(options.url)
        body = self.serialize(params)
        query = body.decode() if options.body_format == "query" else parts.query
        sorted_text = sorted_params({name: _flat(value) for name, value in params.items()})
        canonical = fill(options.signature_string, {
            **values, "method": options.method, "host": parts.netloc, "path": parts.path or "/", "query": query,
            "body": "" if options.body_format == "query" else body.decode(),
            "body_sha256": hashlib.sha256(b"" if options.body_format == "query" else body).hexdigest(),
            "body_md5": hashlib.md5(b"" if options.body_format == "query" else body).hexdigest(),
            "sorted_params": sorted_text, "sorted_params_encoded": percent_encode(sorted_text),
            "secret": options.access_key_secret})
        key = fill(options.signature_key, {"secret": options.access_key_secret, "access_key_id": options.access_key_id,
                                           "timestamp": values["timestamp"], "nonce": values["nonce"]})
        return sign(options.signature_algorithm, key, canonical, options.signature_encoding,
                    timestamp=values["timestamp"], date=values["date"], service=options.signature_service)

    def outcome(self, status: int, raw: bytes) -> DeliveryResult:
        """The gateway's answer as a result."""
        options = self.options
        text = raw.decode("utf-8", errors="replace")
        try:
            answer = json.loads(text) if text.strip() else None
        except ValueError:
            answer = None
        code = _first(answer, options.result_code_path)
        detail = _first(answer, options.detail_path)
        said = f"HTTP {status}" + (f", code {code}" if code is not None else "") + (f": {detail}" if detail else "")
        if code is not None and str(code) in options.temporary:
            return DeliveryResult.temporary(f"the gateway asked to try later ({said})")
        if status in TEMPORARY_STATUSES or status >= 500:
            return DeliveryResult.temporary(f"the gateway is unavailable ({said}) {text[:DETAIL_LENGTH]}".rstrip())
        if status >= 400 or status < 200:
            return DeliveryResult.permanent(f"the gateway refused the message ({said}) {text[:DETAIL_LENGTH]}".rstrip())
        if options.success and answer is None:
            return DeliveryResult.temporary(f"the gateway's answer cannot be read ({said}): {text[:DETAIL_LENGTH]}")
        if options.success and str(code) not in options.success:
            return DeliveryResult.permanent(f"the gateway refused the message ({said})")
        gateway_id = _first(answer, options.gateway_id_path)
        return DeliveryResult.ok(f"accepted by the gateway ({said})",
                                 gateway_id=str(gateway_id) if gateway_id is not None else None)


def _flat(value) -> str:
    """A parameter's value as text: nested values as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _first(answer, paths: str):
    """The value at the first of the comma-separated dotted paths present in the JSON answer."""
    for path in filter(None, (path.strip() for path in paths.split(","))):
        value = answer
        for step in path.split("."):
            if isinstance(value, dict) and step in value:
                value = value[step]
            elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
                value = value[int(step)]
            else:
                value = None
                break
        if value is not None:
            return value
    return None
