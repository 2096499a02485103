"""Limits, retries and token refresh, against the local provider servers.

Windows are scaled down (a few messages per second instead of 20 a minute) so that the
tests are fast; the logic is the same one the documented limits go through.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from gis.channels.aliyun_sms import AliyunSmsChannel
from gis.channels.base import DeliveryReceipt, Message, RetryPolicy
from gis.channels.dingtalk_robot import DingTalkRobotChannel
from gis.channels.limits import Dispatcher, RateLimiter, merge
from gis.channels.tencent_sms import TencentSmsChannel
from gis.channels.wecom_app import WeComAppChannel
from gis.channels.wecom_robot import WeComRobotChannel
from tests.provider_servers import AliyunServer, DingTalkServer, TencentSmsServer, WeComServer

FAST_RETRY = RetryPolicy(max_attempts=4, base_s=0.05)


def _alerts(count: int) -> list[Message]:
    return [
        Message(f"1380013800{i % 10}", f"火情 #{i}", f"告警 {i}", refs=(f"task:{i}",))
        for i in range(count)
    ]


def _deliver_all(
    dispatcher: Dispatcher, alerts: Sequence[Message], deadline_s: float = 15.0
) -> list[tuple[tuple[Message, ...], DeliveryReceipt]]:
    """Alerts arrive one by one; what a limit holds back is dispatched again (merged) once
    the receipt's retry_at has passed — the sender loop's job in production."""
    outcome = []
    held: list[Message] = []
    retry_at = 0.0
    for alert in alerts:
        for group, receipt in dispatcher.dispatch([alert]):
            outcome.append((group, receipt))
            if receipt.status == "rate_limited":
                held += group
                retry_at = max(retry_at, receipt.retry_at or 0.0)
    deadline = time.time() + deadline_s
    while held:
        assert time.time() < deadline, f"{len(held)} alerts still held"
        time.sleep(max(0.0, min(retry_at - time.time(), 0.2)))
        if time.time() < retry_at:
            continue
        batch, held = held, []
        for group, receipt in dispatcher.dispatch(batch):
            outcome.append((group, receipt))
            if receipt.status == "rate_limited":
                held += group
                retry_at = receipt.retry_at or time.time()
    return outcome


def _delivered_refs(outcome) -> list[str]:
    return [
        r for group, receipt in outcome if receipt.status == "sent" for m in group for r in m.refs
    ]


def test_robot_limit_merges_alerts_and_loses_none():
    """Our limiter keeps the robot inside its limit: the provider never refuses, and the
    alerts past the limit arrive as ONE merged message listing them."""
    with WeComServer(robot_limit=(3, 1.0)) as wecom:
        channel = WeComRobotChannel(wecom.url, wecom.robot_key, limit=(3, 1.0), retry=FAST_RETRY)
        outcome = _deliver_all(Dispatcher(channel), _alerts(10))
        assert sorted(_delivered_refs(outcome)) == sorted(f"task:{i}" for i in range(10))
        sent = wecom.robot_messages()
        assert len(sent) == 4  # 3 single ones, then one listing the other 7
        merged = sent[-1]["text"]["content"]
        assert merged.startswith("7 条告警") and all(f"火情 #{i}" in merged for i in range(3, 10))
        assert len(sent[-1]["text"]["mentioned_mobile_list"]) == 7
        assert not wecom.rejected()


def test_dingtalk_block_after_the_limit_merges_and_loses_none():
    """Our limiter is wrong (it allows 20/min) but DingTalk allows 3: the 130101 answer
    blocks the robot for block_s, the held alerts go out merged after the block."""
    with DingTalkServer(limit=(3, 1.0), block_s=1.5) as ding:
        channel = DingTalkRobotChannel(
            ding.url, ding.access_token, ding.secret, block_s=1.5, retry=FAST_RETRY
        )
        outcome = _deliver_all(Dispatcher(channel), _alerts(8))
        assert sorted(_delivered_refs(outcome)) == sorted(f"task:{i}" for i in range(8))
        refused = [r for r in ding.rejected() if r.answer.get("errcode") == 130101]
        assert len(refused) == 1  # the 4th; the rest waited out the block without asking
        sent = ding.messages()
        assert len(sent) == 4 and sent[-1]["text"]["content"].startswith("5 条告警")


def test_transient_5xx_is_retried_with_backoff():
    with WeComServer() as wecom:
        channel = WeComRobotChannel(wecom.url, wecom.robot_key, retry=FAST_RETRY)
        wecom.fail_next(2, status=503)
        receipt = channel.send(_alerts(1)[0])
        assert receipt.status == "sent" and receipt.attempts == 3
        first, second, third = wecom.received
        assert [first.status, second.status, third.status] == [503, 503, 200]
        assert second.at - first.at >= FAST_RETRY.base_s
        assert third.at - second.at >= 2 * FAST_RETRY.base_s  # exponential
        wecom.fail_next(4, status=502)
        exhausted = channel.send(_alerts(1)[0])
        assert exhausted.status == "failed" and exhausted.attempts == 4
        assert "502" in exhausted.error


def test_wecom_token_cached_then_refreshed_on_expiry():
    with WeComServer() as wecom:
        channel = WeComAppChannel(
            wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id, retry=FAST_RETRY
        )
        alert = Message("worker-01", "火情", "告警")
        assert channel.send(alert).status == "sent"
        assert channel.send(alert).status == "sent"
        assert len(wecom.token_requests()) == 1  # cached
        wecom.expire_tokens()
        receipt = channel.send(alert)
        assert receipt.status == "sent", receipt.error
        assert len(wecom.token_requests()) == 2
        expired = [r for r in wecom.rejected() if r.answer.get("errcode") == 42001]
        assert len(expired) == 1
        assert len(wecom.app_messages()) == 3


def test_voice_callee_limits_hold_a_second_call():
    limiter = RateLimiter(((1, 60.0), (5, 3600.0)))
    assert limiter.retry_at("13800138000", now=1000.0) is None
    limiter.record("13800138000", now=1000.0)
    assert limiter.retry_at("13800138000", now=1030.0) == 1060.0
    assert limiter.retry_at("13900139000", now=1030.0) is None
    for minute in range(1, 5):
        limiter.record("13800138000", now=1000.0 + 60 * minute)
    assert limiter.retry_at("13800138000", now=1300.0) == 4600.0  # 5 an hour


def test_merged_message_lists_every_alert_and_keeps_template_variables():
    alerts = [
        Message(
            "13800138000", f"火情 #{i}", f"告警 {i}", params={"title": f"火情 #{i}", "place": "A"}
        )
        for i in range(3)
    ]
    merged = merge(alerts)
    assert merged.text.splitlines() == [f"{i + 1}. 火情 #{i}: 告警 {i}" for i in range(3)]
    assert merged.params == {"title": "火情 #2等3条告警", "place": "A"}  # no unknown variable
    assert merged.mentions == ("13800138000",)


def test_wecom_app_member_limit_kept_so_nothing_is_silently_dropped():
    """WeCom drops app messages past 30 a minute per member without an error: the channel's
    limiter keeps below it and merges the rest."""
    with WeComServer(member_limit=(3, 1.0)) as wecom:
        channel = WeComAppChannel(
            wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id,
            member_limits=((3, 1.0),), retry=FAST_RETRY,
        )  # fmt: skip
        alerts = [
            Message("worker-01", f"火情 #{i}", f"告警 {i}", refs=(f"task:{i}",)) for i in range(7)
        ]
        outcome = _deliver_all(Dispatcher(channel), alerts)
        assert sorted(_delivered_refs(outcome)) == sorted(f"task:{i}" for i in range(7))
        assert wecom.dropped == []
        assert len(wecom.app_messages()) == 4
        # without our limiter the provider would have dropped some, silently
        unlimited = WeComAppChannel(
            wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id, member_limits=()
        )
        receipts = [unlimited.send(a) for a in alerts]
        assert all(r.status == "sent" for r in receipts) and wecom.dropped


def test_sms_providers_flow_control_is_rate_limited_not_failed():
    alert = Message("13800138000", "火情", "告警", params={"title": "火情", "place": "A"})
    with (
        AliyunServer("dysms", number_limits=((1, 60.0),)) as aliyun,
        TencentSmsServer(number_limit=(1, 30.0)) as tencent,
    ):
        channels = [
            AliyunSmsChannel(
                aliyun.url, aliyun.access_key_id, aliyun.access_key_secret, "网格通", "SMS_1"
            ),
            TencentSmsChannel(
                tencent.url, tencent.secret_id, tencent.secret_key, tencent.sdk_app_id,
                "网格通", "1110", ("title", "place"),
            ),
        ]  # fmt: skip
        for channel in channels:
            assert channel.send(alert).status == "sent"
            held = channel.send(alert)
            assert held.status == "rate_limited", held
            assert held.retry_at is not None and held.retry_at > time.time()
        assert "isv.BUSINESS_LIMIT_CONTROL" in aliyun.rejected()[0].answer["Code"]
        [statuses] = [r.answer["Response"]["SendStatusSet"] for r in tencent.accepted()][1:]
        assert statuses[0]["Code"] == "LimitExceeded.PhoneNumberThirtySecondLimit"
