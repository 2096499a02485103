"""Aliyun SMS (短信服务) SendSms: dysmsapi, Version 2017-05-25, RPC signature (aliyun_rpc).

Parameters PhoneNumbers (11-digit mainland number), SignName, TemplateCode and
TemplateParam (a JSON object filling the template's ${variables}); the answer carries
BizId. Per-number flow control (isv.BUSINESS_LIMIT_CONTROL) is rate-limited.
"""

from __future__ import annotations

import json

from gis.channels.aliyun_rpc import AliyunRpcChannel
from gis.channels.base import Message, RetryPolicy
from gis.channels.phones import mainland_number


class AliyunSmsChannel(AliyunRpcChannel):
    name = "aliyun_sms"

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(endpoint, access_key_id, access_key_secret, retry)
        self.sign_name = sign_name
        self.template_code = template_code

    def attempt(self, message: Message) -> str:
        answer = self.call(
            "SendSms",
            {
                "PhoneNumbers": mainland_number(message.address),
                "SignName": self.sign_name,
                "TemplateCode": self.template_code,
                "TemplateParam": json.dumps(message.params, ensure_ascii=False),
            },
        )
        return str(answer.get("BizId", ""))
