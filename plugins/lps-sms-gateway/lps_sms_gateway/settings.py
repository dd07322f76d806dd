"""The SMS channel's settings: programme-wide keys `lps.sms_gateway.*` from the ini file, a preset
filling in what a key leaves out, and what an outlet may set for itself (its sign name, 签名, and its
template id).

A request is described by templates: the body and the headers are JSON objects whose string values
may hold placeholders such as `{phone}`; the canonical string that is signed and the signing key
are texts with placeholders too. A placeholder that does not exist stops start-up."""
import json
import re

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from lps_core.contract import OutletSettings, ProgrammeSettings

PREFIX = "lps.sms_gateway."
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# What the body's and the headers' values may name, filled in for each message.
MESSAGE_PLACEHOLDERS = ("phone", "phone_digits", "phone_national", "text", "template_param", "sign_name",
                        "template_id", "message_id", "timestamp", "date", "nonce", "access_key_id", "app_id")
# What the canonical string may name besides those: the request as it will be sent.
REQUEST_PLACEHOLDERS = ("method", "host", "path", "query", "body", "body_sha256", "body_md5",
                        "sorted_params", "sorted_params_encoded", "secret")
KEY_PLACEHOLDERS = ("secret", "access_key_id", "timestamp", "nonce")
# tc3-hmac-sha256: Tencent Cloud's scheme, the canonical string being its canonical request; the key
# is derived from the secret, the date and the service (`signature_service`).
SIGNATURE_ALGORITHMS = ("none", "hmac-sha256", "hmac-sha1", "md5", "tc3-hmac-sha256")

GENERIC = {
    "method": "POST",
    "body_format": "json",
    "body": {"to": "{phone}", "text": "{text}", "sign": "{sign_name}", "template": "{template_id}",
             "id": "{message_id}"},
    "headers": {"X-Timestamp": "{timestamp}", "X-Nonce": "{nonce}", "X-Access-Key": "{access_key_id}"},
    "idempotency_header": "Idempotency-Key",
    "signature_algorithm": "hmac-sha256",
    "signature_string": "{method}\n{path}\n{timestamp}\n{nonce}\n{body}",
    "signature_key": "{secret}",
    "signature_encoding": "hex",
    "signature_header": "X-Signature",
    "timestamp_format": "unix",
    "result_code_path": "code",
    "success_codes": "OK,0",
    "temporary_codes": "THROTTLED,BUSY",
    "gateway_id_path": "id",
    "detail_path": "message",
}

# Modelled on Aliyun's SMS SendSms API (RPC style, signature version 1.0, as its public documentation
# describes it): a form body of sorted parameters signed with HMAC-SHA1 under "<secret>&".
ALIYUN = {
    "url": "https://dysmsapi.aliyuncs.com/",
    "method": "POST",
    "body_format": "form",
    "body": {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": "{access_key_id}",
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": "{nonce}",
             "Timestamp": "{timestamp}", "PhoneNumbers": "{phone_digits}", "SignName": "{sign_name}",
             "TemplateCode": "{template_id}", "TemplateParam": "{template_param}", "OutId": "{message_id}"},
    "headers": {},
    "idempotency_header": None,
    "signature_algorithm": "hmac-sha1",
    "signature_string": "{method}&%2F&{sorted_params_encoded}",
    "signature_key": "{secret}&",
    "signature_encoding": "base64",
    "signature_param": "Signature",
    "timestamp_format": "iso8601",
    "result_code_path": "Code",
    "success_codes": "OK",
    "temporary_codes": "isv.BUSINESS_LIMIT_CONTROL,Throttling.User,isp.SYSTEM_ERROR,SignatureNonceUsed",
    "gateway_id_path": "BizId",
    "detail_path": "Message",
}

