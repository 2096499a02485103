"""The spatial join in PostGIS: a batch is COPYed into a temp table and joined in one query.

The semantics are those of GridIndex.join (see gis/spatial_join/__init__.py); the per-point
logic is one SQL fragment, LOCATE, used both for batches and for single points.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np
import psycopg
from psycopg import sql

from gis.models import SRID
from gis.settings import get_settings
from gis.spatial_join.arrays import as_coordinates
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


def _locate(points: sql.Composable) -> sql.Composed:
    return sql.SQL(LOCATE).format(
        points=points,
        inside=sql.Literal(METHOD_INSIDE),
        nearest=sql.Literal(METHOD_NEAREST),
        unassigned=sql.Literal(METHOD_UNASSIGNED),
    )


def _parameters(
    conn: psycopg.Connection, tolerance_m: float | None, lat0: float | None
) -> dict[str, float]:
    metric = LocalMetric(reference_latitude(conn) if lat0 is None else lat0)
    tolerance = get_settings().join_tolerance_m if tolerance_m is None else tolerance_m
    if tolerance < 0:
        raise ValueError("tolerance_m must not be negative")
    return {
        "kx": metric.kx,
        "ky": metric.ky,
        "radius_deg": metric.degrees_within(tolerance),
        "tolerance_m": tolerance,
    }


@contextmanager
def _batch(
    conn: psycopg.Connection, lon: np.ndarray, lat: np.ndarray, at: datetime | np.ndarray
) -> Iterator[sql.Composable]:
    """The points COPYed into a temp table (dropped after), inside a transaction."""
    lon, lat = as_coordinates(lon, lat)
    moments = moments_us(at, len(lon))
    with conn.transaction():
        conn.execute("SET LOCAL jit = off")  # compiling costs more than a batch gains
        conn.execute(f"CREATE TEMP TABLE {POINT_TABLE} (i int4, geom geometry, at timestamptz)")
        with conn.cursor().copy(f"COPY {POINT_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(
                encode_rows(
                    {
                        "i": np.arange(len(lon), dtype=np.int32),
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
    tolerance_m: float | None = None,
    lat0: float | None = None,
) -> JoinResult:
    """GridIndex.join, computed by PostGIS in one set-based query over a COPYed batch.

    Runs in its own transaction (a savepoint if ``conn`` is already in one).
    """
    with connection(conn_or_url) as conn, _batch(conn, lon, lat, at) as points:
        rows = conn.execute(_locate(points), _parameters(conn, tolerance_m, lat0)).fetchall()
    return _result(rows, len(lon))


def explain_join(
    conn_or_url: ConnOrUrl,
    lon: np.ndarray,
    lat: np.ndarray,
    at: datetime | np.ndarray,
    tolerance_m: float | None = None,
    lat0: float | None = None,
) -> str:
    """EXPLAIN ANALYZE of join_postgis's query for this batch (is the GiST index probed?)."""
    with connection(conn_or_url) as conn, _batch(conn, lon, lat, at) as points:
        explain = sql.SQL("EXPLAIN (ANALYZE, COSTS OFF) ") + _locate(points)
        rows = conn.execute(explain, _parameters(conn, tolerance_m, lat0)).fetchall()
    return "\n".join(row[0] for row in rows)


def locate_point(
    conn: psycopg.Connection,
    lon: float,
    lat: float,
    at: datetime,
    tolerance_m: float | None = None,
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
    return _result(conn.execute(_locate(point), parameters).fetchall(), 1)


def _result(rows: list[tuple], count: int) -> JoinResult:
    """Rows (i, grid, method, distance, community, district) as a JoinResult in point order."""
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
