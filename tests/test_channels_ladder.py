"""The urgent ladder end to end: a camera fire over a real broker, the ingest process, real
PostGIS, and the local provider servers. Nobody accepts task A → SMS, then a voice call,
then the next level of the chain; task B is accepted at once → its ladder stops there.

Small timings (2 s to SMS, 4 s to voice, 6 s to the next level) stand in for 60/120/180 s.
Only what the timers guarantee is asserted: no step before its time and the steps in order;
what must not happen after the accept or the "seen" is checked against the moment they
were committed, so a slow machine that lets a timer fire first cannot fail the test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gis.db import connect
from gis.deliveries import mark_acknowledged, mark_seen
from gis.workorders import transition
from tests.ingest_world import GRID_A1, GRID_B1, IN_GRID, WORKER_IDS, fire, wait_subscribed
from tests.mqtt_helpers import wait_until
from tests.provider_servers import AliyunServer, WeComServer

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

SMS_AFTER_S, VOICE_AFTER_S, ESCALATE_AFTER_S = 2.0, 4.0, 6.0
PHONES = {worker: f"139{i:08d}" for i, worker in enumerate(WORKER_IDS)}


def _task_at(setup: Setup, grid: str) -> int | None:
    return setup.scalar("SELECT id FROM task WHERE grid_code = %s", grid)


def _deliveries(setup: Setup, task_id: int) -> list[tuple]:
    with connect(setup.database_url) as conn:
        return conn.execute(
            "SELECT d.worker_id, d.level, d.step, d.channel, d.state, d.address, "
            "extract(epoch FROM d.sent_at - n.notified_at) "
            "FROM delivery d JOIN task_notification n ON n.task_id = d.task_id "
            "AND n.worker_id = d.worker_id AND n.level = d.level "
            "WHERE d.task_id = %s ORDER BY d.id",
            (task_id,),
        ).fetchall()


def _sent(rows: list[tuple], step: str, level: int = 0) -> dict[str, float]:
    """worker → seconds from notification to sent, for one step and level."""
    return {
        r[0]: r[6]
        for r in rows
        if r[2] == step and r[1] == level and r[4] in ("sent", "seen", "acknowledged")
    }


def _sent_after(setup: Setup, task_id: int, worker: str, moment: object) -> list[tuple]:
    """SMS and voice deliveries to ``worker`` for the task sent at or after ``moment``."""
    with connect(setup.database_url) as conn:
        return conn.execute(
            "SELECT step, channel, sent_at FROM delivery WHERE task_id = %s AND worker_id = %s "
            "AND step IN ('sms', 'voice') AND sent_at >= %s",
            (task_id, worker, moment),
        ).fetchall()


def test_ladder_sms_then_voice_then_next_level_and_accept_stops_it(setup: Setup) -> None:
    with connect(setup.database_url) as conn:
        for worker, phone in PHONES.items():
            conn.execute("UPDATE worker SET phone = %s WHERE id = %s", (phone, worker))
    with (
        WeComServer(users=tuple(WORKER_IDS)) as wecom,
        AliyunServer("dysms") as sms,
        AliyunServer("dyvms", number_limits=((1, 60.0), (5, 3600.0))) as voice,
    ):
        settings = {
            "wecom_base_url": wecom.url,
            "wecom_corp_id": wecom.corp_id,
            "wecom_corp_secret": wecom.corp_secret,
            "wecom_agent_id": wecom.agent_id,
            "aliyun_access_key_id": sms.access_key_id,
            "aliyun_access_key_secret": sms.access_key_secret,
            "aliyun_sms_endpoint": sms.url,
            "aliyun_sms_sign_name": "网格通",
            "aliyun_sms_template_code": "SMS_270000001",
            "aliyun_voice_endpoint": voice.url,
            "aliyun_voice_tts_code": "TTS_10001",
            "ladder_instant_channels": ["wecom_app"],
            "ladder_sms_channels": ["aliyun_sms"],
            "ladder_voice_channels": ["aliyun_voice"],
            "ladder_sms_after_s": SMS_AFTER_S,
            "ladder_voice_after_s": VOICE_AFTER_S,
            "ladder_escalate_after_s": ESCALATE_AFTER_S,
            "ladder_poll_s": 0.2,
            "channel_retry_base_s": 0.05,
            "escalation_minutes": [60.0, 120.0, 180.0],
        }
        with setup.ingest(workers=1, **settings):
            wait_subscribed(setup.database_url, setup.broker)
            for grid in (GRID_A1, GRID_B1):
                lon, lat = IN_GRID[grid]
                setup.publish("cam_t2", fire("cam_t2", lon=lon, lat=lat, accuracy_m=40))
            assert wait_until(lambda: _task_at(setup, GRID_A1) and _task_at(setup, GRID_B1), 30)
            task_a, task_b = _task_at(setup, GRID_A1), _task_at(setup, GRID_B1)
            assert wait_until(lambda: len(_sent(_deliveries(setup, task_b), "instant")) >= 1, 30)
            with connect(setup.database_url) as conn:
                # B: its worker accepts (the API's accept does exactly these two things)
                transition(conn, task_b, "accepted", "w_b1")
                mark_acknowledged(conn, task_b, "w_b1")
                # A: the cadre's app reports the alert seen, so she gets no SMS
                assert mark_seen(conn, task_a, "cadre_a")
            acted_at = setup.scalar("SELECT now()")
            assert wait_until(
                lambda: (
                    {"w_a1", "head_a", "cadre_a"} <= set(_sent(_deliveries(setup, task_a), "voice"))
                ),
                timeout_s=60,
            )
            assert wait_until(
                lambda: "head_a" in _sent(_deliveries(setup, task_a), "instant", level=1),
                timeout_s=60,
            )
            b_after_accept = _sent_after(setup, task_b, "w_b1", acted_at)
            cadre_sms_after_seen = [
                row for row in _sent_after(setup, task_a, "cadre_a", acted_at) if row[0] == "sms"
            ]
        rows_a, rows_b = _deliveries(setup, task_a), _deliveries(setup, task_b)

    instant, sms_sent, voice_sent = (_sent(rows_a, s) for s in ("instant", "sms", "voice"))
    assert set(instant) == {"w_a1", "head_a", "cadre_a"}
    assert all(instant[w] < s for w, s in sms_sent.items()), (instant, sms_sent)
    # cadre_a had seen it: no SMS after that (one before is a stalled machine's timer)
    assert {"w_a1", "head_a"} <= set(sms_sent) <= {"w_a1", "head_a", "cadre_a"}
    assert cadre_sms_after_seen == []
    assert all(SMS_AFTER_S <= s < voice_sent[w] for w, s in sms_sent.items()), sms_sent
    assert all(s >= VOICE_AFTER_S for s in voice_sent.values()), voice_sent
    print(f"ladder: instant {instant}, sms {sms_sent}, voice {voice_sent} (s after notice)")
    assert setup.scalar("SELECT escalation_level FROM task WHERE id = %s", task_a) >= 1
    # what the providers received, checked by their servers
    assert sorted(c["PhoneNumbers"] for c in sms.calls()) == sorted(PHONES[w] for w in sms_sent)
    assert {c["CalledNumber"] for c in voice.calls()} >= {
        PHONES[w] for w in ("w_a1", "head_a", "cadre_a")
    }
    assert {m["touser"] for m in wecom.app_messages()} >= {"w_a1", "head_a", "cadre_a", "w_b1"}
    assert not sms.rejected() and not voice.rejected() and not wecom.rejected()
    # B: accepted after the instant step, so no SMS and no call after that (normally none at
    # all: printed); the receipt says accepted
    steps_b = {(r[0], r[2], r[4]) for r in rows_b if r[0] == "w_b1"}
    assert ("w_b1", "instant", "acknowledged") in steps_b
    assert b_after_accept == []
    print(f"ladder: B's steps {sorted(steps_b)}")
    assert [r[4] for r in rows_a if r[0] == "cadre_a" and r[2] == "instant"] == ["seen"]
