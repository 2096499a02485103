"""Tessellation units: the community cut into blocks by roads, each block into building cells.

Roads and the boundary are polygonized into enclosures (blocks). A block with one building
is that building's cell; a block with several is split between them by a Voronoi diagram of
points sampled along their outlines (the enclosed tessellation momepy popularised), so a
cell follows its building's shape and never cuts into a neighbour's footprint. A block
without buildings is a unit of its own with no households. Units tile the community.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

GRID_SIZE_M = 0.01
"""Precision (metres) of the tessellation's overlay operations: shared edges snap together."""


@dataclass
class Tessellation:
    """Units tiling the community (metric CRS)."""

    cells: np.ndarray
    """Polygon of each unit."""
    building: np.ndarray
    """The building index of each unit, -1 for a block without buildings."""
    enclosure: np.ndarray
    """The block (enclosure) index of each unit."""
    households: np.ndarray
    building_unit: np.ndarray
    """The unit of each building."""
    blocks: np.ndarray
    """Polygon of each block (enclosure), indexed by ``enclosure``."""


def enclosures(boundary: BaseGeometry, roads: np.ndarray) -> np.ndarray:
    """Blocks: the boundary polygonized with the road lines inside it."""
    outline = shapely.boundary(boundary)
    noded = shapely.union_all(np.concatenate([[outline], roads]), grid_size=GRID_SIZE_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    inside = shapely.contains(boundary, shapely.point_on_surface(faces))
    return faces[inside]


def _block_of_buildings(faces: np.ndarray, footprints: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(faces)
    points = shapely.point_on_surface(footprints)
    block = np.full(len(footprints), -1, dtype=np.int64)
    hits = tree.query(points, predicate="within")
    block[hits[0]] = hits[1]
    missing = np.flatnonzero(block < 0)
    if missing.size:
        nearest = tree.query_nearest(points[missing], all_matches=False)
        block[missing[nearest[0]]] = nearest[1]
    return block


def _outline_points(footprints: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step_m`` along the outlines, with the index of their building."""
    inner = shapely.get_coordinates(shapely.point_on_surface(footprints))
    rings = shapely.segmentize(shapely.boundary(footprints), step_m)
    outline, outline_owner = shapely.get_coordinates(rings, return_index=True)
    # Inner points first: deduplication keeps each building's own point (shared walls
    # give two buildings the same outline points).
    coords = np.concatenate([inner, outline])
    owner = np.concatenate([np.arange(len(footprints)), outline_owner])
    key = np.round(coords / 0.05).astype(np.int64)
    _, first = np.unique(key, axis=0, return_index=True)
    first.sort()
    return coords[first], owner[first]


def _split_block(face: BaseGeometry, coords: np.ndarray, owner: np.ndarray) -> list:
    """The unclipped Voronoi region of each distinct owner in ``owner`` (sorted): the
    union of its points' cells, which form an exact coverage (one diagram)."""
    diagram = shapely.voronoi_polygons(MultiPoint(coords), extend_to=face, ordered=True)
    pieces = shapely.get_parts(diagram)
    order = np.argsort(owner, kind="stable")
    _, starts = np.unique(owner[order], return_index=True)
    return [shapely.coverage_union_all(group) for group in np.split(pieces[order], starts[1:])]


EMPTY_PIECE_M = 100.0
"""Blocks without buildings larger than this square (parks, water) are cut into pieces of
about this size, so that neighbouring grids can share them instead of one grid taking a
whole park and losing its compactness."""


def _split_empty(faces: np.ndarray, empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(block of each piece, piece polygons) of the empty blocks."""
    blocks, pieces = [empty], [faces[empty]]
    large = empty[shapely.area(faces[empty]) > 2 * EMPTY_PIECE_M**2]
    if len(large):
        blocks, pieces = [np.setdiff1d(empty, large)], [faces[np.setdiff1d(empty, large)]]
        for b in large.tolist():
            x0, y0, x1, y1 = shapely.bounds(faces[b])
            xs = np.arange(x0, x1, EMPTY_PIECE_M)
            ys = np.arange(y0, y1, EMPTY_PIECE_M)
            gx, gy = np.meshgrid(xs, ys)
            boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + EMPTY_PIECE_M,
                                gy.ravel() + EMPTY_PIECE_M)  # fmt: skip
            parts = shapely.get_parts(shapely.intersection(boxes, faces[b], grid_size=GRID_SIZE_M))
            parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)]
            blocks.append(np.full(len(parts), b))
            pieces.append(parts)
    return np.concatenate(blocks), np.concatenate(pieces)


def tessellate(
    boundary: BaseGeometry,
    roads: np.ndarray,
    footprints: np.ndarray,
    households: np.ndarray,
    step_m: float = 8.0,
    progress: Callable[[str, float], None] | None = None,
) -> Tessellation:
    """Units of the community: one cell per building, one unit per empty block."""
    faces = enclosures(boundary, roads)
    block = _block_of_buildings(faces, footprints)
    coords, owner = _outline_points(footprints, step_m)
    point_block = block[owner]
    cell_of_building = np.empty(len(footprints), dtype=object)
    split = np.zeros(len(footprints), dtype=bool)

    order = np.argsort(point_block, kind="stable")
    blocks_with_points, starts = np.unique(point_block[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    buildings_per_block = np.bincount(block, minlength=len(faces))
    for done, (b, start, end) in enumerate(zip(blocks_with_points, starts, ends, strict=True)):
        members = order[start:end]
        if buildings_per_block[b] == 1 or len(members) < 3:
            cell_of_building[np.unique(owner[members])] = faces[b]
            continue
        owners = owner[members]
        cells = _split_block(faces[b], coords[members], owners)
        cell_of_building[np.unique(owners)] = cells
        split[np.unique(owners)] = True
        if progress is not None and done % 200 == 0:
            progress("tessellation", done / len(blocks_with_points))
    # Regions are clipped to their block in one vectorised call.
    cell_of_building[split] = shapely.intersection(cell_of_building[split], faces[block[split]])
    if any(cell is None for cell in cell_of_building):
        raise ValueError("buildings with identical footprints: merge them first")
    empty_blocks, empty_cells = _split_empty(faces, np.flatnonzero(buildings_per_block == 0))
    cells = np.concatenate([cell_of_building, empty_cells])
    n = len(footprints)
    building = np.concatenate([np.arange(n), np.full(len(empty_blocks), -1)])
    enclosure = np.concatenate([block, empty_blocks])
    # Where a block's outline cuts a Voronoi region in two, a cell has several parts: the
    # largest stays the building's unit, each other part becomes a unit without households,
    # so that every unit is one polygon and a contiguous set of units is one polygon.
    parts, owner = shapely.get_parts(shapely.make_valid(cells), return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    parts, owner = parts[polygonal], owner[polygonal]
    # The main part of a building's cell is the one holding the building's inner point (a
    # Voronoi generator, so some part holds it); of an empty block, the largest.
    holds = np.zeros(len(parts), dtype=bool)
    of_building = owner < n
    inner = shapely.point_on_surface(footprints)
    holds[of_building] = shapely.intersects(parts[of_building], inner[owner[of_building]])
    area = shapely.area(parts)
    order = np.lexsort((-area, ~holds, owner))
    parts, owner = parts[order], owner[order]
    main = np.r_[True, owner[1:] != owner[:-1]]
    stray = ~main
    unit_building = np.concatenate([building, np.full(int(stray.sum()), -1)])
    unit_households = np.concatenate(
        [households, np.zeros(len(empty_blocks) + int(stray.sum()), dtype=np.int64)]
    )
    return Tessellation(
        cells=np.concatenate([parts[main], parts[stray]]),
        building=unit_building,
        enclosure=np.concatenate([enclosure, enclosure[owner[stray]]]),
        households=unit_households,
        building_unit=np.arange(n),
        blocks=faces,
    )
