"""Repeated detections of one situation, dealt to two worker processes at the same moment,
make one incident and one task (ThingsBoard's duplicate alarms are the failure to avoid)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from firmware_sim import geo
from gis.db import connect
from ingest.metrics import read_all
from tests.ingest_world import encode, fire, topic, wait_subscribed, water_no_usage
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

SMOKE = (109.8125, 40.6125)
ROUNDS = 40
# Batches of ROUNDS detections published until both workers have had a share.
ROUNDS_MAX = 5


def _detections(rng: random.Random) -> list[tuple[str, dict]]:
    towers = {"cam_t1": (109.795, 40.61), "cam_t2": (109.815, 40.59)}
    since = datetime.now(UTC) - timedelta(hours=30)
    messages = []
    for i in range(ROUNDS):
        lon, lat = geo.offset(*SMOKE, rng.uniform(-60, 60), rng.uniform(-60, 60))
        messages.append(("cam_r1", fire("cam_r1", lon=lon, lat=lat, accuracy_m=50)))
        tower = "cam_t1" if i % 2 else "cam_t2"
        bearing = geo.bearing_deg(*towers[tower], *SMOKE) + rng.gauss(0, 0.5)
        messages.append((tower, fire(tower, bearing_deg=round(bearing % 360, 1))))
        messages.append(("wm_a1", water_no_usage("wm_a1", since=since)))
    return messages


def _events_per_worker(setup: Setup) -> dict[str, int]:
    return {m["client_id"]: m["counts"].get("events", 0) for m in read_all(setup.run_dir)}


def _all_stored(setup: Setup, published: int) -> Callable[[], bool]:
    return lambda: sum(_events_per_worker(setup).values()) == published


def test_simultaneous_detections_on_two_workers_make_one_incident_and_one_task(
    setup: Setup,
) -> None:
    """Rounds of the same situation are published until both workers have handled some of
    it (the broker decides who gets what; the test waits for the condition, not a dealing)."""
    rng = random.Random(7)
    published = 0
    with setup.ingest(workers=2):
        wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
        admin = setup.broker.client("wangge-admin")
        for _ in range(ROUNDS_MAX):
            messages = _detections(rng)
            infos = [admin.raw.publish(topic(d), encode(m), qos=1) for d, m in messages]
            for info in infos:
                info.wait_for_publish(10)
            published += len(messages)
            assert wait_until(_all_stored(setup, published), 30), (
                published,
                _events_per_worker(setup),
            )
            per_worker = _events_per_worker(setup)
            if len(per_worker) == 2 and all(n > 0 for n in per_worker.values()):
                break
    assert len(per_worker) == 2 and all(n > 0 for n in per_worker.values()), per_worker
    assert setup.scalar("SELECT count(*) FROM event") == published
    with connect(setup.database_url) as conn:
        incidents = conn.execute(
            "SELECT category, event_count, device_ids FROM incident ORDER BY category"
        ).fetchall()
        tasks = conn.execute("SELECT category, count(*) FROM task GROUP BY 1 ORDER BY 1").fetchall()
        unlinked = conn.execute("SELECT count(*) FROM event WHERE incident_id IS NULL").fetchone()[
            0
        ]
    batches = published // (3 * ROUNDS)
    assert [(c, n) for c, n, _ in incidents] == [
        ("elderly", batches * ROUNDS),
        ("fire", batches * 2 * ROUNDS),
    ]
    assert sorted(incidents[1][2]) == ["cam_r1", "cam_t1", "cam_t2"]
    assert tasks == [("elderly", 1), ("fire", 1)]
    assert unlinked == 0
