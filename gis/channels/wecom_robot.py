"""WeCom group robot (群机器人) webhook: POST {base}/cgi-bin/webhook/send?key=KEY.

Body {"msgtype": "markdown", "markdown": {"content": …}} (≤ 4096 bytes) or {"msgtype":
"text", "text": {"content": … (≤ 2048 bytes), "mentioned_mobile_list": […]}}. A robot
takes 20 messages a minute; past that it answers errcode 45009. Markdown cannot @ by
mobile, so the text type is the default (it rings the mentioned members).
"""

from __future__ import annotations

from typing import Literal

from gis.channels.base import Channel, Message, RetryPolicy, clip_utf8
from gis.channels.errcode import raise_for_errcode
from gis.channels.http_json import post_json

FREQ_LIMIT = 45009
ROBOT_LIMIT = (20, 60.0)


class WeComRobotChannel(Channel):
    name = "wecom_robot"

    def __init__(
        self,
        base_url: str,
        key: str,
        msgtype: Literal["text", "markdown"] = "text",
        limit: tuple[int, float] = ROBOT_LIMIT,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(retry)
        self.url = f"{base_url.rstrip('/')}/cgi-bin/webhook/send?key={key}"
        self.key = key
        self.msgtype = msgtype
        self.limits = (limit,)

    def rate_key(self, message: Message) -> str:
        return self.key

    def body(self, message: Message) -> dict:
        content = f"{message.title}\n{message.text}\n{message.url}".strip()
        if self.msgtype == "markdown":
            link = f"\n[详情]({message.url})" if message.url else ""
            markdown = f"**{message.title}**\n{message.text}{link}"
            return {"msgtype": "markdown", "markdown": {"content": clip_utf8(markdown, 4096)}}
        return {
            "msgtype": "text",
            "text": {
                "content": clip_utf8(content, 2048),
                "mentioned_mobile_list": message.mentioned(),
            },
        }

    def attempt(self, message: Message) -> str:
        _, answer = post_json(self.url, self.body(message))
        raise_for_errcode(answer, "robot", {FREQ_LIMIT: self.limits[0][1]})
        return ""
