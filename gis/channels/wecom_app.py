"""WeCom (企业微信) application message: ``gettoken`` then ``message/send``.

gettoken: GET {base}/cgi-bin/gettoken?corpid=…&corpsecret=… → {"errcode":0,
"access_token":…, "expires_in":7200}. The token is cached until shortly before it
expires and fetched again when message/send answers 40014 (invalid access_token) or
42001 (access_token expired) — once per send, not in a loop.

message/send: POST {base}/cgi-bin/message/send?access_token=… with {"touser": userid,
"msgtype": "textcard" | "text", "agentid": n, …} (textcard title ≤ 128 and description ≤
512 bytes, text ≤ 2048 bytes: clipped here) → {"errcode":0, "msgid":…}; a userid
WeCom does not know comes back in "invaliduser" with errcode 0 and is a failure here.
errcode -1 (system busy) is transient, 45009 (api freq out of limit) rate-limited; when
no recipient is valid WeCom answers 81013.

Limit: an application may message one member at most 30 times a minute (and 1,000 an
hour); WeCom silently DROPS the excess, so our limiter must keep below it — what it holds
back goes out merged.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from typing import Literal

from gis.channels.base import Channel, Message, PermanentError, RetryPolicy, clip_utf8
from gis.channels.errcode import raise_for_errcode
from gis.channels.http_json import post_json, request_json

TOKEN_INVALID = {40014, 42001}
FREQ_LIMIT = 45009
MEMBER_LIMITS = ((30, 60.0), (1000, 3600.0))
TOKEN_MARGIN_S = 300.0
"""Fetch a new token this long before the old one's documented expiry."""


class WeComAppChannel(Channel):
    name = "wecom_app"

    def __init__(
        self,
        base_url: str,
        corp_id: str,
        corp_secret: str,
        agent_id: int,
        msgtype: Literal["text", "textcard"] = "textcard",
        member_limits: tuple[tuple[int, float], ...] = MEMBER_LIMITS,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.limits = member_limits
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self.corp_secret = corp_secret
        self.agent_id = agent_id
        self.msgtype = msgtype
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def access_token(self, refresh: bool = False) -> str:
        with self._lock:
            if refresh or self._token is None or time.time() >= self._token_expires:
                query = urllib.parse.urlencode(
                    {"corpid": self.corp_id, "corpsecret": self.corp_secret}
                )
                _, answer = request_json("GET", f"{self.base_url}/cgi-bin/gettoken?{query}")
                raise_for_errcode(answer, "gettoken", {})
                if not answer.get("access_token"):
                    raise PermanentError("gettoken answered no access_token")
                self._token = answer["access_token"]
                lifetime = float(answer.get("expires_in", 7200))
                self._token_expires = time.time() + max(0.0, lifetime - TOKEN_MARGIN_S)
            return self._token

    def body(self, message: Message) -> dict:
        payload: dict = {
            "touser": message.address,
            "msgtype": self.msgtype,
            "agentid": self.agent_id,
        }
        if self.msgtype == "textcard":
            payload["textcard"] = {
                "title": clip_utf8(message.title, 128),
                "description": clip_utf8(message.text, 512),
                "url": message.url or "about:blank",
                "btntxt": "详情",
            }
        else:
            content = f"{message.title}\n{message.text}\n{message.url}".strip()
            payload["text"] = {"content": clip_utf8(content, 2048)}
        return payload

    def attempt(self, message: Message) -> str:
        answer = self._post(message, self.access_token())
        if answer.get("errcode") in TOKEN_INVALID:
            answer = self._post(message, self.access_token(refresh=True))
        raise_for_errcode(answer, "message/send", {FREQ_LIMIT: 60.0})
        if answer.get("invaliduser"):
            raise PermanentError(f"WeCom does not know user {answer['invaliduser']}")
        return str(answer.get("msgid", ""))

    def _post(self, message: Message, token: str) -> dict:
        url = f"{self.base_url}/cgi-bin/message/send?access_token={urllib.parse.quote(token)}"
        return post_json(url, self.body(message))[1]
