"""The in-memory spatial join: every grid version, community and district held in shapely.

Time is cut into epochs at every grid valid_from/valid_to, so within one epoch the set of
valid grids is fixed; each epoch gets its own lookup structures, built on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg
import shapely

from gis.settings import DEFAULT_JOIN_TOLERANCE_M
from gis.spatial_join.arrays import (
    NONE_INDEX,
    as_coordinates,
    codes_with_none,
    smallest_per_input,
)
from gis.spatial_join.cells import CellLookup
from gis.spatial_join.connection import ConnOrUrl, connection
from gis.spatial_join.metric import LocalMetric, reference_latitude
from gis.spatial_join.moments import datetime_to_us, moments_us
from gis.spatial_join.result import (
    METHOD_INSIDE,
    METHOD_NEAREST,
    METHOD_UNASSIGNED,
    METHODS,
    JoinResult,
)

OPEN_END_US = np.iinfo(np.int64).max
"""valid_to of a current grid version (NULL in the database)."""


@dataclass(frozen=True)
class GridVersions:
    """All grid versions, ordered by (code, valid_from)."""

    codes: list[str]
    geoms: np.ndarray
    valid_from_us: np.ndarray
    valid_to_us: np.ndarray

    @classmethod
    def read(cls, conn: psycopg.Connection) -> GridVersions:
        rows = conn.execute(
            "SELECT code, ST_AsBinary(geom), valid_from, valid_to "
            "FROM grid ORDER BY code, valid_from"
        ).fetchall()
        return cls(
            codes=[row[0] for row in rows],
            geoms=shapely.from_wkb([bytes(row[1]) for row in rows]),
            valid_from_us=np.array([datetime_to_us(row[2]) for row in rows], dtype=np.int64),
            valid_to_us=np.array(
                [OPEN_END_US if row[3] is None else datetime_to_us(row[3]) for row in rows],
                dtype=np.int64,
            ),
        )

    def change_times_us(self) -> np.ndarray:
        """Every instant at which the set of valid grids may change, ascending."""
        ends = self.valid_to_us[self.valid_to_us != OPEN_END_US]
        return np.unique(np.concatenate((self.valid_from_us, ends)))


class Areas:
    """Communities or districts: which one contains a point (smallest code on a tie)."""

    def __init__(self, codes: list[str], geoms: np.ndarray, metric: LocalMetric) -> None:
        self._codes = codes_with_none(codes)
        self._cells = CellLookup(geoms, metric)

    @classmethod
    def read(cls, conn: psycopg.Connection, table: str, metric: LocalMetric) -> Areas:
        rows = conn.execute(f"SELECT code, ST_AsBinary(geom) FROM {table} ORDER BY code").fetchall()
        geoms = shapely.from_wkb([bytes(row[1]) for row in rows])
        return cls([row[0] for row in rows], geoms, metric)

    def containing(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Per point, the code of the area intersecting it, or None."""
        return self._codes[self._cells.locate(lon, lat)]


