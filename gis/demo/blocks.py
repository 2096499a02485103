"""The district cut into blocks, blocks zoned into the real streets, communities picked.

Blocks are the Voronoi cells of a jittered square lattice clipped to the district, so they
tile it; each block belongs to one street (so streets tile the district too). Communities
are the blocks nearest the urban centre, enough of them for the requested households:
the city grows outward as the size parameter grows, and never leaves the district.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from gis.demo.geography import RURAL_ANCHORS, Projection, StreetRef
from gis.demo.names import community_names
from gis.demo.partition import bisect_partition
from gis.demo.shapes import as_multipolygon, as_multipolygons
from gis.gridcodes import reading_order

BLOCK_SPACING_M = 740.0
BLOCK_JITTER = 0.2
"""Seeds move up to 20% of the spacing: community areas vary around 0.55 km²."""
URBAN_BLOCKS = 120
"""Blocks nearest the centre shared by the urban 街道; the rest go to the towns and the plant."""
MIN_COMMUNITY_AREA_M2 = 300_000.0
MAX_COMMUNITY_AREA_M2 = 900_000.0
MIN_COMMUNITY_COMPACTNESS = 0.85
"""Area over convex-hull area: slivers cut by the district boundary hold no community."""

HOUSEHOLDS_PER_COMMUNITY = 4_800
HOUSEHOLDS_PER_COMMUNITY_SD = 900
HOUSEHOLDS_PER_COMMUNITY_RANGE = (3_000, 6_600)
"""Calibration: real communities of 3,931, 4,408 and 5,981 households."""
MAX_HOUSEHOLDS_PER_M2 = 0.010
"""10,000 households per km² of community: dense, but buildable with towers."""


@dataclass(frozen=True)
class Blocks:
    """The district's blocks (metric) and the street each belongs to."""

    polygons: np.ndarray
    street: np.ndarray
    distance_m: np.ndarray
    """From the urban centre: the order in which the city grows."""


@dataclass(frozen=True)
class CommunityPlan:
    code: str
    street_code: str
    name: str
    kind: str
    polygon: Polygon | MultiPolygon
    """Metric CRS."""
    households: int
    index: int
    """Position in the dataset, also the community's random stream."""


def make_blocks(
    district: Polygon,
    centre: Point,
    streets: list[StreetRef],
    projection: Projection,
    rng: np.random.Generator,
) -> Blocks:
    """Cut the (metric) district into blocks and zone them into ``streets``."""
    polygons = _lattice_cells(district, centre, rng)
    centroids = shapely.get_coordinates(shapely.centroid(polygons))
    distance = np.hypot(centroids[:, 0] - centre.x, centroids[:, 1] - centre.y)
    street = _zone_streets(polygons, centroids, distance, streets, projection)
    return Blocks(polygons, street, distance)


def _lattice_cells(district: Polygon, centre: Point, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = district.bounds
    s = BLOCK_SPACING_M
    xs = centre.x + s * np.arange(
        math.floor((minx - centre.x) / s), math.ceil((maxx - centre.x) / s) + 1
    )
    ys = centre.y + s * np.arange(
        math.floor((miny - centre.y) / s), math.ceil((maxy - centre.y) / s) + 1
    )
    seeds = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    seeds += rng.uniform(-BLOCK_JITTER, BLOCK_JITTER, seeds.shape) * s
    seeds = seeds[shapely.contains_xy(district, seeds[:, 0], seeds[:, 1])]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=district, ordered=True)
    )
    clipped = as_multipolygons(shapely.intersection(cells, district))
    return clipped[shapely.area(clipped) > 0]


