"""Aliyun voice notification (语音通知) SingleCallByTts: dyvmsapi, Version 2017-05-25, RPC
signature (aliyun_rpc).

Parameters CalledNumber (one callee per call), TtsCode (an approved TTS template),
TtsParam (JSON for its variables), PlayTimes, and CalledShowNumber only in dedicated mode
(empty = public number pool). Aliyun caps calls per callee at 1 a minute, 5 an hour and
20 a day; the limits below keep us inside them so the ladder merges instead of failing.
"""

from __future__ import annotations

import json

from gis.channels.aliyun_rpc import AliyunRpcChannel
from gis.channels.base import Message, RetryPolicy
from gis.channels.phones import mainland_number

CALLEE_LIMITS = ((1, 60.0), (5, 3600.0), (20, 86400.0))


class AliyunVoiceChannel(AliyunRpcChannel):
    name = "aliyun_voice"
    limits = CALLEE_LIMITS

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        tts_code: str,
        called_show_number: str = "",
        play_times: int = 2,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(endpoint, access_key_id, access_key_secret, retry)
        self.tts_code = tts_code
        self.called_show_number = called_show_number
        self.play_times = play_times

    def rate_key(self, message: Message) -> str:
        return mainland_number(message.address)

    def attempt(self, message: Message) -> str:
        params = {
            "CalledNumber": mainland_number(message.address),
            "TtsCode": self.tts_code,
            "TtsParam": json.dumps(message.params, ensure_ascii=False),
            "PlayTimes": str(self.play_times),
        }
        if self.called_show_number:
            params["CalledShowNumber"] = self.called_show_number
        answer = self.call("SingleCallByTts", params)
        return str(answer.get("CallId", ""))
