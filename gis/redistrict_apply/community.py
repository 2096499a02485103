"""A community of the database as the redistricting engine's input, and the editor's model.

The engine (gis.redistrict) works on units: the community tessellated around its
buildings. The editor works on buildings. ``CommunityModel`` holds both for one community
— its buildings (database ids, households = household rows, as the plan store counts
them), their tessellation and unit graph, and the building adjacency the browser uses for
its incremental contiguity check — and turns a building assignment back into grid
polygons: every unit takes its building's grid, land without buildings joins a
neighbouring grid, and each grid is its units dissolved (so the grids tile the community).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from shapely.geometry.base import BaseGeometry

from gis.crs import WGS84
from gis.redistrict.graph import UnitGraph, build_graph
from gis.redistrict.inputs import CUT_ROAD_CLASSES, PlannerInputs, assemble
from gis.redistrict.partition import _fill_unlabelled
from gis.redistrict.propose import ProposeOptions, _dissolve
from gis.redistrict.tessellation import Tessellation, tessellate
from gis.redistrict_apply.validate import PlanGrid

MAX_EMPTY_LINKS = 12
"""Land without buildings links the buildings around it (for the browser's contiguity
check) pairwise up to this many neighbours, beyond that in a ring."""


CUT_ROADS_OF_COMMUNITY = (
    "FROM road r JOIN community c ON ST_Intersects(r.geom, c.geom) "
    "WHERE c.code = %s AND NOT ST_Touches(r.geom, c.geom) "
    "AND r.class = ANY(%s) AND NOT r.tunnel"
)
"""The cut-line roads running into a community (not those only along or touching its
outline: they cut nothing inside it), of the file mode's classes (CUT_ROAD_CLASSES), no
tunnels: one probe of the road table's GiST index."""


class CommunityUnknown(LookupError):
    """No such community, or it has no buildings."""


def community_outline(conn: psycopg.Connection, community_code: str) -> BaseGeometry:
    """The community's polygon (WGS84, as stored)."""
    row = conn.execute(
        "SELECT ST_AsBinary(geom) FROM community WHERE code = %s", (community_code,)
    ).fetchone()
    if row is None:
        raise CommunityUnknown(f"社区 {community_code} 不存在 (no such community)")
    return shapely.from_wkb(row[0])


def fit_to_community(grids: list[PlanGrid], outline: BaseGeometry) -> list[PlanGrid]:
    """Grids clipped to the community and the slivers between them and its outline given to
    the grid they touch most. The engine draws in metres (UTM): an outline vertex it adds
    on a straight edge of the stored lon/lat outline comes back a little off that edge, so
    without this the grids would leave slivers uncovered (metres² over a community)."""
    geoms = shapely.intersection(np.asarray([g.geom for g in grids], dtype=object), outline)
    gap = shapely.difference(outline, shapely.union_all(geoms))
    outlines = shapely.boundary(geoms)
    for piece in shapely.get_parts(gap).tolist():
        if piece.area <= 0:
            continue
        touching = shapely.length(shapely.intersection(outlines, piece.boundary))
        nearest = (
            int(np.argmax(touching))
            if touching.max() > 0
            else int(np.argmin(shapely.distance(geoms, piece)))
        )
        geoms[nearest] = shapely.union(geoms[nearest], piece)
        outlines[nearest] = shapely.boundary(geoms[nearest])
    return [
        PlanGrid(g.code, _polygonal(shapely.make_valid(geom)), g.assignments)
        for g, geom in zip(grids, geoms, strict=True)
    ]


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(geom).tolist() if p.geom_type == "Polygon"]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def community_inputs(
    conn: psycopg.Connection,
    community_code: str,
    with_current: bool = False,
    hull_buffer_m: float = 30.0,
) -> PlannerInputs:
    """The community's buildings (``building_id`` = database id), its polygon as the
    boundary, the cut-line roads of the road table crossing it (clipped to it), and with
    ``with_current`` its current grids."""
    boundary = community_outline(conn, community_code)
    rows = conn.execute(
        "SELECT b.id, ST_AsBinary(b.geom), (SELECT count(*) FROM household h "
        "WHERE h.building_id = b.id) FROM building b WHERE b.community_code = %s ORDER BY b.id",
        (community_code,),
    ).fetchall()
    if not rows:
        raise CommunityUnknown(f"社区 {community_code} 没有楼栋 (the community has no buildings)")
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [str(r[0]) for r in rows],
            "households": np.asarray([r[2] for r in rows], dtype=np.int64),
            "assumption": "household records",
        },
        geometry=shapely.from_wkb([r[1] for r in rows]),
        crs=WGS84,
    )
    outline = gpd.GeoDataFrame(geometry=[boundary], crs=WGS84)
    roads = community_roads(conn, community_code)
    current = None
    if with_current:
        grids = conn.execute(
            "SELECT code, ST_AsBinary(geom) FROM grid WHERE community_code = %s "
            "AND valid_to IS NULL ORDER BY code",
            (community_code,),
        ).fetchall()
        if grids:
            current = gpd.GeoDataFrame(
                {"code": [g[0] for g in grids]},
                geometry=shapely.from_wkb([g[1] for g in grids]),
                crs=WGS84,
            )
    return assemble(
        buildings, roads=roads, boundary=outline, current=current, hull_buffer_m=hull_buffer_m
    )


