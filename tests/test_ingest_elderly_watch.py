"""The elderly watch live, through MQTT and real ingest processes, in event time: a lone
resident who stops going out (door passages stop while water and power go on at home)
gets exactly one visit task for the grid worker and one family notice (SMS at a local
Aliyun server) — with two ingest processes sweeping at once and after a restart; none
while "away" is set; a door controller that dies becomes a device task, not a resident
alert. The rollup keeps the telemetry per household and hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gis.db import connect
from tests.ingest_world import FAMILY_PHONE, encode, topic, wait_subscribed
from tests.mqtt_helpers import wait_until
from tests.provider_servers import AliyunServer
from tests.watch_live import WEEK_H, enrol_a1, hour_floor, resident_week

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

STOPS_GOING_OUT_H = 72
"""The resident goes out daily for three days, then no more (found after about 120 h)."""
MIDWAY_H = 100
DOOR_DIES_H = WEEK_H - 8


def _settings(sms: AliyunServer) -> dict:
    return {
        "aliyun_access_key_id": sms.access_key_id,
        "aliyun_access_key_secret": sms.access_key_secret,
        "aliyun_sms_endpoint": sms.url,
        "aliyun_sms_sign_name": "网格通",
        "aliyun_sms_template_code": "SMS_270000001",
        "ladder_sms_channels": ["aliyun_sms"],
        "ladder_poll_s": 0.2,
        "watch_sweep_interval_s": 0.3,
        "watch_lateness_s": 0,
        "watch_sweep_batch": 10,
        "watch_sweep_max_hours": 24,
    }


def _publish_all(setup: Setup, start: datetime, **week) -> int:
    messages = resident_week(start, **week)
    for sent in messages:
        client = setup._device(sent.device_id)
        client.publish(topic(sent.device_id, sent.channel), encode(sent.message))
    return len(messages)


def _rollup_complete(setup: Setup, start: datetime, hours: int) -> bool:
    """Every hour of the week has its water and power report (and all messages landed)."""
    return (
        setup.scalar(
            "SELECT count(*) FROM watch_hour WHERE hour >= %s AND water_reports = 1 "
            "AND power_reports = 1",
            start,
        )
        == hours
    )


def _epoch_hour(at: datetime) -> int:
    return int(at.timestamp() // 3600)


def _due_hour(setup: Setup) -> int:
    return setup.scalar("SELECT coalesce(min(due_hour), 0) FROM watch_state")


def test_resident_who_stops_going_out_gets_one_visit_and_one_family_notice(
    setup: Setup,
) -> None:
    start = hour_floor(datetime.now(UTC)) - timedelta(hours=WEEK_H)
    household = setup.world.households["a1"]
    with AliyunServer("dysms") as sms:
        # First the hours up to MIDWAY_H only are complete (a lateness that long), swept by
        # two processes at once; then all of them, by new processes after a restart.
        midway = _settings(sms) | {"watch_lateness_s": (WEEK_H - MIDWAY_H) * 3600}
        with setup.ingest(workers=2, **midway):
            wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
            _publish_all(setup, start, stops_going_out_h=STOPS_GOING_OUT_H)
            assert wait_until(lambda: _rollup_complete(setup, start, WEEK_H), 60)
            enrol_a1(setup.database_url, household)
            assert wait_until(lambda: _due_hour(setup) >= _epoch_hour(start) + MIDWAY_H, 60)
            assert setup.scalar("SELECT count(*) FROM incident") == 0
        with setup.ingest(workers=2, **_settings(sms)):
            wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
            assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == 1, 60)
            assert wait_until(lambda: len(sms.calls()) == 1, 30)
            assert wait_until(lambda: _due_hour(setup) >= _epoch_hour(datetime.now(UTC)), 60)
            swept = setup.scalar("SELECT updated_at FROM watch_state")
            assert wait_until(lambda: setup.scalar("SELECT now()") > swept + timedelta(seconds=2))
        calls = sms.calls()
    with connect(setup.database_url) as conn:
        tasks = conn.execute(
            "SELECT i.type, i.household_id, t.assignee_id, t.urgency, t.category, t.state "
            "FROM task t JOIN incident i ON i.id = t.incident_id"
        ).fetchall()
        notices = conn.execute(
            "SELECT n.address, n.state, i.type FROM watch_notice n "
            "JOIN incident i ON i.id = n.incident_id"
        ).fetchall()
        rollup = conn.execute(
            "SELECT sum(water_l), sum(door_exits), sum(door_entries), "
            "max(energy_wh * 3600 / power_s) FROM watch_hour WHERE household_id = %s",
            (household,),
        ).fetchone()
    assert tasks == [("watch.no_exit", household, "w_a1", "urgent", "elderly", "dispatched")]
    assert notices == [(FAMILY_PHONE, "sent", "watch.no_exit")]
    assert [c["PhoneNumbers"] for c in calls] == [FAMILY_PHONE]
    assert rollup == (20.0 * 15 * 7, 3, 3, 150.0)


def test_away_raises_nothing_and_a_dead_door_controller_is_a_device_task(setup: Setup) -> None:
    start = hour_floor(datetime.now(UTC)) - timedelta(hours=WEEK_H)
    household = setup.world.households["a1"]
    with AliyunServer("dysms") as sms:
        settings = _settings(sms) | {"watch_lateness_s": 3600 * 2}
        with setup.ingest(workers=1, **settings):
            wait_subscribed(setup.database_url, setup.broker)
            _publish_all(setup, start, stops_going_out_h=STOPS_GOING_OUT_H, door_dies_h=DOOR_DIES_H)
            assert wait_until(lambda: _rollup_complete(setup, start, WEEK_H), 60)
            enrol_a1(
                setup.database_url, household, away_until=datetime.now(UTC) + timedelta(days=1)
            )
            assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == 1, 60)
            assert wait_until(lambda: _due_hour(setup) >= _epoch_hour(datetime.now(UTC)) - 2, 60)
        calls = sms.calls()
    with connect(setup.database_url) as conn:
        tasks = conn.execute(
            "SELECT i.type, t.assignee_id, t.urgency, t.category FROM task t "
            "JOIN incident i ON i.id = t.incident_id"
        ).fetchall()
        notices = conn.execute("SELECT count(*) FROM watch_notice").fetchone()[0]
    assert tasks == [("watch.device_offline_door", "w_a1", "normal", "device")]
    assert notices == 0
    assert calls == []
