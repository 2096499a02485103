"""Smoke located from camera bearings: two or more are intersected within the expected
radius; one camera's ray names the grids it crosses; the task says how it was located."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from firmware_sim import geo
from gis.contract import parse_task_message
from gis.db import connect
from ingest.bearings import Bearing, distance_m, intersect
from tests.ingest_world import GRID_A1, GRID_A2, GRID_B1, GRID_B2, fire, wait_subscribed
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SMOKE = (109.8125, 40.6125)


def _seen_from(device_id: str, lon: float, lat: float, error_deg: float = 0.0) -> Bearing:
    bearing = (geo.bearing_deg(lon, lat, *SMOKE) + error_deg) % 360
    return Bearing(device_id, lon, lat, bearing, 6000.0, NOW)


@pytest.mark.parametrize("seed", range(5))
def test_noisy_bearings_intersect_within_their_uncertainty(seed: int) -> None:
    rng = random.Random(seed)
    cameras = [(109.78, 40.61), (109.81, 40.585), (109.84, 40.63)]
    bearings = [
        _seen_from(f"cam{i}", lon, lat, rng.gauss(0, 1.0)) for i, (lon, lat) in enumerate(cameras)
    ]
    fix = intersect(bearings[0], bearings[1:], cluster_m=500)
    assert fix is not None and fix.device_ids == ("cam0", "cam1", "cam2")
    error = distance_m(fix.lon, fix.lat, *SMOKE)
    assert error <= fix.uncertainty_m  # the radius holds the truth ...
    assert fix.uncertainty_m < 400  # ... and is a useful one for cameras 2-3 km away


def test_exact_bearings_meet_at_the_smoke() -> None:
    a = _seen_from("a", 109.79, 40.61)
    b = _seen_from("b", 109.8125, 40.59)
    fix = intersect(a, [b], cluster_m=500)
    assert fix is not None and distance_m(fix.lon, fix.lat, *SMOKE) < 5.0  # plane vs sphere


def test_rays_that_do_not_cross_in_front_locate_nothing() -> None:
    a = _seen_from("a", 109.79, 40.61)
    away = Bearing("b", 109.8125, 40.59, 180.0, 6000.0, NOW)  # looking south, away from it
    parallel = Bearing("c", 109.79, 40.611, a.bearing_deg, 6000.0, NOW)
    assert intersect(a, [away], cluster_m=500) is None
    assert intersect(a, [parallel], cluster_m=500) is None


def test_two_towers_locate_the_smoke_and_one_tower_names_the_crossed_grids(setup: Setup) -> None:
    truth = (109.8125, 40.6125)  # in grid A2
    with connect(setup.database_url) as conn:
        towers = dict(
            (row[0], row[1:])
            for row in conn.execute(
                "SELECT id, ST_X(geom), ST_Y(geom) FROM device WHERE id IN ('cam_t1', 'cam_t2')"
            )
        )
    guessed, located = setup.listen("w_b1"), setup.listen("head_a")
    with setup.ingest(workers=1):
        wait_subscribed(setup.database_url, setup.broker)
        first = fire("cam_t1", bearing_deg=round(geo.bearing_deg(*towers["cam_t1"], *truth), 1))
        setup.publish("cam_t1", first)
        assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == 1, 30)
        with connect(setup.database_url) as conn:
            method, description = conn.execute(
                "SELECT location_method, description FROM task"
            ).fetchone()
        assert method == "bearing_only"
        # the guess at mid-range lies in B1: its worker has the task for now
        assert setup.scalar("SELECT assignee_id FROM task") == "w_b1"
        # cam_t1 looks east along lat 40.61 across A1, A2, B1 and B2 within its 5 km
        assert all(code in description for code in (GRID_A1, GRID_A2, GRID_B1, GRID_B2))
        second = fire("cam_t2", bearing_deg=round(geo.bearing_deg(*towers["cam_t2"], *truth), 1))
        setup.publish("cam_t2", second)
        assert wait_until(
            lambda: setup.scalar("SELECT location_method FROM incident") == "bearing_intersection",
            10,
        )
    with connect(setup.database_url) as conn:
        lon, lat, uncertainty, devices, count = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom), uncertainty_m, device_ids, event_count FROM incident"
        ).fetchone()
        task_method, assignee, grid = conn.execute(
            "SELECT location_method, assignee_id, grid_code FROM task"
        ).fetchone()
        tasks = conn.execute("SELECT count(*) FROM task").fetchone()[0]
    assert distance_m(lon, lat, *truth) < 30  # bearings rounded to 0.1°
    assert 10 <= uncertainty < 300 and math.isfinite(uncertainty)
    assert sorted(devices) == ["cam_t1", "cam_t2"] and count == 2
    assert (task_method, tasks) == ("bearing_intersection", 1)
    # the smoke is in A2 (nobody full-time): the task follows it to A2's grid head
    assert (assignee, grid) == ("head_a", GRID_A2)
    assert [parse_task_message(m.payload).action for m in guessed.wait_for(2, 30)] == [
        "assigned",
        "cancelled",
    ]
    assert [parse_task_message(m.payload).action for m in located.wait_for(1, 30)] == ["assigned"]
