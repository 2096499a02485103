"""The spatial join in PostGIS: a batch is COPYed into a temp table and joined in one query.

The semantics are those of GridIndex.join (see gis/spatial_join/__init__.py); the per-point
logic is one SQL fragment, LOCATE, used for single points and for the points of a batch
that the cell raster does not answer. A batch first hash-joins its points' cells (numbered
client-side, sent with the points) with grid_cell (migration 0004), which answers most points at current moments without probing
the GiST index; only the others (in cells that several grids share, outside every grid,
or at a moment before the current grids) go through LOCATE. A batch's results come back
packed into one bytea of fixed-width records, codes as integers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import psycopg
from psycopg import sql

from gis.models import SRID
from gis.settings import DEFAULT_JOIN_TOLERANCE_M
from gis.spatial_join.arrays import as_coordinates, digit_codes
from gis.spatial_join.binary_copy import POSTGRES_EPOCH_US, encode_rows, ewkb_points
from gis.spatial_join.connection import ConnOrUrl, connection
from gis.spatial_join.metric import LocalMetric, reference_latitude
from gis.spatial_join.moments import aware, moments_us
from gis.spatial_join.result import (
    METHOD_INSIDE,
    METHOD_NEAREST,
    METHOD_UNASSIGNED,
    METHODS,
    JoinResult,
)

POINT_TABLE = "spatial_join_point"
GRID_CODE_DIGITS, COMMUNITY_CODE_DIGITS, DISTRICT_CODE_DIGITS = 15, 12, 6

LOCATE = """
SELECT p.i,
       coalesce(inside.code, nearest.code) AS grid_code,
       CASE WHEN inside.code IS NOT NULL THEN {inside}
            WHEN nearest.code IS NOT NULL THEN {nearest}
            ELSE {unassigned} END AS method,
       CASE WHEN inside.code IS NOT NULL THEN 0.0 ELSE nearest.metres END AS distance_m,
       coalesce(left(coalesce(inside.code, nearest.code), 12), community.code) AS community_code,
       coalesce(left(coalesce(inside.code, nearest.code), 6), district.code) AS district_code
FROM {points} AS p
CROSS JOIN LATERAL (
    SELECT min(g.code) AS code
    FROM grid AS g
    WHERE ST_Intersects(g.geom, p.geom)
      AND g.valid_from <= p.at AND (g.valid_to IS NULL OR p.at < g.valid_to)
) AS inside
LEFT JOIN LATERAL (
    SELECT g.code, d.metres
    FROM grid AS g
    CROSS JOIN LATERAL (
        SELECT ST_Distance(ST_Scale(g.geom, %(kx)s, %(ky)s),
                           ST_Scale(p.geom, %(kx)s, %(ky)s)) AS metres
    ) AS d
    WHERE inside.code IS NULL
      AND ST_DWithin(g.geom, p.geom, %(radius_deg)s)
      AND g.valid_from <= p.at AND (g.valid_to IS NULL OR p.at < g.valid_to)
      AND d.metres <= %(tolerance_m)s
    ORDER BY d.metres, g.code
    LIMIT 1
) AS nearest ON true
LEFT JOIN LATERAL (
    SELECT c.code FROM community AS c
    WHERE inside.code IS NULL AND nearest.code IS NULL AND ST_Intersects(c.geom, p.geom)
    ORDER BY c.code
    LIMIT 1
) AS community ON true
LEFT JOIN LATERAL (
    SELECT d.code FROM district AS d
    WHERE inside.code IS NULL AND nearest.code IS NULL AND ST_Intersects(d.geom, p.geom)
    ORDER BY d.code
    LIMIT 1
) AS district ON true
"""
"""Per point of {points} (columns i, geom, at): grid, method, distance and areas.
A grid's community and district are the prefixes of its code (schema constraints)."""


CURRENT_GRID_BY_CELL = """
SELECT p.i, c.grid_code AS code
FROM {points} AS p
JOIN grid_cell AS c ON c.cell = p.cell
WHERE c.covers
UNION ALL
SELECT shared.i, min(shared.grid_code) AS code
FROM (
    SELECT p.i, p.geom, c.grid_id, c.grid_code
    FROM {points} AS p
    JOIN grid_cell AS c ON c.cell = p.cell
    WHERE NOT c.covers
    ORDER BY c.grid_id
    OFFSET 0
) AS shared
JOIN grid AS g ON g.id = shared.grid_id
WHERE ST_Intersects(g.geom, shared.geom)
GROUP BY shared.i
"""
"""Per point of {points} (columns i, cell, geom, at), the smallest current grid intersecting
it: its cell's only grid when that grid covers the cell (a covered cell has no other row,
migration 0004), else the smallest of the cell's grids that the point intersects. Points
that no current grid intersects, outside the raster or at moments before its valid_since
(``cell`` = NO_CELL) are left out. Measured with EXPLAIN ANALYZE (benchmarks/spatial_join's
city, 150k points), each step below cut this part's server time:

* the cell number comes with the point (``raster_cells``, computed client-side from the
  raster row read in the batch's transaction): a plain int8 hash join instead of floor()
  arithmetic per point in SQL (about half of it);
* covered cells need no aggregate: only the shared cells' candidates are grouped;
* those candidates are tested in grid order (the ORDER BY, fenced by OFFSET 0, feeds the
  hash join's outer side, whose order it keeps), so consecutive ST_Intersects calls see the
  same polygon and PostGIS reuses its prepared geometry (about a third fewer ms for the
  test; the order only changes speed, never the answer)."""

