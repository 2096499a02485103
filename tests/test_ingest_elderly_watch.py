"""Elderly watch: a resident living alone who has not gone out for N days gets a visit task
for the grid worker and an SMS to the family — once per absence; others are not watched.
Door passages and meter readings keep household_activity current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gis.db import connect
from tests.ingest_world import FAMILY_PHONE, door, telemetry_water, wait_subscribed
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]


def test_lone_resident_not_out_for_days_gets_one_visit_and_family_sms(setup: Setup) -> None:
    now = datetime.now(UTC)
    four_days_ago = now - timedelta(days=4)
    with setup.ingest(workers=2, elderly_no_exit_days=3, elderly_watch_interval_s=0.3):
        wait_subscribed(setup.database_url, setup.broker)
        setup.publish("door_a1", door("door_a1", "H-A1", "door.exit", ts=four_days_ago))
        setup.publish("door_a1", door("door_a1", "H-B2", "door.exit", ts=four_days_ago))
        setup.publish("door_a1", door("door_a1", "H-A1", "door.entry", ts=four_days_ago))
        setup.publish("wm_a1", telemetry_water("wm_a1", flow=12.0, ts=now), channel="telemetry")
        assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == 1, 30)
        assert wait_until(
            lambda: setup.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, 30
        )
        watched = setup.scalar("SELECT min(updated_at) FROM household_activity")
        assert wait_until(lambda: setup.scalar("SELECT now()") > watched + timedelta(seconds=2))
        # more sweeps by both processes: still one task for this absence
        assert setup.scalar("SELECT count(*) FROM task") == 1
    with connect(setup.database_url) as conn:
        task = conn.execute(
            "SELECT i.type, i.household_id, t.assignee_id, t.urgency, t.category, t.state "
            "FROM task t JOIN incident i ON i.id = t.incident_id"
        ).fetchone()
        sms = conn.execute(
            "SELECT target, sent_at IS NOT NULL FROM outbox WHERE channel = 'sms'"
        ).fetchall()
        activity = conn.execute(
            "SELECT h.code, a.last_exit_at, a.last_entry_at, a.last_water_use_at "
            "FROM household_activity a JOIN household h ON h.id = a.household_id ORDER BY 1"
        ).fetchall()
    assert task == (
        "door.no_exit",
        setup.world.households["a1"],
        "w_a1",
        "urgent",
        "elderly",
        "dispatched",
    )
    assert sms == [(FAMILY_PHONE, True)]
    assert [(code, exit_, entry) for code, exit_, entry, _ in activity] == [
        ("H-A1", four_days_ago, four_days_ago),
        ("H-B2", four_days_ago, None),
    ]
    assert activity[0][3] == now  # water drawn now (flow > 0)
