"""DingTalk custom robot (自定义机器人) with 加签 (signing).

POST {base}/robot/send?access_token=…&timestamp=…&sign=… where timestamp is epoch
milliseconds (DingTalk rejects one more than an hour off) and sign =
urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))). Body {"msgtype":
"text", "text": {"content": …}, "at": {"atMobiles": […], "isAtAll": false}} or
"markdown" with {"title", "text"}. A robot takes 20 messages a minute; past that it
answers errcode 130101 (send too fast) and is blocked for 10 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Literal

from gis.channels.base import Channel, Message, RetryPolicy
from gis.channels.errcode import raise_for_errcode
from gis.channels.http_json import post_json

SEND_TOO_FAST = 130101
ROBOT_LIMIT = (20, 60.0)
BLOCK_S = 600.0


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The ``sign`` query value, already URL-encoded as DingTalk documents it."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalkRobotChannel(Channel):
    name = "dingtalk_robot"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        secret: str,
        msgtype: Literal["text", "markdown"] = "text",
        limit: tuple[int, float] = ROBOT_LIMIT,
        block_s: float = BLOCK_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.secret = secret
        self.msgtype = msgtype
        self.limits = (limit,)
        self.block_s = block_s

    def rate_key(self, message: Message) -> str:
        return self.access_token

    def url(self, timestamp_ms: int) -> str:
        sign = dingtalk_sign(timestamp_ms, self.secret)
        return (
            f"{self.base_url}/robot/send?access_token={self.access_token}"
            f"&timestamp={timestamp_ms}&sign={sign}"
        )

    def body(self, message: Message) -> dict:
        at = {"atMobiles": message.mentioned(), "isAtAll": False}
        mentions = " ".join(f"@{m}" for m in message.mentioned())
        if self.msgtype == "markdown":
            link = f"\n\n[详情]({message.url})" if message.url else ""
            text = f"### {message.title}\n\n{message.text}{link}\n\n{mentions}"
            return {
                "msgtype": "markdown",
                "markdown": {"title": message.title, "text": text},
                "at": at,
            }
        content = f"{message.title}\n{message.text}\n{message.url}\n{mentions}".strip()
        return {"msgtype": "text", "text": {"content": content}, "at": at}

    def attempt(self, message: Message) -> str:
        _, answer = post_json(self.url(int(time.time() * 1000)), self.body(message))
        raise_for_errcode(answer, "dingtalk", {SEND_TOO_FAST: self.block_s})
        return ""