def community_roads(conn: psycopg.Connection, community_code: str) -> gpd.GeoDataFrame:
    """The cut-line roads crossing the community (WGS84 lines, as stored), in id order."""
    rows = conn.execute(
        f"SELECT ST_AsBinary(r.geom) {CUT_ROADS_OF_COMMUNITY} ORDER BY r.id",
        (community_code, sorted(CUT_ROAD_CLASSES)),
    ).fetchall()
    return gpd.GeoDataFrame(geometry=shapely.from_wkb([r[0] for r in rows]), crs=WGS84)


@dataclass
class CommunityModel:
    """One community's buildings, units and graphs (see the module docs)."""

    community_code: str
    inputs: PlannerInputs
    tessellation: Tessellation
    graph: UnitGraph
    building_ids: list[list[int]]
    """Database ids of each engine building (identical footprints are one building)."""
    fingerprint: tuple
    outline: BaseGeometry
    """The community polygon in WGS84, as stored."""

    @property
    def unit_of_id(self) -> dict[int, int]:
        return {
            db_id: int(self.tessellation.building_unit[row])
            for row, ids in enumerate(self.building_ids)
            for db_id in ids
        }

    def building_adjacency(self) -> list[tuple[int, int]]:
        """Pairs of engine building rows whose cells touch, directly or across land
        without buildings."""
        building = self.tessellation.building
        pairs: set[tuple[int, int]] = set()
        for u in range(self.graph.size):
            around = self.graph.neighbours(u).tolist()
            if building[u] >= 0:
                for v in around:
                    if building[v] >= 0 and building[u] < building[v]:
                        pairs.add((int(building[u]), int(building[v])))
                continue
            near = sorted({int(building[v]) for v in around if building[v] >= 0})
            if len(near) <= MAX_EMPTY_LINKS:
                pairs.update((a, b) for i, a in enumerate(near) for b in near[i + 1 :])
            else:
                pairs.update(
                    tuple(sorted((a, b))) for a, b in zip(near, near[1:] + near[:1], strict=True)
                )
        return sorted(pairs)

    def unit_labels(self, grid_of_id: Mapping[int, str]) -> tuple[np.ndarray, list[str]]:
        """(label of each unit, the codes in label order) of a building assignment; units
        without a building, and buildings not assigned, join a neighbouring grid."""
        codes = sorted(set(grid_of_id.values()))
        index = {code: i for i, code in enumerate(codes)}
        labels = np.full(self.graph.size, -1, dtype=np.int64)
        for row, ids in enumerate(self.building_ids):
            grid = next((grid_of_id[i] for i in ids if i in grid_of_id), None)
            if grid is not None:
                labels[self.tessellation.building_unit[row]] = index[grid]
        if not codes:
            raise ValueError("no building is assigned to a grid")
        return _fill_unlabelled(self.graph, labels), codes

    def label_codes(self, labels: np.ndarray, codes: list[str]) -> list[str]:
        """The code of every label: ``codes``, then new codes for labels past them."""
        return codes + _extra_codes(self.community_code, codes, int(labels.max()) + 1 - len(codes))

    def grids(self, labels: np.ndarray, codes: list[str]) -> list[PlanGrid]:
        """Grid polygons (WGS84) of a unit labelling: units dissolved per grid."""
        present = np.unique(labels)
        polygons = _dissolve(self.tessellation.cells, labels, self.tessellation.enclosure)
        wgs84 = gpd.GeoSeries(polygons, crs=self.inputs.crs).to_crs(WGS84).to_numpy()
        all_codes = self.label_codes(labels, codes)
        grids = [
            PlanGrid(all_codes[label], geom)
            for label, geom in zip(present.tolist(), wgs84, strict=True)
        ]
        return fit_to_community(grids, self.outline)

    def grids_of_assignment(self, grid_of_id: Mapping[int, str]) -> list[PlanGrid]:
        labels, codes = self.unit_labels(grid_of_id)
        return self.grids(labels, codes)


