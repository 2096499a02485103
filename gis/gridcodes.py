"""Grid codes: 15 digits = 12-digit community code + 3-digit sequence in reading order.

The sequence runs west→east, north→south (DB11/T 2157-2023 style): rows from north to
south, and within a row from west to east. Polygons are never laid out in neat rows, so a
row is defined explicitly: sorting centroids from north to south, a centroid joins the
current row while it lies less than half the median polygon height below the row's first
(northernmost) centroid; otherwise it starts the next row.

Pass WGS84 (lon/lat) polygons, as stored: only the order of coordinates matters (north is
+y, east is +x), but in a projected CRS grid north is turned from true north (by ~0.8° in
UTM 49N at Baotou), which can move a polygon between rows. Demo generation and
redistricting share this rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

COMMUNITY_CODE = re.compile(r"^[0-9]{12}$")
MAX_GRIDS_PER_COMMUNITY = 999


def reading_order(polygons: Sequence[BaseGeometry]) -> list[int]:
    """Indices of ``polygons`` in reading order: rows north to south, west to east in a row."""
    geoms = np.asarray(polygons, dtype=object)
    if geoms.size == 0:
        return []
    centroids = shapely.get_coordinates(shapely.centroid(geoms))
    bounds = shapely.bounds(geoms)
    half_height = 0.5 * float(np.median(bounds[:, 3] - bounds[:, 1]))

    north_first = sorted(range(len(geoms)), key=lambda i: (-centroids[i, 1], centroids[i, 0]))
    rows: list[list[int]] = []
    row_top = np.inf
    for i in north_first:
        y = centroids[i, 1]
        if not rows or row_top - y >= half_height:
            rows.append([])
            row_top = y
        rows[-1].append(i)
    return [i for row in rows for i in sorted(row, key=lambda j: (centroids[j, 0], j))]


def number_grids(community_code: str, polygons: Sequence[BaseGeometry]) -> list[str]:
    """The grid code of each polygon (same order as given): community code + 001, 002, …"""
    if not COMMUNITY_CODE.match(community_code):
        raise ValueError(f"community code must be 12 digits, got {community_code!r}")
    if len(polygons) > MAX_GRIDS_PER_COMMUNITY:
        raise ValueError(f"at most {MAX_GRIDS_PER_COMMUNITY} grids fit a 3-digit sequence")
    codes = [""] * len(polygons)
    for seq, i in enumerate(reading_order(polygons), start=1):
        codes[i] = f"{community_code}{seq:03d}"
    return codes
