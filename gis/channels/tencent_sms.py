"""Tencent Cloud SMS SendSms (API 3.0, Version 2021-01-11) signed with TC3-HMAC-SHA256.

POST / to sms.tencentcloudapi.com with a JSON body {"PhoneNumberSet": [E.164…],
"SmsSdkAppId", "SignName", "TemplateId", "TemplateParamSet": […]} and the headers
X-TC-Action: SendSms, X-TC-Version, X-TC-Timestamp (epoch s; more than 5 minutes off is
AuthFailure.SignatureExpire), X-TC-Region, Host, Content-Type and Authorization:

  canonical request = "POST\\n/\\n\\n" + "content-type:application/json; charset=utf-8\\n"
                      + "host:<host>\\n" + "\\n" + "content-type;host\\n" + hex(sha256(body))
  string to sign    = "TC3-HMAC-SHA256\\n<timestamp>\\n<date>/sms/tc3_request\\n"
                      + hex(sha256(canonical request))          (date = UTC YYYY-MM-DD)
  key               = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
  Authorization     = "TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request, "
                      "SignedHeaders=content-type;host, Signature=" + hex(HMAC(key, sts))

The answer is {"Response": {"SendStatusSet": [{"SerialNo", "Code": "Ok", …}], …}} or
{"Response": {"Error": {"Code", "Message"}}}; per-number limits come back as
LimitExceeded.PhoneNumber… codes in SendStatusSet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import UTC, datetime

from gis.channels.base import (
    Channel,
    Message,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
)
from gis.channels.http_json import request_json
from gis.channels.phones import e164

SERVICE = "sms"
VERSION = "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
TRANSIENT = {"InternalError", "InternalError.Timeout", "RequestLimitExceeded"}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(
    secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int
) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (
        f"POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\n\ncontent-type;host\n"
        + hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


class TencentSmsChannel(Channel):
    name = "tencent_sms"

    def __init__(
        self,
        endpoint: str,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        template_params: tuple[str, ...],
        region: str = "ap-guangzhou",
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.endpoint = endpoint.rstrip("/") + "/"
        self.host = urllib.parse.urlsplit(self.endpoint).netloc.lower()
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.template_params = template_params
        """Which Message.params fill the template's {1}, {2} … in order."""
        self.region = region

    def body(self, message: Message) -> dict:
        return {
            "PhoneNumberSet": [e164(message.address)],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": self.template_id,
            "TemplateParamSet": [message.params.get(name, "") for name in self.template_params],
        }

    def attempt(self, message: Message) -> str:
        body = json.dumps(self.body(message), ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "Authorization": tc3_authorization(
                self.secret_id, self.secret_key, self.host, body, timestamp
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        _, answer = request_json("POST", self.endpoint, body, headers)
        response = answer.get("Response", {})
        if "Error" in response:
            code = response["Error"].get("Code", "")
            detail = f"SendSms {code}: {response['Error'].get('Message', '')}"
            if code in TRANSIENT:
                raise TransientError(detail)
            raise PermanentError(detail)
        status = (response.get("SendStatusSet") or [{}])[0]
        code = status.get("Code", "")
        if code == "Ok":
            return str(status.get("SerialNo", ""))
        detail = f"SendSms {code}: {status.get('Message', '')}"
        if code.startswith("LimitExceeded.PhoneNumber"):
            raise RateLimitedError(detail, time.time() + 60)
        raise PermanentError(detail)
