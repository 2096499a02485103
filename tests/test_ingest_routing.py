"""Who gets the task: the grid worker assigned at the event's time, else the grid head,
else the community duty desk; nobody at all leaves it filed for the desk, never dropped.
A lone resident's meter alarm also tells the family of an enrolled household (a family
notice, ingest.family_notices; no channel is configured here, so it stays queued); a
meter's own "no usage" of an enrolled household opens nothing (the server's watch judges
that absence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gis.db import connect
from tests.ingest_world import (
    FAMILY_PHONE,
    GRID_A1,
    GRID_A2,
    GRID_B2,
    IN_GRID,
    fire,
    wait_subscribed,
    water_no_usage,
)
from tests.mqtt_helpers import wait_until
from tests.watch_live import enrol_contacts_only

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

LAST_SUMMER = datetime(2025, 7, 1, 10, 0, tzinfo=UTC)
FLOW = "meter.water.continuous_flow"


def _at(grid: str, ts: datetime | None = None, camera: str = "cam_r1") -> dict:
    lon, lat = IN_GRID[grid]
    return fire(camera, ts=ts, lon=lon, lat=lat + 0.003, accuracy_m=30)


def test_tasks_follow_assignments_at_event_time_with_fallbacks(setup: Setup) -> None:
    now = datetime.now(UTC)
    cases = {
        "w_old": ("cam_r1", _at(GRID_A1, LAST_SUMMER)),  # A1's worker in 2025
        "w_a1": ("cam_r1", _at(GRID_A1)),  # A1's worker now
        "head_a": ("cam_r1", _at(GRID_A2)),  # A2: nobody full-time -> grid head
        "desk_b": ("cam_b2", _at(GRID_B2, camera="cam_b2")),  # B2: nobody -> community duty desk
        None: ("cam_r1", fire("cam_r1", lon=109.70, lat=40.61, accuracy_m=30)),  # nowhere
        "desk_b ": ("wm_b2", water_no_usage("wm_b2", since=now - timedelta(hours=30))),
        "w_a1 ": ("wm_a1", water_no_usage("wm_a1", since=now - timedelta(hours=3), type_=FLOW)),
    }
    watched_absence = water_no_usage("wm_a1", since=now - timedelta(hours=30))
    enrol_contacts_only(setup.database_url, setup.world.households["a1"])
    with setup.ingest(workers=1):
        wait_subscribed(setup.database_url, setup.broker)
        # Before the flow alarm on the same connection: handled by the time its task is.
        setup.publish("wm_a1", watched_absence)
        for device, message in cases.values():
            setup.publish(device, message)
        assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == len(cases), 30)
        assert wait_until(
            lambda: setup.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, 30
        )
    with connect(setup.database_url) as conn:
        got = {}
        for expected, (_, message) in cases.items():
            got[expected] = conn.execute(
                "SELECT t.assignee_id, t.state, t.urgency FROM task t "
                "JOIN event e ON e.incident_id = t.incident_id WHERE e.event_id = %s",
                (message["event_id"],),
            ).fetchone()
        notices = conn.execute(
            "SELECT n.address, n.text, n.state, i.type FROM watch_notice n "
            "JOIN incident i ON i.id = n.incident_id"
        ).fetchall()
    assert got == {
        "w_old": ("w_old", "dispatched", "urgent"),
        "w_a1": ("w_a1", "dispatched", "urgent"),
        "head_a": ("head_a", "dispatched", "urgent"),
        "desk_b": ("desk_b", "dispatched", "urgent"),
        None: (None, "filed", "urgent"),
        "desk_b ": ("desk_b", "dispatched", "normal"),  # not living alone: ordinary
        "w_a1 ": ("w_a1", "dispatched", "urgent"),  # 独居老人
    }
    [(phone, text, state, type_)] = notices
    assert (phone, state, type_) == (FAMILY_PHONE, "queued", FLOW)
    assert (
        setup.scalar(
            "SELECT count(*) FROM event WHERE event_id = %s AND incident_id IS NULL",
            watched_absence["event_id"],
        )
        == 1
    )  # stored, and feeds the household's activity, but no incident of its own
    assert "H-A1" in text and "/watch/fine/" in text
