"""Aliyun's RPC-style API call with signature version 1.0 (HMAC-SHA1): the base of the
Aliyun channels, SMS (dysmsapi) and voice (dyvmsapi).

Every request carries the common parameters (AccessKeyId, Action, Version, Format=JSON,
RegionId, SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, SignatureNonce — fresh per
request — and Timestamp in ISO 8601 UTC, ``YYYY-MM-DDThh:mm:ssZ``). The string to sign is
``METHOD&%2F&percent(canonical query)``, the canonical query being the sorted
``percent(k)=percent(v)`` pairs joined by ``&``, percent-encoding per RFC 3986 (only
A-Z a-z 0-9 - _ . ~ unescaped; space is %20). Signature = base64(HMAC-SHA1(key =
AccessKeySecret + "&", string to sign)). The answer is JSON with "Code" ("OK" on success).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

from gis.channels.base import (
    Channel,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
)
from gis.channels.http_json import request_json

FLOW_CONTROL = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User"}
TRANSIENT = {"ServiceUnavailable", "InternalError", "isp.SYSTEM_ERROR", "Throttling"}


def percent(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent('/')}&{percent(canonical)}"


def signature(method: str, params: dict[str, str], access_key_secret: str) -> str:
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


class AliyunRpcChannel(Channel):
    """A channel that is one product's RPC API (an endpoint) under one AccessKey: the
    subclass builds an action's parameters, ``call`` signs and sends them."""

    version = "2017-05-25"

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret

    def call(self, action: str, params: dict[str, str], region: str = "cn-hangzhou") -> dict:
        """POST one signed RPC call (form-encoded); the answer, or a ChannelError for its
        Code.

        A flow-control code is rate-limited for a minute (Aliyun's per-callee windows are a
        minute and longer; the caller's limiter knows the exact ones)."""
        signed = {
            "AccessKeyId": self.access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.version,
            **params,
        }
        signed["Signature"] = signature("POST", signed, self.access_key_secret)
        body = "&".join(f"{percent(k)}={percent(v)}" for k, v in signed.items()).encode()
        _, answer = request_json(
            "POST",
            self.endpoint.rstrip("/") + "/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        code = str(answer.get("Code", ""))
        if code == "OK":
            return answer
        detail = f"{action} {code}: {answer.get('Message', '')}"
        if code in FLOW_CONTROL:
            raise RateLimitedError(detail, time.time() + 60)
        if code in TRANSIENT:
            raise TransientError(detail)
        raise PermanentError(detail)
