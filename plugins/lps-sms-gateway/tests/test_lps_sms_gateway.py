"""The SMS channel against a real HTTP server on 127.0.0.1, started by each test: the exact request
each preset sends, its signature computed here independently, and what each answer becomes."""
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from zope.interface.verify import verifyObject

from lps_core.contract import DELIVERED, PERMANENT, TEMPORARY, INotificationChannel, Message
from lps_core.testing import start_up_error
from lps_sms_gateway import SmsGatewayChannel, SmsGatewaySettings
from lps_sms_gateway.settings import SmsOutletSettings

pytest_plugins = ["lps_core.testing"]

NOW = 1_790_000_000.25  # 2026-09-21T14:13:20Z
NONCE = "5f0c2d1e8b7a4c3d9e6f1a2b3c4d5e6f"
SECRET = "gateway-secret"
MESSAGE = Message(recipient="+8613800000042", subject="", body="您的积分余额：1,200 分。Balance {1200}",
                  message_id="outbox-42")


class Gateway:
    """An HTTP server that records every request and answers from a list (the last one repeats)."""

    def __init__(self):
        self.requests = []
        self.answers = [(200, {"code": "OK", "id": "gw-1"})]
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                gateway.record(self, self.rfile.read(length))

            do_GET = do_PUT = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, handler, body):
        # The headers as received: case-insensitive, as HTTP's are.
        self.requests.append({"method": handler.command, "path": handler.path, "headers": handler.headers,
                              "body": body})
        status, answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        time.sleep(self.delay)
        raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
        except OSError:
            pass  # the client gave up waiting

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()