NO_CELL = -1
"""The cell of a point the raster does not answer (no grid_cell row has it)."""

BY_CELL_LOCATED = """
SELECT i, code AS grid_code, {inside} AS method, 0.0::float8 AS distance_m,
       left(code, 12) AS community_code, left(code, 6) AS district_code
FROM by_cell
UNION ALL
({locate})
"""
"""LOCATE's columns for every point of a batch: by_cell's answers, LOCATE for the rest."""

PACKED = """
SELECT string_agg(
    int4send(i)
    || int8send(coalesce(grid_code::int8, -1))
    || int2send(method::int2)
    || float8send(coalesce(distance_m, 'NaN'))
    || int8send(coalesce(community_code::int8, -1))
    || int8send(coalesce(district_code::int8, -1)),
    ''::bytea)
FROM ({located}) AS located
"""
"""A batch's rows packed into one bytea of fixed-width ROW_TYPE records, codes as integers
(see digit_codes) and NULLs as -1 or NaN: one value to fetch instead of a row per point."""

BATCH = """
WITH by_cell AS MATERIALIZED ({by_cell})
{packed}
"""
"""A whole batch: by cell where the raster answers, LOCATE for the other points."""

ROW_TYPE = np.dtype(
    [
        ("i", ">i4"),
        ("grid_code", ">i8"),
        ("method", ">i2"),
        ("distance_m", ">f8"),
        ("community_code", ">i8"),
        ("district_code", ">i8"),
    ]
)
"""One record of PACKED (the *send functions write big-endian)."""


def _locate(points: sql.Composable) -> sql.Composed:
    return sql.SQL(LOCATE).format(
        points=points,
        inside=sql.Literal(METHOD_INSIDE),
        nearest=sql.Literal(METHOD_NEAREST),
        unassigned=sql.Literal(METHOD_UNASSIGNED),
    )


def _batch_query(points: sql.Identifier) -> sql.Composed:
    unanswered = sql.SQL(
        "(SELECT p.i, p.geom, p.at FROM {points} AS p"
        " WHERE NOT EXISTS (SELECT FROM by_cell AS b WHERE b.i = p.i))"
    ).format(points=points)
    located = sql.SQL(BY_CELL_LOCATED).format(
        inside=sql.Literal(METHOD_INSIDE), locate=_locate(unanswered)
    )
    return sql.SQL(BATCH).format(
        by_cell=sql.SQL(CURRENT_GRID_BY_CELL).format(points=points),
        packed=sql.SQL(PACKED).format(located=located),
    )


def _parameters(
    conn: psycopg.Connection, tolerance_m: float, lat0: float | None
) -> dict[str, float]:
    metric = LocalMetric(reference_latitude(conn) if lat0 is None else lat0)
    if tolerance_m < 0:
        raise ValueError("tolerance_m must not be negative")
    return {
        "kx": metric.kx,
        "ky": metric.ky,
        "radius_deg": metric.degrees_within(tolerance_m),
        "tolerance_m": tolerance_m,
    }


def raster_cells(
    conn: psycopg.Connection, lon: np.ndarray, lat: np.ndarray, moments: np.ndarray
) -> np.ndarray:
    """Each point's grid_cell number in the current raster (``NO_CELL`` outside it, at an
    earlier moment, or when there is no raster): the same floor((x - x0) / dx) arithmetic
    in IEEE doubles as PostgreSQL's float8, and the raster's cells are padded by a margin
    for rounding (migration 0004)."""
    cells = np.full(len(lon), NO_CELL, dtype=np.int64)
    raster = conn.execute(
        "SELECT x0, y0, dx, dy, nx, ny, (extract(epoch FROM valid_since) * 1000000)::int8 "
        "FROM grid_raster"
    ).fetchone()
    if raster is None:
        return cells
    x0, y0, dx, dy, nx, ny, since_us = raster
    column, row = np.floor((lon - x0) / dx), np.floor((lat - y0) / dy)
    known = (column >= 0) & (column < nx) & (row >= 0) & (row < ny) & (moments >= since_us)
    cells[known] = (row[known] * nx + column[known]).astype(np.int64)
    return cells


