"""Local stand-ins for the channel providers, one small threaded HTTP server each.

Each server checks EVERY request against its provider's documented format — required
fields, types, lengths, and the signature recomputed here from the shared test secret
(independently of gis.channels, so a wrong client algorithm fails) — answers with the
provider's documented success or error shape, enforces the provider's rate limit, and
records what it received. ``fail_next(n)`` makes the next n requests answer 503 (a
transient fault the client must retry through). Use them as context managers::

    with WeComServer() as wecom:
        channel = WeComAppChannel(wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int
    answer: dict
    accepted: bool
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))


class Rejected(Exception):
    """A request the provider would refuse: (HTTP status, documented error body)."""

    def __init__(self, status: int, answer: dict) -> None:
        super().__init__(answer)
        self.status = status
        self.answer = answer


class SlidingWindow:
    """The provider's own count of accepted sends per key."""

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self.limits = limits
        self._stamps: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.time()
        stamps = self._stamps[key]
        for count, window in self.limits:
            if sum(1 for t in stamps if t > now - window) >= count:
                return False
        stamps.append(now)
        return True


class ProviderServer:
    """Base: a ThreadingHTTPServer on a free port; subclasses implement ``answer``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._faults: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._serve(self)

            def do_POST(self) -> None:
                server._serve(self)

            def log_message(self, *args) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._http.shutdown()
        self._http.server_close()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._faults += [status] * count

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.accepted]

    def rejected(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if not r.accepted]

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, dict[str, str]]:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        body = handler.rfile.read(int(headers.get("content-length", 0) or 0))
        extra: dict[str, str] = {}
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            if fault is not None:
                status, answer, accepted = fault, {"error": "injected fault"}, False
            else:
                try:
                    status, answer, extra = self.answer(
                        handler.command, split.path, query, headers, body
                    )
                    accepted = True
                except Rejected as rejected:
                    status, answer, accepted = rejected.status, rejected.answer, False
            self.received.append(
                Received(
                    handler.command,
                    split.path,
                    query,
                    headers,
                    body,
                    status,
                    answer,
                    accepted,
                    time.monotonic(),
                )
            )
        raw = json.dumps(answer, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)


def _json_body(body: bytes, error: Rejected) -> dict:
    try:
        decoded = json.loads(body)
    except ValueError:
        raise error from None
    if not isinstance(decoded, dict):
        raise error
    return decoded


# --- WeCom: application message (gettoken + message/send) and group robot ------------------


class WeComServer(ProviderServer):
    """qyapi.weixin.qq.com: /cgi-bin/gettoken, /cgi-bin/message/send, /cgi-bin/webhook/send."""

    def __init__(
        self,
        corp_id: str = "ww-test-corp",
        corp_secret: str = "wecom-test-secret",
        agent_id: int = 1000002,
        users: tuple[str, ...] = ("worker-01", "worker-02", "cadre-01"),
        robot_key: str = "robot-test-key",
        robot_limit: tuple[int, float] = (20, 60.0),
        token_lifetime_s: int = 7200,
        member_limit: tuple[int, float] = (30, 60.0),
    ) -> None:
        super().__init__()
        self.member_window = SlidingWindow((member_limit,))
        self.dropped: list[dict] = []
        """App messages past the per-member limit: WeCom answers ok and never delivers."""
        self.corp_id, self.corp_secret, self.agent_id = corp_id, corp_secret, agent_id
        self.users = set(users)
        self.robot_key = robot_key
        self.token_lifetime_s = token_lifetime_s
        self.tokens: dict[str, float] = {}
        self.robot_window = SlidingWindow((robot_limit,))

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (WeCom may expire one early)."""
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def token_requests(self) -> list[Received]:
        return [r for r in self.accepted() if r.path == "/cgi-bin/gettoken"]

    def app_messages(self) -> list[dict]:
        return [r.json for r in self.accepted() if r.path == "/cgi-bin/message/send"]

    def robot_messages(self) -> list[dict]:
        return [r.json for r in self.accepted() if r.path == "/cgi-bin/webhook/send"]

    @staticmethod
    def _error(errcode: int, errmsg: str) -> Rejected:
        return Rejected(200, {"errcode": errcode, "errmsg": errmsg})

    def answer(self, method, path, query, headers, body):
        if path == "/cgi-bin/gettoken" and method == "GET":
            return self._gettoken(query)
        if path == "/cgi-bin/message/send" and method == "POST":
            return self._message_send(query, headers, body)
        if path == "/cgi-bin/webhook/send" and method == "POST":
            return self._robot_send(query, body)
        raise Rejected(404, {"errcode": 404, "errmsg": f"no such api {method} {path}"})

    def _gettoken(self, query):
        if query.get("corpid") != self.corp_id:
            raise self._error(40013, "invalid corpid")
        if query.get("corpsecret") != self.corp_secret:
            raise self._error(40001, "invalid credential")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_lifetime_s
        answer = {"errcode": 0, "errmsg": "ok", "access_token": token}
        return 200, {**answer, "expires_in": self.token_lifetime_s}, {}

    def _message_send(self, query, headers, body):
        token = query.get("access_token", "")
        if token not in self.tokens:
            raise self._error(40014, "invalid access_token")
        if self.tokens[token] <= time.time():
            raise self._error(42001, "access_token expired")
        if not headers.get("content-type", "").startswith("application/json"):
            raise self._error(40035, "invalid args: body must be JSON")
        message = _json_body(body, self._error(47001, "data format error"))
        touser = message.get("touser")
        if not isinstance(touser, str) or not touser:
            raise self._error(40031, "invalid userid list: touser required")
        if message.get("agentid") != self.agent_id:
            raise self._error(40056, "invalid agentid")
        msgtype = message.get("msgtype")
        if msgtype == "text":
            content = (message.get("text") or {}).get("content")
            if not isinstance(content, str) or not content:
                raise self._error(44004, "empty content")
            if len(content.encode()) > 2048:
                raise self._error(45002, "content size out of limit")
        elif msgtype == "textcard":
            card = message.get("textcard") or {}
            for name in ("title", "description", "url"):
                if not isinstance(card.get(name), str) or not card[name]:
                    raise self._error(41016 if name == "title" else 41017, f"missing {name}")
            # WeCom itself truncates longer ones; refusing them here tests our clipping.
            if len(card["title"].encode()) > 128 or len(card["description"].encode()) > 512:
                raise self._error(45002, "content size out of limit")
        else:
            raise self._error(40008, "invalid message type")
        members = touser.split("|")
        unknown = [u for u in members if u not in self.users]
        if len(unknown) == len(members):
            raise self._error(81013, "user & party & tag all invalid")
        if not all(self.member_window.allow(u) for u in members if u not in unknown):
            self.dropped.append(message)
        answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(unknown)}
        return 200, {**answer, "msgid": uuid.uuid4().hex}, {}

    def _robot_send(self, query, body):
        if query.get("key") != self.robot_key:
            raise self._error(93000, "invalid webhook url")
        message = _json_body(body, self._error(40035, "invalid args"))
        msgtype = message.get("msgtype")
        limits = {"text": 2048, "markdown": 4096}
        if msgtype not in limits:
            raise self._error(40008, "invalid message type")
        section = message.get(msgtype) or {}
        content = section.get("content")
        if not isinstance(content, str) or not content:
            raise self._error(44004, "empty content")
        if len(content.encode()) > limits[msgtype]:
            raise self._error(40058, f"content exceed max length {limits[msgtype]}")
        mobiles = section.get("mentioned_mobile_list", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            raise self._error(40035, "invalid args: mentioned_mobile_list")
        if not self.robot_window.allow(self.robot_key):
            raise self._error(45009, "api freq out of limit")
        return 200, {"errcode": 0, "errmsg": "ok"}, {}


# --- DingTalk custom robot with 加签 --------------------------------------------------------


class DingTalkServer(ProviderServer):
    """oapi.dingtalk.com/robot/send: token, timestamp (±1 h) and HMAC-SHA256 sign checked;
    past 20 messages a minute it answers 130101 and blocks the robot for ``block_s``."""

    def __init__(
        self,
        access_token: str = "ding-test-token",
        secret: str = "SECding-test-secret",
        limit: tuple[int, float] = (20, 60.0),
        block_s: float = 600.0,
    ) -> None:
        super().__init__()
        self.access_token, self.secret = access_token, secret
        self.window = SlidingWindow((limit,))
        self.block_s = block_s
        self.blocked_until = 0.0

    def messages(self) -> list[dict]:
        return [r.json for r in self.accepted()]

    @staticmethod
    def _error(errcode: int, errmsg: str) -> Rejected:
        return Rejected(200, {"errcode": errcode, "errmsg": errmsg})

    def answer(self, method, path, query, headers, body):
        if method != "POST" or path != "/robot/send":
            raise Rejected(404, {"errcode": 404, "errmsg": "not found"})
        if query.get("access_token") != self.access_token:
            raise self._error(300001, "token is not exist")
        timestamp = query.get("timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 3600_000:
            raise self._error(310000, "invalid timestamp")
        expected = base64.b64encode(
            hmac.new(
                self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        # parse_qsl already undid the URL encoding the client applied to the base64.
        if not hmac.compare_digest(query.get("sign", ""), expected):
            raise self._error(310000, "sign not match")
        message = _json_body(body, self._error(40035, "缺少参数 json"))
        msgtype = message.get("msgtype")
        if msgtype == "text":
            if not (message.get("text") or {}).get("content"):
                raise self._error(400102, "text.content is empty")
        elif msgtype == "markdown":
            markdown = message.get("markdown") or {}
            if not markdown.get("title") or not markdown.get("text"):
                raise self._error(400102, "markdown.title and markdown.text are required")
        else:
            raise self._error(40035, "不支持的消息类型")
        at = message.get("at", {})
        if not isinstance(at.get("atMobiles", []), list):
            raise self._error(40035, "at.atMobiles must be a list")
        now = time.time()
        if now < self.blocked_until:
            raise self._error(130101, "send too fast, exceed 20 times per minute")
        if not self.window.allow(self.access_token):
            self.blocked_until = now + self.block_s
            raise self._error(130101, "send too fast, exceed 20 times per minute")
        return 200, {"errcode": 0, "errmsg": "ok"}, {}


# --- Aliyun RPC (dysmsapi SendSms, dyvmsapi SingleCallByTts) ----------------------------------


def aliyun_percent(value: str) -> str:
    """Aliyun's documented recipe: form-encode, then + → %20, * → %2A, %7E → ~."""
    encoded = urllib.parse.quote_plus(value, safe="")
    return encoded.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class AliyunServer(ProviderServer):
    """An Aliyun RPC endpoint for one product: every common parameter, the HMAC-SHA1
    signature, Timestamp (±15 min) and SignatureNonce (no reuse) are checked, then the
    action's own parameters; per-number flow control answers isv.BUSINESS_LIMIT_CONTROL."""

    ACTIONS = {"dysms": "SendSms", "dyvms": "SingleCallByTts"}

    def __init__(
        self,
        product: str,
        access_key_id: str = "LTAI-test-id",
        access_key_secret: str = "aliyun-test-secret",
        number_limits: tuple[tuple[int, float], ...] = ((50, 86400.0),),
    ) -> None:
        super().__init__()
        self.action = self.ACTIONS[product]
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.window = SlidingWindow(number_limits)
        self.nonces: set[str] = set()

    def calls(self) -> list[dict[str, str]]:
        return [r.form for r in self.accepted()]

    @staticmethod
    def _error(status: int, code: str, message: str) -> Rejected:
        answer = {"RequestId": str(uuid.uuid4()).upper(), "HostId": "test", "Code": code}
        return Rejected(status, {**answer, "Message": message, "Recommend": "see docs"})

    def answer(self, method, path, query, headers, body):
        params = dict(query)
        if method == "POST":
            if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                raise self._error(400, "InvalidParameter", "form body expected")
            params.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        self._check_common(method, params)
        if self.action == "SendSms":
            return self._send_sms(params)
        return self._single_call(params)

    def _check_common(self, method: str, params: dict[str, str]) -> None:
        for name in (
            "AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce",
            "SignatureVersion", "Timestamp", "Version", "Signature",
        ):  # fmt: skip
            if not params.get(name):
                raise self._error(400, f"Missing{name}", f"{name} is mandatory for this action.")
        if params["AccessKeyId"] != self.access_key_id:
            raise self._error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            raise self._error(400, "InvalidParameter", "SignatureMethod/SignatureVersion")
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params["Timestamp"]):
            raise self._error(400, "InvalidTimeStamp.Format", "Timestamp must be ISO 8601 UTC.")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > 900:
            raise self._error(400, "InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        unsigned = {k: v for k, v in params.items() if k != "Signature"}
        canonical = "&".join(
            f"{aliyun_percent(k)}={aliyun_percent(v)}" for k, v in sorted(unsigned.items())
        )
        to_sign = f"{method}&{aliyun_percent('/')}&{aliyun_percent(canonical)}"
        expected = base64.b64encode(
            hmac.new(f"{self.access_key_secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
        ).decode()
        if not hmac.compare_digest(params["Signature"], expected):
            raise self._error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        if params["SignatureNonce"] in self.nonces:
            raise self._error(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )
        self.nonces.add(params["SignatureNonce"])
        if params["Action"] != self.action:
            raise self._error(400, "InvalidAction.NotFound", "Specified api is not found.")
        if params["Version"] != "2017-05-25":
            raise self._error(400, "InvalidVersion", "Specified parameter Version is not valid.")

    def _json_param(self, params: dict[str, str], name: str) -> None:
        try:
            if not isinstance(json.loads(params.get(name, "")), dict):
                raise ValueError
        except ValueError:
            raise self._ok_code("isv.INVALID_JSON_PARAM", f"{name} is not a JSON object") from None

    @staticmethod
    def _ok_code(code: str, message: str) -> Rejected:
        """Business errors come back with HTTP 200 and their Code."""
        return Rejected(
            200, {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}
        )

    def _send_sms(self, params):
        number = params.get("PhoneNumbers", "")
        if not re.fullmatch(r"1\d{10}", number):
            raise self._ok_code("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if not params.get("SignName"):
            raise self._ok_code("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法")
        if not params.get("TemplateCode", "").startswith("SMS_"):
            raise self._ok_code("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法")
        self._json_param(params, "TemplateParam")
        if not self.window.allow(number):
            raise self._ok_code("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控")
        answer = {"RequestId": str(uuid.uuid4()).upper(), "Code": "OK", "Message": "OK"}
        return 200, {**answer, "BizId": f"{int(time.time() * 1000)}^0"}, {}

    def _single_call(self, params):
        number = params.get("CalledNumber", "")
        if not re.fullmatch(r"1\d{10}|0\d{9,11}", number):
            raise self._ok_code("isv.MOBILE_NUMBER_ILLEGAL", "非法号码")
        if not params.get("TtsCode", "").startswith("TTS_"):
            raise self._ok_code("isv.TTS_TEMPLATE_ILLEGAL", "模板不合法")
        self._json_param(params, "TtsParam")
        if params.get("PlayTimes") and not 1 <= int(params["PlayTimes"]) <= 3:
            raise self._ok_code("isv.INVALID_PARAMETERS", "PlayTimes must be 1..3")
        if not self.window.allow(number):
            raise self._ok_code("isv.BUSINESS_LIMIT_CONTROL", "触发被叫流控")
        answer = {"RequestId": str(uuid.uuid4()).upper(), "Code": "OK", "Message": "OK"}
        return (
            200,
            {**answer, "CallId": f"{secrets.randbelow(10**9)}^{secrets.randbelow(10**9)}"},
            {},
        )


# --- Tencent Cloud SMS (API 3.0, TC3-HMAC-SHA256) -----------------------------------------------


class TencentSmsServer(ProviderServer):
    """sms.tencentcloudapi.com SendSms 2021-01-11: headers, TC3 signature (recomputed over
    the Host the request carried), timestamp (±5 min), body fields, E.164 numbers and a
    per-number limit answered inside SendStatusSet."""

    def __init__(
        self,
        secret_id: str = "AKID-test-id",
        secret_key: str = "tencent-test-key",
        sdk_app_id: str = "1400006666",
        number_limit: tuple[int, float] = (10, 30.0),
    ) -> None:
        super().__init__()
        self.secret_id, self.secret_key, self.sdk_app_id = secret_id, secret_key, sdk_app_id
        self.window = SlidingWindow((number_limit,))

    def requests_json(self) -> list[dict]:
        return [r.json for r in self.accepted()]

    @staticmethod
    def _error(code: str, message: str) -> Rejected:
        return Rejected(
            200,
            {
                "Response": {
                    "Error": {"Code": code, "Message": message},
                    "RequestId": str(uuid.uuid4()),
                }
            },
        )

    def answer(self, method, path, query, headers, body):
        if method != "POST" or path != "/":
            raise self._error("InvalidAction", "POST / expected")
        content_type = headers.get("content-type", "")
        if content_type != "application/json; charset=utf-8":
            raise self._error("InvalidParameter", f"Content-Type {content_type!r}")
        if headers.get("x-tc-action") != "SendSms":
            raise self._error("InvalidAction", "X-TC-Action")
        if headers.get("x-tc-version") != "2021-01-11":
            raise self._error("NoSuchVersion", "X-TC-Version")
        if not headers.get("x-tc-region"):
            raise self._error("MissingParameter", "X-TC-Region")
        self._check_signature(headers, body)
        request = _json_body(body, self._error("FailedOperation.FailResolvePacket", "not JSON"))
        numbers = request.get("PhoneNumberSet")
        if not isinstance(numbers, list) or not numbers or len(numbers) > 200:
            raise self._error("MissingParameter", "PhoneNumberSet")
        if request.get("SmsSdkAppId") != self.sdk_app_id:
            raise self._error("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId")
        for name in ("TemplateId", "SignName"):
            if not isinstance(request.get(name), str) or not request[name]:
                raise self._error("MissingParameter", name)
        params = request.get("TemplateParamSet", [])
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise self._error(
                "InvalidParameterValue.TemplateParameterFormatError", "TemplateParamSet"
            )
        statuses = []
        for number in numbers:
            if not re.fullmatch(r"\+86 ?1\d{10}|\+[1-9]\d{6,14}", str(number)):
                raise self._error("InvalidParameterValue.IncorrectPhoneNumber", str(number))
            if self.window.allow(number):
                code, text = "Ok", "send success"
            else:
                code, text = "LimitExceeded.PhoneNumberThirtySecondLimit", "30 秒内同一号码限额"
            statuses.append(
                {"SerialNo": uuid.uuid4().hex, "PhoneNumber": number, "Fee": 1,
                 "SessionContext": "", "Code": code, "Message": text, "IsoCode": "CN"}
            )  # fmt: skip
        answer = {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}
        return 200, {"Response": answer}, {}

    def _check_signature(self, headers: dict[str, str], body: bytes) -> None:
        stamp = headers.get("x-tc-timestamp", "")
        if not stamp.isdigit():
            raise self._error("MissingParameter", "X-TC-Timestamp")
        if abs(int(stamp) - time.time()) > 300:
            raise self._error("AuthFailure.SignatureExpire", "签名过期")
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d\d-\d\d)/sms/tc3_request, "
            r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
            headers.get("authorization", ""),
        )
        if match is None:
            raise self._error("AuthFailure.InvalidAuthorization", "Authorization")
        secret_id, date, signed_headers, signature = match.groups()
        if secret_id != self.secret_id:
            raise self._error("AuthFailure.SecretIdNotFound", "密钥不存在")
        if date != datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d"):
            raise self._error("AuthFailure.SignatureFailure", "credential date")
        names = signed_headers.split(";")
        if "content-type" not in names or "host" not in names:
            raise self._error("AuthFailure.SignatureFailure", "SignedHeaders")
        canonical_headers = "".join(f"{n}:{headers.get(n, '').strip().lower()}\n" for n in names)
        canonical = "\n".join(
            ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(body).hexdigest()]
        )
        scope = f"{date}/sms/tc3_request"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"

        def mac(key: bytes, text: str) -> bytes:
            return hmac.new(key, text.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(f"TC3{self.secret_key}".encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            raise self._error("AuthFailure.SignatureFailure", "签名错误")


# --- Web Push service (RFC 8030 + VAPID RFC 8292 + aes128gcm RFC 8291) --------------------------


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushServer(ProviderServer):
    """A push service: POST /push/{id} must carry a valid VAPID JWT (ES256, aud = this
    origin, exp within 24 h, sub mailto:/https:), TTL, Content-Encoding aes128gcm and a
    payload that decrypts with the subscription's keys; unknown ids answer 410 Gone."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.payloads: list[dict] = []

    def subscription(self) -> dict:
        """A fresh browser subscription (what PushManager.subscribe() would return)."""
        private = ec.generate_private_key(ec.SECP256R1())
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        auth = secrets.token_bytes(16)
        sub_id = uuid.uuid4().hex
        self._keys[sub_id] = (private, auth)
        keys = {"p256dh": _b64url(public), "auth": _b64url(auth)}
        return {"endpoint": f"{self.url}/push/{sub_id}", "keys": keys}

    def drop(self, subscription: dict) -> None:
        """The browser dropped the subscription (permission revoked, data cleared): its
        endpoint answers 410 Gone from now on."""
        del self._keys[subscription["endpoint"].rsplit("/", 1)[1]]

    def answer(self, method, path, query, headers, body):
        sub_id = path.removeprefix("/push/")
        if method != "POST" or sub_id not in self._keys:
            raise Rejected(410, {"error": "subscription expired or unknown"})
        self._check_vapid(headers.get("authorization", ""))
        if not headers.get("ttl", "").isdigit():
            raise Rejected(400, {"error": "TTL header required"})
        if headers.get("content-encoding") != "aes128gcm":
            raise Rejected(415, {"error": "Content-Encoding aes128gcm required"})
        private, auth = self._keys[sub_id]
        try:
            plain = http_ece.decrypt(
                body, private_key=private, auth_secret=auth, version="aes128gcm"
            )
        except Exception as error:  # any decryption failure is the client's fault
            raise Rejected(400, {"error": f"payload does not decrypt: {error}"}) from None
        self.payloads.append(json.loads(plain))
        return 201, {}, {"Location": f"{self.url}/message/{uuid.uuid4().hex}"}

    def _check_vapid(self, authorization: str) -> None:
        match = re.fullmatch(r"vapid t=([\w-]+\.[\w-]+\.[\w-]+), ?k=([\w-]+)", authorization)
        if match is None:
            raise Rejected(401, {"error": "Authorization: vapid t=…, k=… required"})
        token, key = match.groups()
        header_b64, claims_b64, signature_b64 = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url_decode(key))
        raw = _b64url_decode(signature_b64)
        signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        try:
            public.verify(
                signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256())
            )
        except Exception:
            raise Rejected(403, {"error": "VAPID signature invalid"}) from None
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(claims_b64))
        if header.get("alg") != "ES256":
            raise Rejected(403, {"error": "VAPID alg must be ES256"})
        if claims.get("aud") != self.url:
            raise Rejected(403, {"error": f"VAPID aud {claims.get('aud')!r} is not {self.url}"})
        if not time.time() < int(claims.get("exp", 0)) <= time.time() + 86400:
            raise Rejected(403, {"error": "VAPID exp must be within 24 h"})
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise Rejected(403, {"error": "VAPID sub must be mailto: or https:"})
