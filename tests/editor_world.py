"""Community A of tests/api_world.py filled with houses, for the plan editor's tests.

A 10 × 8 lattice of buildings (40 households each, as household rows) is added to A
(lon 109.80–109.82, lat 40.60–40.62) beside its two buildings: 3,202 households, so a
proposal makes 7–8 grids of 300–500 households.
"""

from __future__ import annotations

from shapely.geometry import box

from gis.db import connect
from tests.api_world import COMMUNITY_A

COLUMNS, ROWS, PER_BUILDING = 10, 8, 40
HOUSEHOLDS = COLUMNS * ROWS * PER_BUILDING + 2


def building_centre(column: int, row: int) -> tuple[float, float]:
    return 109.801 + column * 0.002, 40.6015 + row * 0.0024


def add_houses(database_url: str) -> None:
    with connect(database_url) as conn:
        for column in range(COLUMNS):
            for row in range(ROWS):
                x, y = building_centre(column, row)
                footprint = box(x - 0.0004, y - 0.0003, x + 0.0004, y + 0.0003)
                conn.execute(
                    "INSERT INTO building (code, community_code, geom, households, source) "
                    "VALUES (%s, %s, ST_Multi(ST_GeomFromText(%s, 4326)), %s, 't')",
                    (f"E-{column}-{row}", COMMUNITY_A, footprint.wkt, PER_BUILDING),
                )
        conn.execute(
            "INSERT INTO household (code, building_id, unit, room, source) "
            "SELECT 'H-' || b.code || '-' || n, b.id, 1, n::text, 't' "
            "FROM building b, generate_series(1, %s) AS n WHERE b.code LIKE 'E-%%'",
            (PER_BUILDING,),
        )