@contextmanager
def _batch(
    conn: psycopg.Connection, lon: np.ndarray, lat: np.ndarray, at: datetime | np.ndarray
) -> Iterator[sql.Composable]:
    """The points COPYed into a temp table (dropped after), inside a transaction."""
    lon, lat = as_coordinates(lon, lat)
    moments = moments_us(at, len(lon))
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")  # compiling costs more than a batch gains
        conn.execute("SET LOCAL work_mem = '64MB'")  # grid_cell's hash stays in memory
        cells = raster_cells(conn, lon, lat, moments)
        conn.execute(
            f"CREATE TEMP TABLE {POINT_TABLE} (i int4, cell int8, geom geometry, at timestamptz)"
        )
        with conn.cursor().copy(f"COPY {POINT_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(
                encode_rows(
                    {
                        "i": np.arange(len(lon), dtype=np.int32),
                        "cell": cells,
                        "geom": ewkb_points(lon, lat, SRID),
                        "at": moments - POSTGRES_EPOCH_US,
                    }
                )
            )
        yield sql.Identifier(POINT_TABLE)
        conn.execute(f"DROP TABLE {POINT_TABLE}")


def join_postgis(
    conn_or_url: ConnOrUrl,
    lon: np.ndarray,
    lat: np.ndarray,
    at: datetime | np.ndarray,
    tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M,
    lat0: float | None = None,
) -> JoinResult:
    """GridIndex.join, computed by PostGIS in one set-based query over a COPYed batch.

    Runs in its own transaction (a savepoint if ``conn`` is already in one).
    """
    with connection(conn_or_url) as conn, _batch(conn, lon, lat, at) as points:
        query, parameters = _batch_query(points), _parameters(conn, tolerance_m, lat0)
        packed = conn.execute(query, parameters, binary=True).fetchone()[0]
    return _packed_result(np.frombuffer(packed or b"", dtype=ROW_TYPE), len(lon))


def explain_join(
    conn_or_url: ConnOrUrl,
    lon: np.ndarray,
    lat: np.ndarray,
    at: datetime | np.ndarray,
    tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M,
    lat0: float | None = None,
) -> str:
    """EXPLAIN ANALYZE of join_postgis's query for this batch (is the GiST index probed?)."""
    with connection(conn_or_url) as conn, _batch(conn, lon, lat, at) as points:
        explain = sql.SQL("EXPLAIN (ANALYZE, COSTS OFF) ") + _batch_query(points)
        rows = conn.execute(explain, _parameters(conn, tolerance_m, lat0)).fetchall()
    return "\n".join(row[0] for row in rows)


def locate_point(
    conn: psycopg.Connection,
    lon: float,
    lat: float,
    at: datetime,
    tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M,
    lat0: float | None = None,
) -> JoinResult:
    """One point in one query (no temp table): for single lookups and as the naive baseline.

    Pass ``lat0`` when calling repeatedly, to save the reference-latitude query.
    """
    point = sql.SQL(
        "(SELECT 0 AS i, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), %(srid)s) AS geom,"
        " %(at)s::timestamptz AS at)"
    )
    parameters = _parameters(conn, tolerance_m, lat0) | {
        "lon": lon,
        "lat": lat,
        "srid": SRID,
        "at": aware(at),
    }
    return _rows_result(conn.execute(_locate(point), parameters).fetchall(), 1)


def _rows_result(rows: list[tuple], count: int) -> JoinResult:
    """LOCATE's rows (i, grid, method, distance, community, district) as a JoinResult in
    point order: for a few points, where unpacking PACKED would cost more than it saves."""
    grid = np.full(count, None, dtype=object)
    method = np.full(count, METHOD_UNASSIGNED, dtype=np.int8)
    distance = np.full(count, np.nan)
    community = np.full(count, None, dtype=object)
    district = np.full(count, None, dtype=object)
    if rows:
        i, grid_codes, methods, metres, communities, districts = zip(*rows, strict=True)
        order = np.fromiter(i, dtype=np.int64, count=len(rows))
        grid[order] = grid_codes
        method[order] = methods
        distance[order] = np.array(metres, dtype=np.float64)
        community[order] = communities
        district[order] = districts
    return JoinResult(grid, METHODS[method], distance, community, district)


def _packed_result(rows: np.ndarray, count: int) -> JoinResult:
    """ROW_TYPE records, one per point, as a JoinResult in point order."""
    rows = rows[np.argsort(rows["i"])]
    if not np.array_equal(rows["i"], np.arange(count)):
        raise RuntimeError("the join must return exactly one row per point")
    return JoinResult(
        digit_codes(rows["grid_code"], GRID_CODE_DIGITS),
        METHODS[rows["method"]],
        rows["distance_m"].astype(np.float64),
        digit_codes(rows["community_code"], COMMUNITY_CODE_DIGITS),
        digit_codes(rows["district_code"], DISTRICT_CODE_DIGITS),
    )
