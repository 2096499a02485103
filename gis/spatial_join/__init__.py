"""Spatial join core: which grid covers each point of a batch at a given moment.

Semantics, identical in both implementations (GridIndex in memory, join_postgis in PostGIS):

- A grid version covers moment t when valid_from <= t < coalesce(valid_to, infinity).
- Inside: the point intersects the grid (its boundary counts). Several grids (a shared edge
  or vertex, or overlapping data) -> the smallest grid code wins.
- Otherwise the nearest grid within ``tolerance_m`` (the callers pass settings.join_tolerance_m),
  distance measured in the local metric plane of metric.py; ties -> smallest code.
- Otherwise unassigned, with the community and district whose polygons contain the point
  (smallest code; None if none). An assigned point carries the community and district
  codes that prefix its grid code (the schema's check constraints tie them together).

Use GridIndexCache in long-running processes: it keeps a GridIndex current by listening
on GRID_CHANGED_CHANNEL. In PostGIS, join_postgis answers points at current moments from
a raster of the current grids (table grid_cell, rebuilt by a trigger whenever grids change)
and probes the GiST index for the rest; join_postgis_parallel splits a batch across
connections.
"""

from gis.spatial_join.cache import GRID_CHANGED_CHANNEL, GridIndexCache
from gis.spatial_join.grid_index import GridIndex
from gis.spatial_join.metric import LocalMetric, reference_latitude
from gis.spatial_join.moments import utc_datetime64
from gis.spatial_join.postgis import explain_join, join_postgis, locate_point
from gis.spatial_join.postgis_parallel import join_postgis_parallel
from gis.spatial_join.result import INSIDE, NEAREST, UNASSIGNED, JoinResult

__all__ = [
    "GRID_CHANGED_CHANNEL",
    "INSIDE",
    "NEAREST",
    "UNASSIGNED",
    "GridIndex",
    "GridIndexCache",
    "JoinResult",
    "LocalMetric",
    "explain_join",
    "join_postgis",
    "join_postgis_parallel",
    "locate_point",
    "reference_latitude",
    "utc_datetime64",
]
