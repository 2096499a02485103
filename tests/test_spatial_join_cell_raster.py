"""The cell raster of current grids (grid_cell, migration 0004) follows every grid change.

The batched PostGIS join answers most points at current moments from grid_cell; after each
kind of change — insert, new geometry, retirement, a version valid from the future,
delete, truncate — it must still agree point by point with the in-memory join, which
reads the grid table itself. Changes are seen inside their own transaction at once, and
by other connections after the commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
import shapely

from gis.db import connect
from gis.spatial_join import GridIndex, join_postgis
from tests.mqtt_helpers import wait_until
from tests.test_spatial_join_agreement import _mismatches
from tests.test_spatial_join_semantics import (
    C1,
    C1_XS,
    C2,
    C2_XS,
    NOW,
    PAST,
    YS,
    _ewkb,
    seed_layout,
)

RETIRED_AT = datetime(2026, 3, 1, tzinfo=UTC)
FUTURE = datetime(2027, 1, 1, tzinfo=UTC)
AFTER_FUTURE = datetime(2027, 6, 1, tzinfo=UTC)
HOLE = shapely.box(109.82, 40.62, 109.83, 40.63)  # C1 has no grid here
HOLE_GRID = f"{C1}007"
POINTS = 20_000


def _points() -> tuple[np.ndarray, np.ndarray]:
    """Uniform over the communities and a little around them; half exactly on lattice lines."""
    rng = np.random.default_rng(11)
    lon = rng.uniform(109.795, 109.885, POINTS)
    lat = rng.uniform(40.595, 40.645, POINTS)
    quarter = POINTS // 4
    lon[:quarter] = rng.choice(C1_XS + C2_XS, quarter)
    lat[quarter : 2 * quarter] = rng.choice(YS, quarter)
    return lon, lat


def _insert_grid(conn: psycopg.Connection, code: str, geom, valid_from: datetime) -> None:
    conn.execute(
        "INSERT INTO grid (code, community_code, name, geom, valid_from, source) "
        "VALUES (%s, %s, %s, %s, %s, 'test')",
        (code, code[:12], code, _ewkb(geom), valid_from),
    )


def _fill_hole(conn: psycopg.Connection) -> None:
    _insert_grid(conn, HOLE_GRID, HOLE, PAST)


def _shrink_to_west_half(conn: psycopg.Connection) -> None:
    west_half = shapely.box(109.80, 40.63, 109.805, 40.64)
    conn.execute("UPDATE grid SET geom = %s WHERE code = %s", (_ewkb(west_half), f"{C1}001"))


def _retire(conn: psycopg.Connection) -> None:
    conn.execute(
        "UPDATE grid SET valid_to = %s WHERE code = %s AND valid_to IS NULL",
        (RETIRED_AT, f"{C2}001"),
    )


def _redraw_from_the_future(conn: psycopg.Connection) -> None:
    """A new version of C1 002 from FUTURE: its north half gone, overlapping 003 by a strip."""
    code = f"{C1}002"
    conn.execute(
        "UPDATE grid SET valid_to = %s WHERE code = %s AND valid_to IS NULL", (FUTURE, code)
    )
    _insert_grid(conn, code, shapely.box(109.81, 40.63, 109.825, 40.635), FUTURE)


def _delete(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM grid WHERE code = %s", (f"{C1}010",))


def _truncate(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE grid")


def _assert_joins_agree(database_url: str, at: datetime) -> None:
    lon, lat = _points()
    in_memory = GridIndex.load(database_url).join(lon, lat, at)
    in_postgis = join_postgis(database_url, lon, lat, at)
    differing = _mismatches(in_memory, in_postgis)
    examples = [(i, in_memory.row(i), in_postgis.row(i)) for i in differing[:3]]
    assert len(differing) == 0, f"{len(differing)} points differ at {at}, e.g. {examples}"


def _covering_cells(database_url: str, code: str) -> int:
    with connect(database_url) as conn:
        query = "SELECT count(*) FROM grid_cell WHERE grid_code = %s AND covers"
        return conn.execute(query, (code,)).fetchone()[0]


CHANGES: list[Callable[[psycopg.Connection], None]] = [
    _fill_hole,
    _shrink_to_west_half,
    _retire,
    _redraw_from_the_future,
    _delete,
    _truncate,
]


def test_batched_join_stays_exact_through_every_kind_of_grid_change(database_url: str) -> None:
    seed_layout(database_url)
    _assert_joins_agree(database_url, NOW)
    for change in CHANGES:
        with connect(database_url) as conn:
            change(conn)
        for at in (NOW, AFTER_FUTURE):
            _assert_joins_agree(database_url, at)
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM grid_raster").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM grid_cell").fetchone()[0] == 0


def test_the_raster_answers_points_so_a_stale_one_would_be_wrong(database_url: str) -> None:
    """Without the refresh trigger the same comparison fails: the batched join really
    answers points from grid_cell, and the agreement above depends on the refresh."""
    seed_layout(database_url)
    assert _covering_cells(database_url, f"{C1}001") > 0
    with connect(database_url) as conn:
        conn.execute("ALTER TABLE grid DISABLE TRIGGER grid_cells_refresh")
        _shrink_to_west_half(conn)
    with pytest.raises(AssertionError, match="points differ"):
        _assert_joins_agree(database_url, NOW)


def test_a_change_is_seen_in_its_transaction_and_by_others_after_commit(
    database_url: str,
) -> None:
    seed_layout(database_url)
    hole_lon, hole_lat = np.array([109.825]), np.array([40.625])
    assert _covering_cells(database_url, HOLE_GRID) == 0
    with connect(database_url) as writer:
        _fill_hole(writer)
        inside = join_postgis(writer, hole_lon, hole_lat, NOW).row(0)
        assert (inside["grid_code"], inside["method"]) == (HOLE_GRID, "inside")
        assert join_postgis(database_url, hole_lon, hole_lat, NOW).grid_code[0] is None
    assert _covering_cells(database_url, HOLE_GRID) > 0
    assert join_postgis(database_url, hole_lon, hole_lat, NOW).grid_code[0] == HOLE_GRID


def _waiting_for_a_lock(database_url: str, pid: int) -> bool:
    with connect(database_url) as conn:
        query = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s"
        return conn.execute(query, (pid,)).fetchone()[0] == "Lock"


def test_concurrent_grid_writers_both_end_up_in_the_raster(database_url: str) -> None:
    """The second writer's refresh waits for the first to commit, then rebuilds from both:
    no cell listed twice, none left from a raster that lacks the other's grid."""
    seed_layout(database_url)
    north = shapely.box(109.80, 40.64, 109.81, 40.65)
    with connect(database_url) as first, connect(database_url) as second:
        _fill_hole(first)
        pid = second.info.backend_pid
        writer = threading.Thread(target=_insert_grid, args=(second, f"{C1}017", north, PAST))
        writer.start()
        assert wait_until(lambda: _waiting_for_a_lock(database_url, pid), timeout_s=10)
        first.commit()
        writer.join(timeout=30)
        second.commit()
    assert _covering_cells(database_url, HOLE_GRID) > 0
    assert _covering_cells(database_url, f"{C1}017") > 0
    with connect(database_url) as conn:
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT cell, grid_id FROM grid_cell"
            " GROUP BY cell, grid_id HAVING count(*) > 1) AS repeated"
        ).fetchone()[0]
    assert twice == 0
    _assert_joins_agree(database_url, NOW)
