"""Both spatial joins (in memory and PostGIS) follow the same rules and agree point by point.

The synthetic layout, in degrees (district 150203 = [109.80, 109.90] x [40.60, 40.66]):

    40.66 +-------------------------------------------+---------+
          |  district 150203 only (no community)      | 150204  |
    40.64 +--------------------+----------------------+         |
          | C1 150203001001    | C2 150203001002      |  (no    |
          | 4x4 grids 001..016 | now: 4x2 grids, one  |  comm-  |
          | 0.01 deg, no grid  |   split diagonally   |  unity) |
          | at cell 007; 016   | 2025: 2x2 grids      |         |
    40.60 +--retired in 2026---+----------------------+---------+
        109.80              109.84                 109.88  109.90  109.95
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from gis.db import connect
from gis.settings import DEFAULT_JOIN_TOLERANCE_M
from gis.spatial_join import (
    GridIndex,
    JoinResult,
    LocalMetric,
    join_postgis,
    locate_point,
    utc_datetime64,
)

LAT0 = 40.6
METRIC = LocalMetric(LAT0)
PAST = datetime(2025, 1, 1, tzinfo=UTC)
CHANGE = datetime(2026, 1, 1, tzinfo=UTC)
BEFORE_ANY_GRID = datetime(2024, 6, 1, tzinfo=UTC)
IN_PAST = datetime(2025, 6, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
C1, C2 = "150203001001", "150203001002"
C1_XS = [109.80, 109.81, 109.82, 109.83, 109.84]
C2_XS = [109.84, 109.85, 109.86, 109.87, 109.88]
YS = [40.64, 40.63, 40.62, 40.61, 40.60]  # north to south
C1_HOLE = 7  # the cell where C1 has no grid
C1_RETIRED = 16  # valid only until CHANGE


def _grids() -> list[tuple[str, shapely.Geometry, datetime, datetime | None]]:
    """(code, geometry, valid_from, valid_to) of every grid version."""
    grids = []
    for row in range(4):
        for column in range(4):
            sequence = row * 4 + column + 1
            if sequence == C1_HOLE:
                continue
            cell = shapely.box(C1_XS[column], YS[row + 1], C1_XS[column + 1], YS[row])
            valid_to = CHANGE if sequence == C1_RETIRED else None
            grids.append((f"{C1}{sequence:03d}", cell, PAST, valid_to))
    for row in range(2):  # C2 before CHANGE: 2x2 grids of 0.02 deg
        for column in range(2):
            cell = shapely.box(
                C2_XS[2 * column], YS[2 * row + 2], C2_XS[2 * column + 2], YS[2 * row]
            )
            grids.append((f"{C2}{row * 2 + column + 1:03d}", cell, PAST, CHANGE))
    sequence = 0
    for row in range(2):  # C2 from CHANGE: 4x2 grids of 0.01 x 0.02 deg
        for column in range(4):
            x0, x1 = C2_XS[column], C2_XS[column + 1]
            y0, y1 = YS[2 * row + 2], YS[2 * row]
            if (row, column) == (1, 3):  # split along the diagonal
                parts = [
                    shapely.Polygon([(x0, y0), (x1, y0), (x1, y1)]),
                    shapely.Polygon([(x0, y0), (x1, y1), (x0, y1)]),
                ]
            else:
                parts = [shapely.box(x0, y0, x1, y1)]
            for part in parts:
                sequence += 1
                grids.append((f"{C2}{sequence:03d}", part, CHANGE, None))
    return grids


def _ewkb(geom: shapely.Geometry) -> str:
    multi = shapely.multipolygons(shapely.get_parts(geom))
    return shapely.to_wkb(shapely.set_srid(multi, 4326), hex=True, include_srid=True)


def seed_layout(database_url: str) -> None:
    areas = [
        ("district", "150203", shapely.box(109.80, 40.60, 109.90, 40.66)),
        ("district", "150204", shapely.box(109.90, 40.60, 109.95, 40.66)),
    ]
    with connect(database_url) as conn:
        for table, code, geom in areas:
            conn.execute(
                f"INSERT INTO {table} (code, name, geom, source) VALUES (%s, %s, %s, 'test')",
                (code, code, _ewkb(geom)),
            )
        conn.execute(
            "INSERT INTO street (code, district_code, name, source) "
            "VALUES ('150203001000', '150203', 's', 'test')"
        )
        for code, x0, x1 in ((C1, 109.80, 109.84), (C2, 109.84, 109.88)):
            conn.execute(
                "INSERT INTO community (code, street_code, name, geom, source) "
                "VALUES (%s, '150203001000', %s, %s, 'test')",
                (code, code, _ewkb(shapely.box(x0, 40.60, x1, 40.64))),
            )
        for code, geom, valid_from, valid_to in _grids():
            conn.execute(
                "INSERT INTO grid (code, community_code, name, geom, valid_from, valid_to, source)"
                " VALUES (%s, %s, %s, %s, %s, %s, 'test')",
                (code, code[:12], code, _ewkb(geom), valid_from, valid_to),
            )


Join = Callable[[np.ndarray, np.ndarray, datetime | np.ndarray, float | None], JoinResult]


def _as_datetimes(moments: np.ndarray) -> list[datetime]:
    return [m.item().replace(tzinfo=UTC) for m in moments.astype("datetime64[us]")]


def _join_one_by_one(database_url: str) -> Join:
    def join(lon, lat, at, tolerance_m=DEFAULT_JOIN_TOLERANCE_M) -> JoinResult:
        moments = [at] * len(lon) if isinstance(at, datetime) else _as_datetimes(at)
        with connect(database_url, autocommit=True) as conn:
            rows = [
                locate_point(conn, x, y, moment, tolerance_m)
                for x, y, moment in zip(lon, lat, moments, strict=True)
            ]
        return JoinResult.concatenate(rows)

    return join


@pytest.fixture(params=["in_memory", "postgis", "postgis_one_by_one"])
def join(request: pytest.FixtureRequest, database_url: str) -> Join:
    seed_layout(database_url)
    if request.param == "in_memory":
        return GridIndex.load(database_url).join
    if request.param == "postgis":
        return lambda lon, lat, at, tolerance_m=DEFAULT_JOIN_TOLERANCE_M: join_postgis(
            database_url, lon, lat, at, tolerance_m
        )
    return _join_one_by_one(database_url)


def _one(
    join: Join, lon: float, lat: float, at: datetime = NOW, tolerance_m=DEFAULT_JOIN_TOLERANCE_M
) -> dict:
    return join(np.array([lon]), np.array([lat]), at, tolerance_m).row(0)


def _metres_north(metres: float) -> float:
    return metres / METRIC.ky


def test_layout_gets_its_reference_latitude_from_the_grids(database_url: str) -> None:
    seed_layout(database_url)
    assert GridIndex.load(database_url).metric.lat0 == LAT0


def test_point_inside_a_grid(join: Join) -> None:
    row = _one(join, 109.805, 40.635)
    assert row == {
        "grid_code": f"{C1}001",
        "method": "inside",
        "distance_m": 0.0,
        "community_code": C1,
        "district_code": "150203",
    }


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (109.81, 40.635, f"{C1}001"),  # edge shared by 001 | 002
        (109.815, 40.63, f"{C1}002"),  # edge shared by 002 / 006
        (109.81, 40.63, f"{C1}001"),  # vertex of 001, 002, 005, 006
        (109.84, 40.635, f"{C1}004"),  # edge between the two communities
        (109.87, 40.62, f"{C2}003"),  # vertex of 003, 004, 007 and triangle 009
        (109.88, 40.62, f"{C2}004"),  # vertex of 004 and both triangles
        (109.87, 40.60, f"{C2}007"),  # vertex of 007 and both triangles
    ],
)
def test_point_on_a_shared_boundary_goes_to_the_smallest_code(
    join: Join, lon: float, lat: float, expected: str
) -> None:
    row = _one(join, lon, lat)
    assert (row["grid_code"], row["method"]) == (expected, "inside")


def test_a_past_moment_finds_the_grid_version_valid_then(join: Join) -> None:
    lon, lat = 109.855, 40.615  # old 2x2 grid 003; new 4x2 grid 006
    assert _one(join, lon, lat, IN_PAST)["grid_code"] == f"{C2}003"
    assert _one(join, lon, lat, NOW)["grid_code"] == f"{C2}006"
    assert _one(join, lon, lat, CHANGE)["grid_code"] == f"{C2}006"  # valid_from is inclusive


def test_per_point_moments_in_one_batch(join: Join) -> None:
    lon = np.full(3, 109.855)
    lat = np.full(3, 40.615)
    at = utc_datetime64([IN_PAST, NOW, BEFORE_ANY_GRID])
    result = join(lon, lat, at, DEFAULT_JOIN_TOLERANCE_M)
    assert list(result.grid_code) == [f"{C2}003", f"{C2}006", None]
    assert list(result.community_code) == [C2, C2, C2]


def test_a_retired_grid_no_longer_covers_its_area(join: Join) -> None:
    lon, lat = 109.835, 40.605  # C1 grid 016, retired at CHANGE
    assert _one(join, lon, lat, IN_PAST)["grid_code"] == f"{C1}016"
    row = _one(join, lon, lat, NOW)
    assert (row["grid_code"], row["method"], row["community_code"]) == (None, "unassigned", C1)


def test_point_just_outside_goes_to_the_nearest_grid_within_tolerance(join: Join) -> None:
    row = _one(join, 109.825, 40.64 + _metres_north(20))
    assert (row["grid_code"], row["method"]) == (f"{C1}003", "nearest")
    assert row["distance_m"] == pytest.approx(20.0, abs=1e-6)
    assert row["community_code"] == C1


def test_nearest_tie_goes_to_the_smallest_code(join: Join) -> None:
    row = _one(join, 109.81, 40.64 + _metres_north(30))  # above the 001 | 002 vertex
    assert (row["grid_code"], row["method"]) == (f"{C1}001", "nearest")


def test_tolerance_decides_between_nearest_and_unassigned(join: Join) -> None:
    lat = 40.64 + _metres_north(20)
    assert _one(join, 109.825, lat, tolerance_m=25)["method"] == "nearest"
    row = _one(join, 109.825, lat, tolerance_m=15)
    assert row == {
        "grid_code": None,
        "method": "unassigned",
        "distance_m": None,
        "community_code": None,
        "district_code": "150203",
    }


@pytest.mark.parametrize(
    ("lon", "lat", "at", "community", "district"),
    [
        (109.825, 40.625, NOW, C1, "150203"),  # the hole in C1's grids
        (109.805, 40.635, BEFORE_ANY_GRID, C1, "150203"),  # before any grid existed
        (109.85, 40.65, NOW, None, "150203"),  # in the district, in no community
        (109.92, 40.63, NOW, None, "150204"),  # a district without communities
        (110.5, 41.5, NOW, None, None),  # outside everything
    ],
)
def test_unassigned_point_carries_the_areas_containing_it(
    join: Join, lon: float, lat: float, at: datetime, community, district
) -> None:
    row = _one(join, lon, lat, at)
    assert (row["grid_code"], row["method"]) == (None, "unassigned")
    assert (row["community_code"], row["district_code"]) == (community, district)


def test_naive_datetimes_are_refused(join: Join) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _one(join, 109.805, 40.635, NOW.replace(tzinfo=None))