def _extra_codes(community_code: str, taken: list[str], count: int) -> list[str]:
    """``count`` new grid codes of the community after the highest one taken."""
    used = [int(code[12:]) for code in taken if code.startswith(community_code)]
    start = max(used, default=0) + 1
    return [f"{community_code}{n:03d}" for n in range(start, start + max(0, count))]


def fingerprint(conn: psycopg.Connection, community_code: str) -> tuple:
    """Changes when the community's buildings, households or cut roads change (cache key)."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(b.id), 0), coalesce(max(b.created_at)::text, ''), "
        "(SELECT count(*) FROM household h JOIN building b2 ON b2.id = h.building_id "
        "WHERE b2.community_code = %s), (SELECT md5(ST_AsBinary(geom)) FROM community "
        "WHERE code = %s), (SELECT md5(coalesce(string_agg(md5(ST_AsBinary(r.geom)), ',' "
        f"ORDER BY r.id), '')) {CUT_ROADS_OF_COMMUNITY}) "
        "FROM building b WHERE b.community_code = %s",
        (community_code, community_code, community_code, sorted(CUT_ROAD_CLASSES), community_code),
    ).fetchone()
    return tuple(row)


def build_model(
    conn: psycopg.Connection, community_code: str, options: ProposeOptions, hull_buffer_m: float
) -> CommunityModel:
    key = fingerprint(conn, community_code)
    inputs = community_inputs(conn, community_code, hull_buffer_m=hull_buffer_m)
    households = inputs.buildings["households"].to_numpy().astype(np.int64)
    tess = tessellate(
        inputs.boundary,
        inputs.roads,
        inputs.buildings.geometry.to_numpy(),
        households,
        step_m=options.sample_step_m,
    )
    graph = build_graph(tess, road_factor=options.road_factor)
    ids = [[int(i) for i in str(b).split(";")] for b in inputs.buildings["building_id"]]
    outline = community_outline(conn, community_code)
    return CommunityModel(community_code, inputs, tess, graph, ids, key, outline)


class ModelCache:
    """The last few communities' models, rebuilt when their buildings change."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._models: dict[str, CommunityModel] = {}

    def get(
        self,
        conn: psycopg.Connection,
        community_code: str,
        options: ProposeOptions,
        hull_buffer_m: float,
    ) -> CommunityModel:
        model = self._models.pop(community_code, None)
        if model is None or model.fingerprint != fingerprint(conn, community_code):
            model = build_model(conn, community_code, options, hull_buffer_m)
        self._models[community_code] = model
        while len(self._models) > self.size:
            self._models.pop(next(iter(self._models)))
        return model
