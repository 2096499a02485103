"""Point-in-grid lookup through a uniform raster of cells.

Creating shapely points and querying an STRtree costs about 1.4 µs per point; this lookup
needs no point objects. The grids' extent is cut into about CELLS_PER_GRID cells per
grid. A cell covered by exactly one grid answers its points by array indexing alone; for
the other cells, the candidate grids (an STRtree query per cell, done once) are tested
with the prepared ``shapely.intersects_xy`` in grid order, so the first hit is the
smallest code, as the join requires.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import shapely

from gis.spatial_join.metric import LocalMetric

CELL_MARGIN_DEG = 1e-9
"""Each cell is tested grown by this margin (about 0.1 mm), so a point that floating-point
rounding puts into a neighbouring cell is still inside the cell it is looked up in."""
CELLS_PER_GRID = 16
MAX_CELLS = 1 << 20
NOT_FOUND = -1
_PREPARED_GEOMETRY_LOCK = threading.Lock()
"""GEOS prepared geometries are not thread-safe (libgeos/geos#825) and shapely releases
the GIL around them; one geometry may serve several lookups (epochs share grids)."""


class CellLookup:
    """Which of ``geoms`` (prepared, in code order) intersects each point, smallest first.

    Safe to share between threads: the exact tests run under _PREPARED_GEOMETRY_LOCK.
    """

    def __init__(self, geoms: np.ndarray, metric: LocalMetric) -> None:
        self._geoms = geoms
        with _PREPARED_GEOMETRY_LOCK:
            shapely.prepare(geoms)
        if len(geoms) == 0:
            self._nx = self._ny = 0
            return
        self._x0, self._y0, self._x1, self._y1 = shapely.total_bounds(geoms)
        width_m = (self._x1 - self._x0) * metric.kx
        height_m = (self._y1 - self._y0) * metric.ky
        cells = min(MAX_CELLS, CELLS_PER_GRID * len(geoms))
        side_m = math.sqrt(width_m * height_m / cells)
        self._nx = max(1, math.ceil(width_m / side_m))
        self._ny = max(1, math.ceil(height_m / side_m))
        self._dx = (self._x1 - self._x0) / self._nx
        self._dy = (self._y1 - self._y0) / self._ny
        self._index_cells()

    def _index_cells(self) -> None:
        column, row = np.meshgrid(np.arange(self._nx), np.arange(self._ny), indexing="xy")
        column, row = column.ravel(), row.ravel()
        boxes = shapely.box(
            self._x0 + column * self._dx - CELL_MARGIN_DEG,
            self._y0 + row * self._dy - CELL_MARGIN_DEG,
            self._x0 + (column + 1) * self._dx + CELL_MARGIN_DEG,
            self._y0 + (row + 1) * self._dy + CELL_MARGIN_DEG,
        )
        cell, grid = shapely.STRtree(self._geoms).query(boxes, predicate="intersects")
        order = np.lexsort((grid, cell))
        cell, grid = cell[order], grid[order]
        self._counts = np.bincount(cell, minlength=len(boxes))
        self._offsets = np.concatenate(([0], np.cumsum(self._counts)))
        self._candidates = grid
        single = np.flatnonzero(self._counts == 1)
        only = grid[self._offsets[single]]
        with _PREPARED_GEOMETRY_LOCK:
            covered = shapely.covers(self._geoms[only], boxes[single])
        self._covering = np.full(len(boxes), NOT_FOUND, dtype=np.int64)
        self._covering[single[covered]] = only[covered]

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Per point, the index of the smallest grid intersecting it, or NOT_FOUND (-1)."""
        found = np.full(len(lon), NOT_FOUND, dtype=np.int64)
        if self._nx == 0:
            return found
        in_extent = np.flatnonzero(
            (lon >= self._x0) & (lon <= self._x1) & (lat >= self._y0) & (lat <= self._y1)
        )
        x, y = lon[in_extent], lat[in_extent]
        column = np.clip(((x - self._x0) / self._dx).astype(np.int64), 0, self._nx - 1)
        row = np.clip(((y - self._y0) / self._dy).astype(np.int64), 0, self._ny - 1)
        cell = row * self._nx + column
        found[in_extent] = self._covering[cell]
        mixed = np.flatnonzero((found[in_extent] == NOT_FOUND) & (self._counts[cell] > 0))
        self._test_candidates(found, in_extent[mixed], cell[mixed], lon, lat)
        return found

    def _test_candidates(
        self,
        found: np.ndarray,
        points: np.ndarray,
        cells: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
    ) -> None:
        """Exact tests of ``points`` against their cells' candidates; writes into ``found``.

        Round k tests each still unresolved point against its k-th candidate, so a point
        stops at its first (smallest-code) hit.
        """
        slot = self._offsets[cells]
        end = self._offsets[cells + 1]
        while len(points):
            grid = self._candidates[slot]
            with _PREPARED_GEOMETRY_LOCK:
                hit = shapely.intersects_xy(self._geoms[grid], lon[points], lat[points])
            found[points[hit]] = grid[hit]
            slot += 1
            pending = ~hit & (slot < end)
            points, slot, end = points[pending], slot[pending], end[pending]