def _zone_streets(
    polygons: np.ndarray,
    centroids: np.ndarray,
    distance: np.ndarray,
    streets: list[StreetRef],
    projection: Projection,
) -> np.ndarray:
    """Street index of each block: urban 街道 around the centre, then towns and the plant."""
    urban_streets = [i for i, s in enumerate(streets) if s.code not in RURAL_ANCHORS]
    rural_streets = [i for i, s in enumerate(streets) if s.code in RURAL_ANCHORS]
    street = np.empty(len(polygons), dtype=np.int64)

    urban = np.argsort(distance, kind="stable")[:URBAN_BLOCKS]
    groups = bisect_partition(
        centroids[urban], shapely.area(polygons[urban]), len(urban_streets)
    ).labels
    group_shapes = [
        shapely.union_all(polygons[urban][groups == g]) for g in range(len(urban_streets))
    ]
    for street_index, group in zip(urban_streets, reading_order(group_shapes), strict=True):
        street[urban[groups == group]] = street_index

    rural = np.setdiff1d(np.arange(len(polygons)), urban)
    anchor_cost = []
    for i in rural_streets:
        (lon, lat), weight = RURAL_ANCHORS[streets[i].code]
        anchor = projection.point_to_metric(lon, lat)
        anchor_cost.append(weight * np.hypot(*(centroids[rural] - (anchor.x, anchor.y)).T))
    street[rural] = np.array(rural_streets)[np.argmin(anchor_cost, axis=0)]
    return street


def street_polygons(blocks: Blocks, n_streets: int) -> list[MultiPolygon]:
    """Each street as the union of its blocks (metric)."""
    return [
        as_multipolygon(shapely.coverage_union_all(blocks.polygons[blocks.street == i]))
        for i in range(n_streets)
    ]


def plan_communities(
    blocks: Blocks, streets: list[StreetRef], households: int, rng: np.random.Generator
) -> list[CommunityPlan]:
    """Communities for ``households`` in total, nearest the centre first, numbered per street."""
    areas = shapely.area(blocks.polygons)
    compact = areas / shapely.area(shapely.convex_hull(blocks.polygons))
    eligible = np.flatnonzero(
        (areas >= MIN_COMMUNITY_AREA_M2)
        & (areas <= MAX_COMMUNITY_AREA_M2)
        & (compact >= MIN_COMMUNITY_COMPACTNESS)
    )
    eligible = eligible[np.argsort(blocks.distance_m[eligible], kind="stable")]
    capacity = np.cumsum(areas[eligible] * MAX_HOUSEHOLDS_PER_M2)
    if len(eligible) == 0 or capacity[-1] < households:
        raise ValueError(f"{households} households do not fit the district's communities")
    count = min(
        len(eligible),
        max(
            round(households / HOUSEHOLDS_PER_COMMUNITY),
            int(np.searchsorted(capacity, households)) + 1,  # enough room at the density cap
        ),
    )
    chosen = eligible[:count]
    targets = _household_targets(households, areas[chosen], rng)

    kinds = ["村" if streets[blocks.street[b]].is_town else "社区" for b in chosen]
    names = community_names(rng, kinds)
    next_seq: dict[int, int] = {}
    plans = []
    for index, block in enumerate(chosen):
        street = streets[blocks.street[block]]
        seq = next_seq[blocks.street[block]] = next_seq.get(blocks.street[block], 0) + 1
        plans.append(
            CommunityPlan(
                code=f"{street.code[:9]}{seq:03d}",
                street_code=street.code,
                name=names[index],
                kind=kinds[index],
                polygon=blocks.polygons[block],
                households=int(targets[index]),
                index=index,
            )
        )
    return plans


def _household_targets(total: int, areas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Households per community: drawn around the calibration, larger blocks get larger
    communities, no block denser than MAX_HOUSEHOLDS_PER_M2, summing exactly to ``total``."""
    low, high = HOUSEHOLDS_PER_COMMUNITY_RANGE
    drawn = np.clip(
        rng.normal(HOUSEHOLDS_PER_COMMUNITY, HOUSEHOLDS_PER_COMMUNITY_SD, len(areas)), low, high
    )
    want = np.empty(len(areas))
    want[np.argsort(-areas, kind="stable")] = np.sort(drawn)[::-1]
    want *= total / want.sum()

    capacity = areas * MAX_HOUSEHOLDS_PER_M2
    while (over := want > capacity + 1e-6).any():
        excess = (want - capacity)[over].sum()
        want[over] = capacity[over]
        room = capacity - want
        want += excess * room / room.sum()

    counts = np.floor(want).astype(np.int64)
    remainder = total - counts.sum()
    counts[np.argsort(counts - want, kind="stable")[:remainder]] += 1
    return counts