def channel_for(gateway, path="/sms/send", **settings) -> SmsGatewayChannel:
    options = SmsGatewaySettings.model_validate({"url": gateway.url + path, "access_key_id": "AK1",
                                                 "access_key_secret": SECRET, "sign_name": "测试酒店",
                                                 "template_id": "SMS_100", **settings})
    return SmsGatewayChannel(options, clock=lambda: NOW, nonces=lambda: NONCE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_channel_is_registered_from_its_entry_point_with_its_settings(plugins):
    component = plugins.component("channel", "sms")
    assert verifyObject(INotificationChannel, component.obj)
    assert (component.plugin, component.distribution) == ("sms_gateway", "lps-sms-gateway")
    assert component.obj.options == SmsGatewaySettings()
    assert component.obj.settings_schema is SmsOutletSettings


def test_the_generic_preset_posts_json_signed_with_hmac_sha256_and_the_message_id_as_idempotency_key(gateway):
    result = channel_for(gateway).send(MESSAGE, None)
    assert result.outcome == DELIVERED and result.gateway_id == "gw-1"
    (sent,) = gateway.requests
    assert (sent["method"], sent["path"]) == ("POST", "/sms/send")
    body = sent["body"].decode()
    assert json.loads(body) == {"to": "+8613800000042", "text": MESSAGE.body, "sign": "测试酒店",
                                "template": "SMS_100", "id": "outbox-42"}
    headers = sent["headers"]
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Timestamp"] == "1790000000"
    assert headers["X-Nonce"] == NONCE
    assert headers["X-Access-Key"] == "AK1"
    assert headers["Idempotency-Key"] == "outbox-42"
    canonical = f"POST\n/sms/send\n1790000000\n{NONCE}\n{body}"
    assert headers["X-Signature"] == hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def test_a_resend_carries_the_same_idempotency_key(gateway):
    channel = channel_for(gateway)
    channel.send(MESSAGE, None)
    channel.send(MESSAGE, None)
    assert [sent["headers"]["Idempotency-Key"] for sent in gateway.requests] == ["outbox-42", "outbox-42"]


def test_an_outlets_sign_name_and_template_replace_the_programmes(gateway):
    settings = SmsOutletSettings(sign_name="温泉水疗", template_id="SMS_200")
    assert channel_for(gateway).send(MESSAGE, settings).delivered
    body = json.loads(gateway.requests[0]["body"])
    assert (body["sign"], body["template"]) == ("温泉水疗", "SMS_200")


def aliyun_signature(params: dict, secret: str) -> str:
    """Signature version 1.0 as Aliyun's RPC documentation describes it, written out here on its own."""
    def encode(text):
        return quote(text, safe="-_.~")

    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = "POST&%2F&" + encode(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def test_the_aliyun_preset_posts_sorted_form_parameters_signed_with_hmac_sha1(gateway):
    gateway.answers = [(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "r1"})]
    result = channel_for(gateway, path="/", preset="aliyun").send(MESSAGE, None)
    assert result.delivered and result.gateway_id == "900619746936498440^0"
    (sent,) = gateway.requests
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
    params = dict(parse_qsl(sent["body"].decode(), keep_blank_values=True))
    signature = params.pop("Signature")
    assert params == {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": "AK1",
        "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": NONCE,
        "Timestamp": "2026-09-21T14:13:20Z", "PhoneNumbers": "8613800000042", "SignName": "测试酒店",
        "TemplateCode": "SMS_100", "TemplateParam": json.dumps({"content": MESSAGE.body}, ensure_ascii=False),
        "OutId": "outbox-42"}
    assert signature == aliyun_signature(params, SECRET)
    assert "Idempotency-Key" not in sent["headers"]


@pytest.mark.parametrize(("code", "outcome"), [("isv.MOBILE_NUMBER_ILLEGAL", PERMANENT),
                                               ("isv.BUSINESS_LIMIT_CONTROL", TEMPORARY),
                                               ("Throttling.User", TEMPORARY)])
def test_the_aliyun_preset_reads_the_result_code(gateway, code, outcome):
    gateway.answers = [(200, {"Code": code, "Message": "said the gateway"})]
    result = channel_for(gateway, path="/", preset="aliyun").send(MESSAGE, None)
    assert result.outcome == outcome
    assert code in result.detail and "said the gateway" in result.detail


def tc3_authorization(secret_id, secret, timestamp, host, body: bytes, service="sms") -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud's API documentation describes it, written out here on its own."""
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    canonical_request = "\n".join(["POST", "/", "", f"content-type:application/json; charset=utf-8\nhost:{host}\n",
                                   "content-type;host", hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), scope,
                                hashlib.sha256(canonical_request.encode()).hexdigest()])

    def keyed(key, message):
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signing_key = keyed(keyed(keyed(("TC3" + secret).encode(), date), service), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"


def test_the_tencent_preset_posts_json_with_tc_headers_signed_with_tc3_hmac_sha256(gateway):
    gateway.answers = [(200, {"Response": {"SendStatusSet": [{"SerialNo": "2019:538884", "Code": "Ok",
                                                               "Message": "send success"}], "RequestId": "r"}})]
    result = channel_for(gateway, path="/", preset="tencent", app_id="1400006666").send(MESSAGE, None)
    assert result.delivered and result.gateway_id == "2019:538884"
    (sent,) = gateway.requests
    body = sent["body"]
    assert json.loads(body) == {"PhoneNumberSet": ["+8613800000042"], "SmsSdkAppId": "1400006666",
                                "SignName": "测试酒店", "TemplateId": "SMS_100", "TemplateParamSet": [MESSAGE.body],
                                "SessionContext": "outbox-42"}
    headers = sent["headers"]
    assert (headers["X-TC-Action"], headers["X-TC-Version"]) == ("SendSms", "2021-01-11")
    assert (headers["X-TC-Timestamp"], headers["X-TC-Region"]) == ("1790000000", "ap-guangzhou")
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Host"] == f"127.0.0.1:{gateway.port}"
    assert headers["Authorization"] == tc3_authorization("AK1", SECRET, 1790000000, f"127.0.0.1:{gateway.port}",
                                                         body)


@pytest.mark.parametrize(("answer", "outcome"), [
    ({"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "too fast"}}}, TEMPORARY),
    ({"Response": {"Error": {"Code": "InvalidParameterValue.IncorrectPhoneNumber", "Message": "bad"}}}, PERMANENT),
    ({"Response": {"SendStatusSet": [{"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily"}]}}, TEMPORARY),
])
def test_the_tencent_preset_reads_errors_and_per_number_codes(gateway, answer, outcome):
    gateway.answers = [(200, answer)]
    assert channel_for(gateway, path="/", preset="tencent").send(MESSAGE, None).outcome == outcome


def test_an_md5_signature_in_a_query_parameter_of_a_get(gateway):
    channel = channel_for(gateway, body_format="query", method="GET", signature_algorithm="md5",
                          signature_string="{access_key_id}{secret}{timestamp}", signature_header="",
                          signature_param="sign", headers="{}", body='{"uid": "{access_key_id}", "mobile": '
                          '"{phone_national}", "content": "【{sign_name}】{text}", "ts": "{timestamp}"}')
    assert channel.send(MESSAGE, None).delivered
    (sent,) = gateway.requests
    assert sent["method"] == "GET" and sent["body"] == b""
    parts = urlsplit(sent["path"])
    assert parts.path == "/sms/send"
    assert dict(parse_qsl(parts.query)) == {
        "uid": "AK1", "mobile": "13800000042", "content": f"【测试酒店】{MESSAGE.body}", "ts": "1790000000",
        "sign": hashlib.md5(f"AK1{SECRET}1790000000".encode()).hexdigest()}


def test_an_hmac_sha1_base64_signature_over_the_form_body_in_a_header(gateway):
    channel = channel_for(gateway, body_format="form", signature_algorithm="hmac-sha1", signature_encoding="base64",
                          signature_string="{timestamp}:{nonce}:{body_md5}", signature_header="X-Sign")
    assert channel.send(MESSAGE, None).delivered
    (sent,) = gateway.requests
    canonical = f"1790000000:{NONCE}:{hashlib.md5(sent['body']).hexdigest()}"
    expected = base64.b64encode(hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha1).digest()).decode()
    assert sent["headers"]["X-Sign"] == expected
    assert dict(parse_qsl(sent["body"].decode()))["text"] == MESSAGE.body


def test_without_a_signature_nothing_is_signed(gateway):
    assert channel_for(gateway, signature_algorithm="none").send(MESSAGE, None).delivered
    assert "X-Signature" not in gateway.requests[0]["headers"]


@pytest.mark.parametrize(("status", "answer", "outcome"), [
    (500, {"code": "ERR"}, TEMPORARY),
    (502, b"<html>bad gateway</html>", TEMPORARY),
    (503, b"", TEMPORARY),
    (429, {"code": "SLOW_DOWN"}, TEMPORARY),
    (408, b"", TEMPORARY),
    (400, {"code": "BAD_REQUEST", "message": "no such template"}, PERMANENT),
    (401, {"code": "BAD_SIGNATURE"}, PERMANENT),
    (200, {"code": "THROTTLED", "message": "later"}, TEMPORARY),
    (200, {"code": "BAD_NUMBER", "message": "not a mobile"}, PERMANENT),
    (200, b"OK, I think", TEMPORARY),
    (200, {"code": "0", "id": 77}, DELIVERED),
])
def test_what_each_answer_becomes(gateway, status, answer, outcome):
    gateway.answers = [(status, answer)]
    result = channel_for(gateway).send(MESSAGE, None)
    assert result.outcome == outcome, result.detail
    assert f"HTTP {status}" in result.detail


def test_a_gateway_that_does_not_answer_in_time_is_temporary(gateway):
    gateway.delay = 1.5
    result = channel_for(gateway, timeout="0.3").send(MESSAGE, None)
    assert result.outcome == TEMPORARY and "could not be reached" in result.detail


def test_an_unreachable_gateway_is_temporary():
    channel = SmsGatewayChannel(SmsGatewaySettings(url=f"http://127.0.0.1:{free_port()}/sms", timeout=2))
    result = channel.send(MESSAGE, None)
    assert result.outcome == TEMPORARY and "ConnectionRefusedError" in result.detail


def test_a_gateway_without_an_address_is_temporary_until_it_is_set():
    result = SmsGatewayChannel(SmsGatewaySettings()).send(MESSAGE, None)
    assert result.outcome == TEMPORARY and "lps.sms_gateway.url" in result.detail


@pytest.mark.parametrize("recipient", ["13800000042", "guest@example.test", "+86 138 0000 0042", ""])
def test_a_recipient_that_is_not_e164_is_permanent_and_nothing_is_sent(gateway, recipient):
    result = channel_for(gateway).send(Message(recipient, "", "hello"), None)
    assert result.outcome == PERMANENT
    assert gateway.requests == []


@pytest.mark.parametrize(("settings", "error"), [
    ({"lps.sms_gateway.preset": "huawei"}, "plugin 'sms_gateway': lps.sms_gateway.preset: must be one of generic, "
                                           "aliyun, tencent"),
    ({"lps.sms_gateway.body": "[1]"}, "plugin 'sms_gateway': lps.sms_gateway.body: must be a JSON object"),
    ({"lps.sms_gateway.body": "{oops"}, "plugin 'sms_gateway': lps.sms_gateway.body: must be a JSON object:"),
    ({"lps.sms_gateway.body": '{"to": "{mobile}"}'}, "plugin 'sms_gateway': lps.sms_gateway.body: names no "
                                                     "placeholder {mobile}"),
    ({"lps.sms_gateway.signature_string": "{body}{pepper}"}, "plugin 'sms_gateway': "
                                                             "lps.sms_gateway.signature_string: names no placeholder"),
    ({"lps.sms_gateway.signature_algorithm": "sha512"}, "plugin 'sms_gateway': "
                                                        "lps.sms_gateway.signature_algorithm: must be one of"),
    ({"lps.sms_gateway.signature_param": "sign"}, "plugin 'sms_gateway': lps.sms_gateway.signature_param: the "
                                                  "signature goes in lps.sms_gateway.signature_header or"),
    ({"lps.sms_gateway.signature_header": "", "lps.sms_gateway.signature_param": "sign"},
     "plugin 'sms_gateway': lps.sms_gateway.signature_param: a signature inside a JSON body cannot sign the body"),
    ({"lps.sms_gateway.method": "DELETE"}, "plugin 'sms_gateway': lps.sms_gateway.method: must be POST, GET or PUT"),
    ({"lps.sms_gateway.timeout": "0"}, "plugin 'sms_gateway': lps.sms_gateway.timeout: Input should be greater"),
    ({"lps.sms_gateway.sender": "x"}, "plugin 'sms_gateway': lps.sms_gateway.sender is not a setting of this plugin"),
])
def test_a_bad_setting_stops_start_up_with_one_line_naming_the_plugin_and_key(settings, error):
    message = start_up_error(settings)
    assert message is not None and message.startswith(error), message
    assert "\n" not in message


def test_a_key_given_wins_over_the_preset():
    options = SmsGatewaySettings.model_validate({"preset": "aliyun", "url": "https://sms.example.test/",
                                                 "temporary_codes": "X"})
    assert options.url == "https://sms.example.test/"
    assert options.temporary == ("X",)
    assert options.signature_param == "Signature"


def test_an_outlets_sign_name_is_bounded():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SmsOutletSettings.model_validate({"sign_name": "x" * 41})