class Epoch:
    """The grids valid during one epoch, and the structures to search them."""

    def __init__(self, members: np.ndarray, geoms: np.ndarray, metric: LocalMetric) -> None:
        self.members = members
        """Indices into GridVersions, ascending code."""
        self._geoms = geoms[members]
        self.cells = CellLookup(self._geoms, metric)
        self._metric = metric
        self._nearest_tree: shapely.STRtree | None = None
        self._lock = threading.Lock()

    def locate(
        self, lon: np.ndarray, lat: np.ndarray, tolerance_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per point: grid version index (-1 if none), method number and distance."""
        member = self.cells.locate(lon, lat)
        method = np.where(member != NONE_INDEX, METHOD_INSIDE, METHOD_UNASSIGNED).astype(np.int8)
        distance = np.where(member != NONE_INDEX, 0.0, np.nan)
        outside = np.flatnonzero(member == NONE_INDEX)
        nearest, metres = self._nearest(lon[outside], lat[outside], tolerance_m)
        near = nearest != NONE_INDEX
        member[outside[near]] = nearest[near]
        method[outside[near]] = METHOD_NEAREST
        distance[outside[near]] = metres[near]
        version = np.full(len(member), NONE_INDEX, dtype=np.int64)
        version[method != METHOD_UNASSIGNED] = self.members[member[method != METHOD_UNASSIGNED]]
        return version, method, distance

    def _nearest(
        self, lon: np.ndarray, lat: np.ndarray, tolerance_m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the nearest member within ``tolerance_m`` (smallest code on a tie) and
        its distance in metres; -1 and NaN where there is none."""
        distance = np.full(len(lon), np.nan)
        if len(lon) == 0 or len(self.members) == 0 or tolerance_m <= 0:
            return np.full(len(lon), NONE_INDEX, dtype=np.int64), distance
        scaled_points = shapely.points(lon * self._metric.kx, lat * self._metric.ky)
        (point, candidate), metres = self._tree().query_nearest(
            scaled_points, max_distance=tolerance_m, return_distance=True, all_matches=True
        )
        distance[point] = metres  # all matches of one point are equidistant
        return smallest_per_input(point, candidate, len(lon)), distance

    def _tree(self) -> shapely.STRtree:
        """An STRtree of the members in the metric plane (built on first nearest search)."""
        with self._lock:
            if self._nearest_tree is None:
                scale = np.array([self._metric.kx, self._metric.ky])
                self._nearest_tree = shapely.STRtree(
                    shapely.transform(self._geoms, lambda xy: xy * scale)
                )
            return self._nearest_tree


class GridIndex:
    """Grid, community and district lookups in memory; see ``join``.

    Immutable once loaded (epochs are built lazily, under a lock), so one index can serve
    many threads; GridIndexCache replaces it as a whole when the grid table changes.
    """

    def __init__(
        self, versions: GridVersions, communities: Areas, districts: Areas, metric: LocalMetric
    ) -> None:
        self.metric = metric
        self._versions = versions
        self._codes = codes_with_none(versions.codes)
        # A grid's community and district are prefixes of its code (schema constraints).
        self._community_codes = codes_with_none([code[:12] for code in versions.codes])
        self._district_codes = codes_with_none([code[:6] for code in versions.codes])
        self._communities = communities
        self._districts = districts
        self._change_times_us = versions.change_times_us()
        self._epochs: dict[int, Epoch] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, conn_or_url: ConnOrUrl, lat0: float | None = None) -> GridIndex:
        """Read all grid versions, communities and districts (lat0: see metric.py)."""
        with connection(conn_or_url) as conn:
            metric = LocalMetric(reference_latitude(conn) if lat0 is None else lat0)
            return cls(
                GridVersions.read(conn),
                Areas.read(conn, "community", metric),
                Areas.read(conn, "district", metric),
                metric,
            )

    def join(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        at: datetime | np.ndarray,
        tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M,
    ) -> JoinResult:
        """The grid covering each point at its moment ``at`` (one datetime, or datetime64
        per point, UTC); outside every grid, the nearest within ``tolerance_m`` (callers pass
        settings.join_tolerance_m); else unassigned with its community and district."""
        lon, lat = as_coordinates(lon, lat)
        if tolerance_m < 0:
            raise ValueError("tolerance_m must not be negative")
        epoch_of = np.searchsorted(self._change_times_us, moments_us(at, len(lon)), "right")
        grid = np.full(len(lon), NONE_INDEX, dtype=np.int64)
        method = np.full(len(lon), METHOD_UNASSIGNED, dtype=np.int8)
        distance = np.full(len(lon), np.nan)
        for epoch_number in np.unique(epoch_of):
            points = np.flatnonzero(epoch_of == epoch_number)
            epoch = self._epoch(int(epoch_number))
            grid[points], method[points], distance[points] = epoch.locate(
                lon[points], lat[points], tolerance_m
            )
        community = self._community_codes[grid]
        district = self._district_codes[grid]
        unassigned = np.flatnonzero(grid == NONE_INDEX)
        community[unassigned] = self._communities.containing(lon[unassigned], lat[unassigned])
        district[unassigned] = self._districts.containing(lon[unassigned], lat[unassigned])
        return JoinResult(self._codes[grid], METHODS[method], distance, community, district)

    def warm(self, at: datetime) -> None:
        """Build the lookup for the epoch containing ``at`` now, rather than on first use."""
        self._epoch(int(np.searchsorted(self._change_times_us, datetime_to_us(at), "right")))

    def _epoch(self, number: int) -> Epoch:
        """Epoch ``number`` starts at change time number-1 (epoch 0: before any grid)."""
        with self._lock:
            if number not in self._epochs:
                self._epochs[number] = Epoch(
                    self._members(number), self._versions.geoms, self.metric
                )
            return self._epochs[number]

    def _members(self, number: int) -> np.ndarray:
        if number == 0:
            return np.empty(0, dtype=np.int64)
        start = self._change_times_us[number - 1]
        valid = (self._versions.valid_from_us <= start) & (start < self._versions.valid_to_us)
        return np.flatnonzero(valid)