# Modelled on Tencent Cloud's SMS SendSms API (version 2021-01-11) as its public documentation
# describes it: a JSON body, the action, version, region and timestamp in X-TC-* headers, and an
# Authorization header signed with TC3-HMAC-SHA256 over the canonical request (content-type and host
# signed).
TENCENT = {
    "url": "https://sms.tencentcloudapi.com/",
    "method": "POST",
    "body_format": "json",
    "body": {"PhoneNumberSet": ["{phone}"], "SmsSdkAppId": "{app_id}", "SignName": "{sign_name}",
             "TemplateId": "{template_id}", "TemplateParamSet": ["{text}"], "SessionContext": "{message_id}"},
    "headers": {"X-TC-Action": "SendSms", "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou",
                "X-TC-Timestamp": "{timestamp}"},
    "idempotency_header": None,
    "signature_algorithm": "tc3-hmac-sha256",
    "signature_string": ("{method}\n{path}\n{query}\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\n"
                         "content-type;host\n{body_sha256}"),
    "signature_key": "{secret}",
    "signature_encoding": "hex",
    "signature_service": "sms",
    "signature_header": "Authorization",
    "signature_header_value": ("TC3-HMAC-SHA256 Credential={access_key_id}/{date}/sms/tc3_request, "
                               "SignedHeaders=content-type;host, Signature={signature}"),
    "timestamp_format": "unix",
    "result_code_path": "Response.SendStatusSet.0.Code,Response.Error.Code",
    "success_codes": "Ok",
    "temporary_codes": ("RequestLimitExceeded,InternalError,LimitExceeded.PhoneNumberThirtySecondLimit,"
                        "LimitExceeded.PhoneNumberOneHourLimit,LimitExceeded.PhoneNumberDailyLimit"),
    "gateway_id_path": "Response.SendStatusSet.0.SerialNo",
    "detail_path": "Response.SendStatusSet.0.Message,Response.Error.Message",
}

PRESETS = {"generic": GENERIC, "aliyun": ALIYUN, "tencent": TENCENT}


def _codes(text) -> tuple:
    return tuple(code.strip() for code in (text or "").split(",") if code.strip())


def _placeholders_in(value) -> set:
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_placeholders_in(v) for v in value)) if value else set()
    return set()


def _unknown(value, allowed) -> None:
    unknown = sorted(_placeholders_in(value) - set(allowed))
    if unknown:
        raise PydanticCustomError("placeholder", "names no placeholder {name}: one of {allowed}",
                                  {"name": "{" + unknown[0] + "}", "allowed": ", ".join(allowed)})


