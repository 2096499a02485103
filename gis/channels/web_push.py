"""Web Push (RFC 8030) with VAPID (RFC 8292) through pywebpush, where a push service is
reachable (not inside WeChat/WeCom browsers, not from mainland China to Google's FCM, not
on an intranet — which is why the ladder goes on to WeCom, SMS and voice).

``Message.address`` is the browser's PushSubscription as JSON ({"endpoint", "keys":
{"p256dh", "auth"}}). The payload is encrypted (aes128gcm, RFC 8291) and the request
carries ``Authorization: vapid t=<JWT ES256 with aud = the endpoint's origin, exp, sub>,
k=<public key>`` and a TTL. 201 is accepted; 429 is rate-limited (Retry-After), 404/410
mean the subscription is gone (``AddressGoneError``: the sender deletes it), 5xx is
transient.
"""

from __future__ import annotations

import base64
import json
import time

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from gis.channels.base import (
    AddressGoneError,
    Channel,
    Message,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    TransientError,
)


def vapid_public_key(private_key: str) -> str:
    """The application server key a browser's ``pushManager.subscribe`` needs: the VAPID
    key pair's public point (uncompressed, base64url without padding)."""
    public = Vapid.from_string(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(public).rstrip(b"=").decode()


class WebPushChannel(Channel):
    name = "web_push"

    def __init__(
        self,
        vapid_private_key: str,
        vapid_subject: str,
        ttl_s: int = 300,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.vapid_private_key = vapid_private_key
        self.vapid_subject = vapid_subject
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s

    def attempt(self, message: Message) -> str:
        try:
            subscription = json.loads(message.address)
        except ValueError as error:
            raise PermanentError(f"not a push subscription: {error}") from error
        data = json.dumps(
            {
                "title": message.title,
                "body": message.text,
                "url": message.url,
                "refs": message.refs,
            },
            ensure_ascii=False,
        )
        try:
            response = webpush(
                subscription,
                data,
                vapid_private_key=self.vapid_private_key,
                vapid_claims={"sub": self.vapid_subject},
                ttl=self.ttl_s,
                timeout=self.timeout_s,
                headers={"Urgency": "high"},
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else 0
            if status == 429:
                retry_after = float(error.response.headers.get("Retry-After", "60") or 60)
                raise RateLimitedError(
                    f"push service: {status}", time.time() + retry_after
                ) from error
            if status in (404, 410):
                raise AddressGoneError(
                    f"推送订阅已失效 (push service: {status}, subscription gone)"
                ) from error
            if status >= 500:
                raise TransientError(f"push service: {status}") from error
            raise PermanentError(f"push service: {error.message}") from error
        except requests.RequestException as error:
            raise TransientError(f"push service unreachable: {error}") from error
        return str(response.headers.get("Location", ""))
