"""The enabled channels, built from Settings (a channel with an empty secret is off)."""

from __future__ import annotations

from gis.channels.aliyun_sms import AliyunSmsChannel
from gis.channels.aliyun_voice import AliyunVoiceChannel
from gis.channels.base import Channel, RetryPolicy
from gis.channels.dingtalk_robot import DingTalkRobotChannel
from gis.channels.tencent_sms import TencentSmsChannel
from gis.channels.web_push import WebPushChannel
from gis.channels.wecom_app import WeComAppChannel
from gis.channels.wecom_robot import WeComRobotChannel
from gis.settings import Settings


def enabled_channels(settings: Settings) -> dict[str, Channel]:
    """Channel name → channel, for every provider whose credentials are set."""
    retry = RetryPolicy(
        max_attempts=settings.channel_retry_attempts, base_s=settings.channel_retry_base_s
    )
    wecom, dingtalk, aliyun = settings.wecom, settings.dingtalk, settings.aliyun
    tencent, web_push = settings.tencent, settings.web_push
    channels: list[Channel] = []
    if wecom.corp_id and wecom.corp_secret:
        channels.append(
            WeComAppChannel(
                wecom.base_url, wecom.corp_id, wecom.corp_secret, wecom.agent_id, retry=retry
            )
        )
    if wecom.robot_key:
        channels.append(
            WeComRobotChannel(
                wecom.base_url, wecom.robot_key, limit=(wecom.robot_per_minute, 60.0), retry=retry
            )
        )
    if dingtalk.robot_token and dingtalk.robot_secret:
        channels.append(
            DingTalkRobotChannel(
                dingtalk.base_url,
                dingtalk.robot_token,
                dingtalk.robot_secret,
                limit=(dingtalk.robot_per_minute, 60.0),
                block_s=dingtalk.block_s,
                retry=retry,
            )
        )
    if aliyun.access_key_id and aliyun.access_key_secret:
        if aliyun.sms_template_code:
            channels.append(
                AliyunSmsChannel(
                    aliyun.sms_endpoint,
                    aliyun.access_key_id,
                    aliyun.access_key_secret,
                    aliyun.sms_sign_name,
                    aliyun.sms_template_code,
                    retry=retry,
                )
            )
        if aliyun.voice_tts_code:
            channels.append(
                AliyunVoiceChannel(
                    aliyun.voice_endpoint,
                    aliyun.access_key_id,
                    aliyun.access_key_secret,
                    aliyun.voice_tts_code,
                    aliyun.voice_show_number,
                    retry=retry,
                )
            )
    if tencent.secret_id and tencent.secret_key and tencent.sms_template_id:
        channels.append(
            TencentSmsChannel(
                tencent.sms_endpoint,
                tencent.secret_id,
                tencent.secret_key,
                tencent.sms_app_id,
                tencent.sms_sign_name,
                tencent.sms_template_id,
                tuple(tencent.sms_template_params),
                tencent.region,
                retry=retry,
            )
        )
    if web_push.vapid_private_key:
        channels.append(
            WebPushChannel(web_push.vapid_private_key, web_push.vapid_subject, retry=retry)
        )
    return {channel.name: channel for channel in channels}
