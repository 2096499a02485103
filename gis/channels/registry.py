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
    s = settings
    retry = RetryPolicy(max_attempts=s.channel_retry_attempts, base_s=s.channel_retry_base_s)
    channels: list[Channel] = []
    if s.wecom_corp_id and s.wecom_corp_secret:
        channels.append(
            WeComAppChannel(
                s.wecom_base_url,
                s.wecom_corp_id,
                s.wecom_corp_secret,
                s.wecom_agent_id,
                retry=retry,
            )
        )
    if s.wecom_robot_key:
        channels.append(
            WeComRobotChannel(
                s.wecom_base_url,
                s.wecom_robot_key,
                limit=(s.wecom_robot_per_minute, 60.0),
                retry=retry,
            )
        )
    if s.dingtalk_robot_token and s.dingtalk_robot_secret:
        channels.append(
            DingTalkRobotChannel(
                s.dingtalk_base_url,
                s.dingtalk_robot_token,
                s.dingtalk_robot_secret,
                limit=(s.dingtalk_robot_per_minute, 60.0),
                block_s=s.dingtalk_block_s,
                retry=retry,
            )
        )
    if s.aliyun_access_key_id and s.aliyun_access_key_secret:
        if s.aliyun_sms_template_code:
            channels.append(
                AliyunSmsChannel(
                    s.aliyun_sms_endpoint,
                    s.aliyun_access_key_id,
                    s.aliyun_access_key_secret,
                    s.aliyun_sms_sign_name,
                    s.aliyun_sms_template_code,
                    retry=retry,
                )
            )
        if s.aliyun_voice_tts_code:
            channels.append(
                AliyunVoiceChannel(
                    s.aliyun_voice_endpoint,
                    s.aliyun_access_key_id,
                    s.aliyun_access_key_secret,
                    s.aliyun_voice_tts_code,
                    s.aliyun_voice_show_number,
                    retry=retry,
                )
            )
    if s.tencent_secret_id and s.tencent_secret_key and s.tencent_sms_template_id:
        channels.append(
            TencentSmsChannel(
                s.tencent_sms_endpoint,
                s.tencent_secret_id,
                s.tencent_secret_key,
                s.tencent_sms_app_id,
                s.tencent_sms_sign_name,
                s.tencent_sms_template_id,
                tuple(s.tencent_sms_template_params),
                s.tencent_region,
                retry=retry,
            )
        )
    if s.web_push_vapid_private_key:
        channels.append(
            WebPushChannel(s.web_push_vapid_private_key, s.web_push_vapid_subject, retry=retry)
        )
    return {channel.name: channel for channel in channels}