class SmsGatewaySettings(ProgrammeSettings):
    """`lps.sms_gateway.<field>`; a key left out (or empty) takes the preset's value, else the default."""

    preset: str = "generic"
    url: str | None = None  # the gateway's address; the generic preset has none: set it
    method: str = "POST"
    body_format: str = "json"  # json, form (application/x-www-form-urlencoded) or query (GET parameters)
    body: dict = Field(default_factory=dict)  # JSON in the ini file
    headers: dict = Field(default_factory=dict)  # JSON in the ini file
    idempotency_header: str | None = None  # the header that carries the message id, where the gateway has one
    sign_name: str = ""  # the default sign name (签名); an outlet may have its own
    template_id: str = ""  # the default template; an outlet may have its own
    template_param: str = "content"  # {template_param} is {"<this>": text} as JSON
    access_key_id: str = ""
    access_key_secret: str = ""
    app_id: str = ""
    signature_algorithm: str = "none"
    signature_string: str = ""
    signature_key: str = "{secret}"
    signature_service: str = "sms"  # tc3-hmac-sha256 only: the service its key is derived for
    signature_encoding: str = "hex"  # hex or base64
    signature_header: str | None = None  # the signature goes in this header...
    signature_header_value: str = "{signature}"
    # ...or in this parameter of the body (form, query or JSON)
    signature_param: str | None = Field(None, validate_default=True)
    timestamp_format: str = "unix"  # unix (seconds), unix_ms or iso8601 (UTC, as 2026-01-31T08:00:00Z)
    result_code_path: str = ""  # dotted paths in the JSON answer, the first present one wins
    success_codes: str = ""  # comma-separated; empty: any 2xx answer is a delivery
    temporary_codes: str = ""  # codes that mean "later" (throttling, a busy gateway)
    gateway_id_path: str = ""
    detail_path: str = ""
    timeout: float = Field(10.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def preset_fills_in(cls, given):
        if not isinstance(given, dict):
            return given
        name = str(given.get("preset") or "generic").strip()
        # An empty key takes the default, or clears what the preset sets (signature_header = , say).
        given = {key: value for key, value in given.items() if value != "" or key in PRESETS.get(name, {})}
        return {**PRESETS.get(name, {}), **given, "preset": name}  # an unknown preset is refused by its field

    @field_validator("url", "idempotency_header", "signature_header", "signature_param", mode="before")
    @classmethod
    def empty_is_none(cls, value):
        return None if value == "" else value

    @field_validator("preset")
    @classmethod
    def known_preset(cls, value):
        if value not in PRESETS:
            raise PydanticCustomError("choice", "must be one of {names}", {"names": ", ".join(PRESETS)})
        return value

    @field_validator("body", "headers", mode="before")
    @classmethod
    def json_object(cls, value):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise PydanticCustomError("json", "must be a JSON object: {error}", {"error": str(exc)}) from None
        if not isinstance(value, dict):
            raise PydanticCustomError("json", "must be a JSON object")
        _unknown(value, MESSAGE_PLACEHOLDERS)
        return value

    @field_validator("method")
    @classmethod
    def known_method(cls, value):
        value = value.upper()
        if value not in ("POST", "GET", "PUT"):
            raise PydanticCustomError("choice", "must be POST, GET or PUT")
        return value

    @field_validator("body_format")
    @classmethod
    def known_format(cls, value):
        if value not in ("json", "form", "query"):
            raise PydanticCustomError("choice", "must be json, form or query")
        return value

    @field_validator("signature_algorithm")
    @classmethod
    def known_algorithm(cls, value):
        value = value.lower()
        if value not in SIGNATURE_ALGORITHMS:
            raise PydanticCustomError("choice", "must be one of {names}", {"names": ", ".join(SIGNATURE_ALGORITHMS)})
        return value

    @field_validator("signature_encoding")
    @classmethod
    def known_encoding(cls, value):
        if value not in ("hex", "base64"):
            raise PydanticCustomError("choice", "must be hex or base64")
        return value

    @field_validator("timestamp_format")
    @classmethod
    def known_timestamp(cls, value):
        if value not in ("unix", "unix_ms", "iso8601"):
            raise PydanticCustomError("choice", "must be unix, unix_ms or iso8601")
        return value

    @field_validator("signature_string")
    @classmethod
    def canonical_placeholders(cls, value):
        _unknown(value, MESSAGE_PLACEHOLDERS + REQUEST_PLACEHOLDERS)
        return value

    @field_validator("signature_key")
    @classmethod
    def key_placeholders(cls, value):
        _unknown(value, KEY_PLACEHOLDERS)
        return value

    @field_validator("signature_header_value")
    @classmethod
    def header_placeholders(cls, value):
        _unknown(value, ("signature", "access_key_id", "timestamp", "date", "nonce"))
        return value

    @field_validator("signature_param", mode="after")
    @classmethod
    def signature_fits(cls, param, info: ValidationInfo):
        """Checked last of the signature's keys, when the others are known (fields validate in order)."""
        data = info.data
        if data.get("signature_algorithm", "none") == "none":
            return param
        if not data.get("signature_string"):
            raise PydanticCustomError("together", f"{PREFIX}signature_string is required with a signature algorithm")
        if bool(data.get("signature_header")) == bool(param):
            raise PydanticCustomError("together", f"the signature goes in {PREFIX}signature_header or in "
                                                  f"{PREFIX}signature_param: set exactly one")
        if param and data.get("body_format") == "json" and "{body" in data["signature_string"]:
            raise PydanticCustomError("together", "a signature inside a JSON body cannot sign the body itself")
        return param

    @property
    def success(self) -> tuple:
        return _codes(self.success_codes)

    @property
    def temporary(self) -> tuple:
        return _codes(self.temporary_codes)


class SmsOutletSettings(OutletSettings):
    """What an outlet (or a property) sets for itself on the configuration screens."""

    sign_name: str | None = Field(None, max_length=40,
                                  description="The sign name (签名) of its messages, instead of "
                                              "lps.sms_gateway.sign_name")
    template_id: str | None = Field(None, max_length=64,
                                    description="The gateway's template of its messages, instead of "
                                                "lps.sms_gateway.template_id")
