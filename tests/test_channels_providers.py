"""Each provider's happy path, checked by its local server (format + signature), and a
wrong secret rejected by the same server — proof that the server's check can fail."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gis import cli
from gis.channels import aliyun_rpc
from gis.channels.aliyun_sms import AliyunSmsChannel
from gis.channels.aliyun_voice import AliyunVoiceChannel
from gis.channels.base import Message
from gis.channels.dingtalk_robot import DingTalkRobotChannel
from gis.channels.registry import enabled_channels
from gis.channels.tencent_sms import TencentSmsChannel
from gis.channels.web_push import WebPushChannel
from gis.channels.wecom_app import WeComAppChannel
from gis.channels.wecom_robot import WeComRobotChannel
from gis.settings import (
    AliyunSettings,
    DingTalkSettings,
    Settings,
    WeComSettings,
    get_settings,
)
from tests.provider_servers import (
    AliyunServer,
    DingTalkServer,
    PushServer,
    TencentSmsServer,
    WeComServer,
)

ALERT = Message(
    address="13800138000",
    title="火情告警 昆都仑区 网格 150203001001001",
    text="塔台摄像机 cam-tower-01 检测到烟雾，请立即核查",
    url="http://127.0.0.1:8000/m/tasks/7",
    params={"title": "火情告警", "place": "幸福小区3号楼"},
    refs=("task:7",),
)


def _for(address: str) -> Message:
    return dataclasses.replace(ALERT, address=address)


def test_aliyun_signature_matches_the_documented_example():
    """The worked example of Aliyun's RPC signature page (DescribeRegions, testsecret)."""
    params = {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert aliyun_rpc.signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_wecom_app_message_textcard():
    with WeComServer() as wecom:
        channel = WeComAppChannel(wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id)
        receipt = channel.send(_for("worker-01"))
        assert receipt.status == "sent", receipt.error
        assert receipt.provider_id and receipt.attempts == 1
        (sent,) = wecom.app_messages()
        assert sent["touser"] == "worker-01" and sent["msgtype"] == "textcard"
        assert sent["agentid"] == wecom.agent_id
        assert sent["textcard"]["url"] == ALERT.url
        assert not wecom.rejected()


def test_wecom_app_unknown_user_and_wrong_secret_fail():
    with WeComServer() as wecom:
        unknown = WeComAppChannel(wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id)
        receipt = unknown.send(_for("nobody"))
        assert receipt.status == "failed" and "81013" in receipt.error
        wrong = WeComAppChannel(wecom.url, wecom.corp_id, "not-the-secret", wecom.agent_id)
        receipt = wrong.send(_for("worker-01"))
        assert receipt.status == "failed" and "40001" in receipt.error
        assert wecom.rejected()[-1].answer["errcode"] == 40001


def test_wecom_robot_text_mentions_the_mobile():
    with WeComServer() as wecom:
        receipt = WeComRobotChannel(wecom.url, wecom.robot_key).send(ALERT)
        assert receipt.status == "sent", receipt.error
        (sent,) = wecom.robot_messages()
        assert sent["msgtype"] == "text"
        assert sent["text"]["mentioned_mobile_list"] == ["13800138000"]
        assert ALERT.title in sent["text"]["content"]
        markdown = WeComRobotChannel(wecom.url, wecom.robot_key, msgtype="markdown").send(ALERT)
        assert markdown.status == "sent"
        assert wecom.robot_messages()[1]["markdown"]["content"].startswith(f"**{ALERT.title}**")
        wrong = WeComRobotChannel(wecom.url, "wrong-key").send(ALERT)
        assert wrong.status == "failed" and "93000" in wrong.error


def test_dingtalk_signed_robot():
    with DingTalkServer() as ding:
        receipt = DingTalkRobotChannel(ding.url, ding.access_token, ding.secret).send(ALERT)
        assert receipt.status == "sent", receipt.error
        (sent,) = ding.messages()
        assert sent["at"] == {"atMobiles": ["13800138000"], "isAtAll": False}
        (request,) = ding.accepted()
        assert set(request.query) == {"access_token", "timestamp", "sign"}
        forged = DingTalkRobotChannel(ding.url, ding.access_token, "SECwrong").send(ALERT)
        assert forged.status == "failed" and "310000" in forged.error
        assert ding.rejected()[-1].answer == {"errcode": 310000, "errmsg": "sign not match"}


def test_aliyun_sms_send_sms():
    with AliyunServer("dysms") as aliyun:
        channel = AliyunSmsChannel(
            aliyun.url, aliyun.access_key_id, aliyun.access_key_secret, "网格通", "SMS_270000001"
        )
        receipt = channel.send(_for("+86 138-0013-8000"))
        assert receipt.status == "sent", receipt.error
        assert receipt.provider_id.endswith("^0")
        (call,) = aliyun.calls()
        assert call["PhoneNumbers"] == "13800138000" and call["SignName"] == "网格通"
        assert json.loads(call["TemplateParam"]) == ALERT.params
        wrong = AliyunSmsChannel(aliyun.url, aliyun.access_key_id, "wrong", "网格通", "SMS_1")
        receipt = wrong.send(ALERT)
        assert receipt.status == "failed" and "SignatureDoesNotMatch" in receipt.error
        assert aliyun.rejected()[-1].status == 400


def test_aliyun_voice_single_call_by_tts():
    with AliyunServer("dyvms") as aliyun:
        channel = AliyunVoiceChannel(
            aliyun.url, aliyun.access_key_id, aliyun.access_key_secret, "TTS_10001"
        )
        receipt = channel.send(ALERT)
        assert receipt.status == "sent", receipt.error
        assert "^" in receipt.provider_id
        (call,) = aliyun.calls()
        assert call["Action"] == "SingleCallByTts" and call["CalledNumber"] == "13800138000"
        assert json.loads(call["TtsParam"]) == ALERT.params
        assert "CalledShowNumber" not in call  # public number pool
        wrong = AliyunVoiceChannel(aliyun.url, aliyun.access_key_id, "wrong", "TTS_10001")
        assert "SignatureDoesNotMatch" in wrong.send(ALERT).error


def test_tencent_sms_tc3_signed():
    with TencentSmsServer() as tencent:

        def channel(secret_key: str) -> TencentSmsChannel:
            return TencentSmsChannel(
                tencent.url, tencent.secret_id, secret_key, tencent.sdk_app_id, "网格通",
                "1110", ("title", "place"),
            )  # fmt: skip

        receipt = channel(tencent.secret_key).send(ALERT)
        assert receipt.status == "sent", receipt.error
        (sent,) = tencent.requests_json()
        assert sent["PhoneNumberSet"] == ["+8613800138000"]
        assert sent["TemplateParamSet"] == ["火情告警", "幸福小区3号楼"]
        forged = channel("wrong-key").send(ALERT)
        assert forged.status == "failed" and "AuthFailure.SignatureFailure" in forged.error


@pytest.fixture
def vapid_key() -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(der).rstrip(b"=").decode()


def test_web_push_with_vapid(vapid_key: str):
    with PushServer() as push:
        subscription = push.subscription()
        message = Message(json.dumps(subscription), ALERT.title, ALERT.text, ALERT.url)
        receipt = WebPushChannel(vapid_key, "mailto:ops@wangge.invalid").send(message)
        assert receipt.status == "sent", receipt.error
        assert "/message/" in receipt.provider_id
        assert push.payloads == [
            {"title": ALERT.title, "body": ALERT.text, "url": ALERT.url, "refs": []}
        ]
        gone = dict(subscription, endpoint=f"{push.url}/push/expired")
        receipt = WebPushChannel(vapid_key, "mailto:ops@wangge.invalid").send(
            Message(json.dumps(gone), "t", "x")
        )
        assert receipt.status == "failed" and push.rejected()[-1].status == 410
        assert receipt.address_gone and receipt.attempts == 1  # no retry: forget it


def test_a_channel_is_enabled_only_when_its_secret_is_set():
    assert enabled_channels(Settings()) == {}
    configured = Settings(
        wecom=WeComSettings(corp_id="ww1", corp_secret="s"),
        # no secret: an unsigned DingTalk robot is not used
        dingtalk=DingTalkSettings(robot_token="t", robot_secret=""),
        aliyun=AliyunSettings(access_key_id="id", access_key_secret="k", voice_tts_code="TTS_1"),
    )
    assert sorted(enabled_channels(configured)) == ["aliyun_voice", "wecom_app"]


def test_cli_sends_one_test_message_and_prints_the_receipt(monkeypatch, capsys):
    with DingTalkServer() as ding:
        monkeypatch.setenv("WANGGE_DINGTALK_BASE_URL", ding.url)
        monkeypatch.setenv("WANGGE_DINGTALK_ROBOT_TOKEN", ding.access_token)
        monkeypatch.setenv("WANGGE_DINGTALK_ROBOT_SECRET", ding.secret)
        get_settings.cache_clear()
        try:
            assert cli.main(["channels", "list"]) == 0
            assert capsys.readouterr().out.split() == ["dingtalk_robot"]
            assert cli.main(["channels", "send", "dingtalk_robot", "13800138000"]) == 0
            assert json.loads(capsys.readouterr().out)["status"] == "sent"
            assert ding.messages()[0]["at"]["atMobiles"] == ["13800138000"]
            assert cli.main(["channels", "send", "aliyun_sms", "13800138000"]) == 2
            assert "not configured" in capsys.readouterr().out
        finally:
            get_settings.cache_clear()
