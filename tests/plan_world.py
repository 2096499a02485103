"""A re-split of community A of tests/api_world.py, for the plan-apply tests.

Today A has grids 001 (west half, building a1, workers w_a1 and head_a) and 002 (east half,
building a2, worker w_a2). The plan cuts A at lon 109.812 instead: 001 keeps the west part
(a1) and the new 003 takes the east (a2), so w_a1 and head_a stay on 001 and w_a2 follows
a2's household to 003. A door controller at lon 109.811, filed in 002, moves to 001.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shapely.geometry import box

from gis.db import connect
from gis.loaders.context import DEFAULT_RULES
from gis.redistrict_apply.validate import PlanGrid
from tests.api_world import COMMUNITY_A, GRID_A1, GRID_A2

GRID_A3 = f"{COMMUNITY_A}003"
CUT_LON = 109.812
VALID_FROM = datetime(2026, 6, 1, tzinfo=UTC)
BEFORE = datetime(2026, 3, 1, tzinfo=UTC)
RULES = DEFAULT_RULES
EAST_POINT = (109.815, 40.605)
"""In old grid 002 and in new grid 003."""


def resplit(assignments_003: list[dict] | None = None) -> list[PlanGrid]:
    return [
        PlanGrid(GRID_A1, box(109.80, 40.60, CUT_LON, 40.62)),
        PlanGrid(GRID_A3, box(CUT_LON, 40.60, 109.82, 40.62), assignments_003),
    ]


def add_door_near_cut(database_url: str) -> None:
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO device (id, kind, geom, grid_code, source) VALUES "
            "('door_a', 'door', 'SRID=4326;POINT(109.811 40.605)', %s, 't')",
            (GRID_A2,),
        )
