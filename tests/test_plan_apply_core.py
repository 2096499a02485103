"""gis.redistrict_apply.apply_plan on the API test world: versions, assignments, devices,
tasks, the join cache and history, refusals and roll forward."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from shapely.geometry import box

from gis.db import connect
from gis.redistrict_apply.apply import PlanRefused, apply_plan
from gis.redistrict_apply.validate import PlanGrid
from gis.spatial_join import GridIndexCache, join_postgis
from tests.api_world import COMMUNITY_A, GRID_A1, GRID_A2
from tests.mqtt_helpers import wait_until
from tests.plan_world import (
    BEFORE,
    CUT_LON,
    EAST_POINT,
    GRID_A3,
    RULES,
    VALID_FROM,
    add_door_near_cut,
    resplit,
)


def _apply(database_url: str, grids: list[PlanGrid], valid_from: datetime = VALID_FROM):
    with connect(database_url) as conn:
        return apply_plan(conn, COMMUNITY_A, grids, valid_from, "planner", RULES)


def _reasons(database_url: str, grids: list[PlanGrid]) -> set[str]:
    with pytest.raises(PlanRefused) as refused:
        _apply(database_url, grids)
    return {p.reason for p in refused.value.problems}


def test_apply_versions_assignments_devices_tasks(database_url: str, world) -> None:
    add_door_near_cut(database_url)
    result = _apply(database_url, resplit())

    assert result.grids_ended == [GRID_A1, GRID_A2]
    assert result.grids_created == [
        {"code": GRID_A1, "version": 2},
        {"code": GRID_A3, "version": 1},
    ]
    assert result.households_regridded == 1  # a2's household: 002 → 003
    assert result.devices_regridded == 1  # door_a: 002 → 001
    assert result.open_tasks_kept == 2
    with connect(database_url) as conn:
        versions = conn.execute(
            "SELECT code, version, valid_from, valid_to FROM grid WHERE community_code = %s "
            "ORDER BY code, version",
            (COMMUNITY_A,),
        ).fetchall()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        assert versions == [
            (GRID_A1, 1, start, VALID_FROM),
            (GRID_A1, 2, VALID_FROM, None),
            (GRID_A2, 1, start, VALID_FROM),
            (GRID_A3, 1, VALID_FROM, None),
        ]
        current = conn.execute(
            "SELECT worker_id, grid_code FROM grid_assignment WHERE valid_to IS NULL "
            "AND grid_code LIKE %s ORDER BY worker_id",
            (COMMUNITY_A + "%",),
        ).fetchall()
        assert current == [("head_a", GRID_A1), ("w_a1", GRID_A1), ("w_a2", GRID_A3)]
        ended = conn.execute(
            "SELECT count(*) FROM grid_assignment WHERE valid_to = %s", (VALID_FROM,)
        ).fetchone()[0]
        assert ended == 3
        assert conn.execute("SELECT grid_code FROM device WHERE id = 'door_a'").fetchone() == (
            GRID_A1,
        )
        task_grids = dict(conn.execute("SELECT id, grid_code FROM task").fetchall())
        assert task_grids[world.tasks["a2"]] == GRID_A2  # open task keeps its grid
        audit = conn.execute(
            "SELECT actor, subject_id, detail->'grids_created' FROM audit_log "
            "WHERE action = 'plan.apply'"
        ).fetchall()
        assert audit == [("planner", COMMUNITY_A, result.as_dict()["grids_created"])]
        lon, lat = np.array([EAST_POINT[0]]), np.array([EAST_POINT[1]])
        assert join_postgis(conn, lon, lat, BEFORE).grid_code[0] == GRID_A2
        assert join_postgis(conn, lon, lat, datetime.now(UTC)).grid_code[0] == GRID_A3


def test_override_puts_the_planners_worker_on_the_grid(database_url: str, world) -> None:
    result = _apply(database_url, resplit([{"worker_id": "w_a1", "role": "full_time"}]))
    with connect(database_url) as conn:
        current = conn.execute(
            "SELECT worker_id, grid_code FROM grid_assignment WHERE valid_to IS NULL "
            "AND grid_code LIKE %s ORDER BY worker_id",
            (COMMUNITY_A + "%",),
        ).fetchall()
    assert current == [("head_a", GRID_A1), ("w_a1", GRID_A3)]
    assert {"worker_id": "w_a2", "role": "full_time", "from": GRID_A2, "to": None} in (
        result.assignments_moved
    )


def test_grid_index_cache_sees_the_new_grids(database_url: str, world) -> None:
    lon, lat = np.array([EAST_POINT[0]]), np.array([EAST_POINT[1]])
    with GridIndexCache(database_url, debounce_s=0.05) as cache:
        assert cache.index.join(lon, lat, datetime.now(UTC)).grid_code[0] == GRID_A2
        _apply(database_url, resplit())
        assert wait_until(
            lambda: cache.index.join(lon, lat, datetime.now(UTC)).grid_code[0] == GRID_A3,
            timeout_s=10,
        )
        assert cache.index.join(lon, lat, BEFORE).grid_code[0] == GRID_A2


def test_refusals_write_nothing(database_url: str, world) -> None:
    west, east = resplit()
    gap = [west, PlanGrid(GRID_A3, box(CUT_LON + 0.001, 40.60, 109.82, 40.62))]
    assert _reasons(database_url, gap) == {"plan_gap"}
    overlap = [west, PlanGrid(GRID_A3, box(CUT_LON - 0.001, 40.60, 109.82, 40.62))]
    assert _reasons(database_url, overlap) == {"grid_overlap"}
    outside = [west, PlanGrid(GRID_A3, box(CUT_LON, 40.60, 109.83, 40.62))]
    assert "grid_outside_community" in _reasons(database_url, outside)
    bad_codes = [west, PlanGrid(GRID_A1, east.geom)]
    assert _reasons(database_url, bad_codes) == {"grid_code_duplicate"}
    foreign = [west, PlanGrid("150203001002009", east.geom)]
    assert _reasons(database_url, foreign) == {"grid_code_prefix"}
    with pytest.raises(PlanRefused) as early:
        _apply(database_url, resplit(), datetime(2025, 12, 1, tzinfo=UTC))
    assert [p.reason for p in early.value.problems] == ["valid_from_too_early"]
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM grid WHERE valid_to IS NOT NULL").fetchone() == (
            0,
        )
        conn.execute(
            "INSERT INTO grid_assignment (worker_id, grid_code, role, valid_from) "
            "VALUES ('w_b1', %s, 'part_time', '2026-07-01')",
            (GRID_A2,),
        )
    assert _reasons(database_url, resplit()) == {"assignment_starts_later"}


def test_roll_forward_by_a_second_plan(database_url: str, world) -> None:
    _apply(database_url, resplit())
    later = datetime(2026, 9, 1, tzinfo=UTC)
    back = [
        PlanGrid(GRID_A1, box(109.80, 40.60, 109.81, 40.62)),
        PlanGrid(GRID_A2, box(109.81, 40.60, 109.82, 40.62)),
    ]
    with pytest.raises(PlanRefused):  # not before the first plan's versions
        _apply(database_url, back, VALID_FROM)
    result = _apply(database_url, back, later)
    assert result.grids_ended == [GRID_A1, GRID_A3]
    assert result.grids_created == [
        {"code": GRID_A1, "version": 3},
        {"code": GRID_A2, "version": 2},
    ]
    with connect(database_url) as conn:
        lon, lat = np.array([EAST_POINT[0]]), np.array([EAST_POINT[1]])
        moments = [BEFORE, datetime(2026, 7, 1, tzinfo=UTC), datetime.now(UTC)]
        assert [join_postgis(conn, lon, lat, at).grid_code[0] for at in moments] == [
            GRID_A2,
            GRID_A3,
            GRID_A2,
        ]
