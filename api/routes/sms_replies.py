"""Inbound SMS from the providers Wangge sends through: families' replies to elderly-watch
notices (gis.sms_replies), in each provider's documented push format.

- Aliyun 短信服务, 上行消息 SmsUp, HTTP 批量推送: ``POST`` a JSON array of ``{phone_number,
  content, send_time, sign_name, dest_code, sequence_id}``; answered ``{"code": 0, "msg":
  "接收成功"}`` (Aliyun checks only that ``code`` is a number and the status is 200, and
  pushes again after 1, 5 and 10 minutes otherwise).
- Tencent Cloud SMS 短信回复 callback: ``POST`` ``{extend, mobile, nationcode, sign, text,
  time}`` (time in epoch seconds); answered ``{"result": 0, "errmsg": "OK"}``.

Neither provider signs these pushes, so each route's URL carries a secret path token
(``WANGGE_ALIYUN_SMS_REPLY_TOKEN``, ``WANGGE_TENCENT_SMS_REPLY_TOKEN``): any other path is
a 404, and an empty setting turns the route off. docs/elderly-watch.md says how to set the
URLs in each console.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn
from api.errors import NotFound
from api.responses import OrjsonResponse
from gis.sms_replies import InboundSms, receive_reply

router = APIRouter(tags=["SMS replies 短信回复"])


class AliyunSmsUp(BaseModel):
    """One SmsUp message (sequence_id is a number in one version of the docs, a string in
    another: both are taken)."""

    phone_number: str = Field(max_length=32)
    content: str = Field(max_length=2000)
    send_time: str = Field(default="", max_length=32, description="YYYY-MM-DD hh:mm:ss, local")
    sign_name: str = Field(default="", max_length=100)
    dest_code: str = Field(default="", max_length=32)
    sequence_id: int | str


class TencentSmsReply(BaseModel):
    extend: str | None = Field(default="", max_length=32)
    mobile: str = Field(max_length=32)
    nationcode: str = Field(max_length=8)
    sign: str = Field(default="", max_length=100)
    text: str = Field(max_length=2000)
    time: int = Field(description="UNIX time, seconds")


def _check_token(given: str, configured: str) -> None:
    if not configured or not hmac.compare_digest(given.encode(), configured.encode()):
        raise NotFound("未知的回调地址 (unknown callback address)")


def aliyun_token(token: str, settings: AppSettings) -> None:
    """A dependency, so that a wrong path is refused before the body is even read."""
    _check_token(token, settings.aliyun.sms_reply_token)


def tencent_token(token: str, settings: AppSettings) -> None:
    _check_token(token, settings.tencent.sms_reply_token)


def _local_time(text: str, zone: str) -> datetime | None:
    """Aliyun's ``send_time`` (local, no zone); None when it is not that format."""
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        return None


@router.post("/watch/sms/aliyun/{token}", dependencies=[Depends(aliyun_token)])
def aliyun_sms_up(
    body: Annotated[list[AliyunSmsUp], Body(max_length=1000)], conn: Conn, settings: AppSettings
) -> OrjsonResponse:
    """Aliyun's HTTP batch push of SmsUp (上行短信) messages."""
    for message in body:
        receive_reply(
            conn,
            InboundSms(
                provider="aliyun_sms",
                key=str(message.sequence_id),
                phone=message.phone_number,
                text=message.content,
                sent_at=_local_time(message.send_time, settings.local_timezone),
            ),
            settings.watch_notice_link_h,
        )
    return OrjsonResponse({"code": 0, "msg": "接收成功"})


@router.post("/watch/sms/tencent/{token}", dependencies=[Depends(tencent_token)])
def tencent_sms_reply(body: TencentSmsReply, conn: Conn, settings: AppSettings) -> OrjsonResponse:
    """Tencent Cloud SMS's reply callback (短信回复). It carries no message id, so a reply
    is known again by its number, time and text."""
    phone = body.mobile if body.nationcode in ("", "86") else f"+{body.nationcode}{body.mobile}"
    key = hashlib.sha256(f"{body.nationcode}|{body.mobile}|{body.time}|{body.text}".encode())
    receive_reply(
        conn,
        InboundSms(
            provider="tencent_sms",
            key=key.hexdigest(),
            phone=phone,
            text=body.text,
            sent_at=datetime.fromtimestamp(body.time, UTC),
        ),
        settings.watch_notice_link_h,
    )
    return OrjsonResponse({"result": 0, "errmsg": "OK"})
