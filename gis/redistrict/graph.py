"""The unit adjacency graph: units sharing a boundary, weighted by its length.

An edge between units of different blocks crosses a road: its weight is scaled down by
``road_factor`` so that partitions prefer to cut there (a cut costs its weight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gis.redistrict.tessellation import GRID_SIZE_M, Tessellation

MIN_SHARED_M = 0.05
"""Units touching along less than this (or at a corner) are not neighbours."""


@dataclass
class UnitGraph:
    """Undirected graph in CSR form (each edge stored both ways)."""

    indptr: np.ndarray
    indices: np.ndarray
    length_m: np.ndarray
    """Shared boundary length of each stored edge."""
    weight: np.ndarray
    """Cut cost of each stored edge: length, times road_factor across a road."""
    crosses_road: np.ndarray
    unit_area: np.ndarray
    """Area (m²) of each unit's cell."""
    unit_perimeter: np.ndarray
    """Perimeter (m) of each unit's cell."""
    unit_xy: np.ndarray | None = None
    """Centroid (x, y) of each unit's cell, shape (size, 2); None when not known."""

    @property
    def size(self) -> int:
        return len(self.indptr) - 1

    def neighbours(self, unit: int) -> np.ndarray:
        return self.indices[self.indptr[unit] : self.indptr[unit + 1]]

    def adjacency_lists(self) -> list[list[int]]:
        return [self.neighbours(u).tolist() for u in range(self.size)]


def from_pairs(
    cells: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    length_m: np.ndarray,
    crosses: np.ndarray,
    road_factor: float,
) -> UnitGraph:
    """The CSR graph of undirected edges (a[i], b[i])."""
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    lengths = np.concatenate([length_m, length_m])
    cross = np.concatenate([crosses, crosses])
    order = np.lexsort((dst, src))
    src, dst, lengths, cross = src[order], dst[order], lengths[order], cross[order]
    n = len(cells)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    weight = np.where(cross, lengths * road_factor, lengths)
    return UnitGraph(
        indptr, dst.astype(np.int64), lengths, weight, cross, shapely.area(cells),
        shapely.length(cells), shapely.get_coordinates(shapely.centroid(cells)),
    )  # fmt: skip


def build_graph(tessellation: Tessellation, road_factor: float = 0.2) -> UnitGraph:
    """Neighbouring units and the length of boundary they share."""
    cells = tessellation.cells
    tree = shapely.STRtree(cells)
    a, b = tree.query(cells, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    outlines = shapely.boundary(cells)
    length = shapely.length(shapely.intersection(outlines[a], outlines[b]))
    # Floating-point overlay misses edges, or parts of them, that are collinear but not
    # vertex-identical (cells of two blocks along a road): measure those pairs again on a
    # snapping grid. Cells of one block come from one diagram and share their vertices,
    # cells of blocks that meet only at a corner share no edge, and a pair whose overlay
    # found all the stretch their vertices span is complete: none of those needs it (the
    # snapping overlay is the graph's most costly step).
    block_a, block_b = tessellation.enclosure[a], tessellation.enclosure[b]
    across = np.flatnonzero(_blocks_share_an_edge(tessellation.blocks, block_a, block_b))
    # What the two cells can share lies in the overlap of their bounding boxes (cells
    # along a straight road parallel to an axis, or touching at a corner, stop here).
    box = shapely.bounds(cells)
    overlap = np.minimum(box[a[across], 2:], box[b[across], 2:]) - np.maximum(
        box[a[across], :2], box[b[across], :2]
    )
    reach = np.hypot(*np.maximum(overlap, 0.0).T)
    across = across[(reach >= MIN_SHARED_M) & (length[across] < reach - 2 * GRID_SIZE_M)]
    span = _near_span(outlines[a[across]], outlines[b[across]])
    doubtful = across[(span >= MIN_SHARED_M) & (length[across] < span - 2 * GRID_SIZE_M)]
    length[doubtful] = np.maximum(
        length[doubtful],
        shapely.length(
            shapely.intersection(
                outlines[a[doubtful]], outlines[b[doubtful]], grid_size=GRID_SIZE_M
            )
        ),
    )
    keep = length >= MIN_SHARED_M
    a, b, length = a[keep], b[keep], length[keep]
    crosses = tessellation.enclosure[a] != tessellation.enclosure[b]
    return from_pairs(cells, a, b, length, crosses, road_factor)


def _near_span(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Extent of the vertices of ``first[i]`` and ``second[i]`` lying within GRID_SIZE_M of
    the other outline: at most the stretch they share (a shared stretch ends at vertices of
    one or the other; outlines touching at a point span ~0)."""
    points, pair, spans = [], [], []
    for mine, other in ((first, second), (second, first)):
        coords, index = shapely.get_coordinates(mine, return_index=True)
        near = shapely.dwithin(shapely.points(coords), other[index], GRID_SIZE_M)
        points.append(coords[near])
        pair.append(index[near])
    coords, index = np.concatenate(points), np.concatenate(pair)
    for axis in range(2):
        low = np.full(len(first), np.inf)
        high = np.full(len(first), -np.inf)
        np.minimum.at(low, index, coords[:, axis])
        np.maximum.at(high, index, coords[:, axis])
        spans.append(np.where(high >= low, high - low, 0.0))
    return np.hypot(*spans)


def _blocks_share_an_edge(
    blocks: np.ndarray, block_a: np.ndarray, block_b: np.ndarray
) -> np.ndarray:
    """Whether blocks ``block_a[i]`` and ``block_b[i]`` are two blocks sharing a stretch of
    outline (a road between them), not one block or two meeting at a corner. Blocks are
    faces of one noded linework, so their shared edges are vertex-identical."""
    pairs = np.unique(
        np.stack([np.minimum(block_a, block_b), np.maximum(block_a, block_b)]), axis=1
    )
    pairs = pairs[:, pairs[0] != pairs[1]]
    outlines = shapely.boundary(blocks)
    shared = shapely.length(shapely.intersection(outlines[pairs[0]], outlines[pairs[1]]))
    sharing = pairs[:, shared >= MIN_SHARED_M]
    keys = sharing[0] * len(blocks) + sharing[1]
    return np.isin(np.minimum(block_a, block_b) * len(blocks) + np.maximum(block_a, block_b), keys)


def components(graph: UnitGraph, members: np.ndarray | None = None) -> list[np.ndarray]:
    """Connected components (of the subgraph on ``members``, default all units)."""
    if members is None:
        members = np.arange(graph.size)
    inside = np.zeros(graph.size, dtype=bool)
    inside[members] = True
    seen = np.zeros(graph.size, dtype=bool)
    found: list[np.ndarray] = []
    for start in members.tolist():
        if seen[start]:
            continue
        seen[start] = True
        stack = [start]
        part = []
        while stack:
            u = stack.pop()
            part.append(u)
            for v in graph.indices[graph.indptr[u] : graph.indptr[u + 1]].tolist():
                if inside[v] and not seen[v]:
                    seen[v] = True
                    stack.append(v)
        found.append(np.asarray(part, dtype=np.int64))
    return found


def induced(graph: UnitGraph, members: np.ndarray) -> UnitGraph:
    """The subgraph on ``members`` (sorted unit ids), renumbered 0..len-1 in that order."""
    local = np.full(graph.size, -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    keep = (local[src] >= 0) & (local[graph.indices] >= 0)
    indptr = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum(np.bincount(local[src[keep]], minlength=len(members)), out=indptr[1:])
    return UnitGraph(
        indptr,
        local[graph.indices[keep]],
        graph.length_m[keep],
        graph.weight[keep],
        graph.crosses_road[keep],
        graph.unit_area[members],
        graph.unit_perimeter[members],
        None if graph.unit_xy is None else graph.unit_xy[members],
    )


def connected_without(adjacency: list[list[int]], labels: np.ndarray, unit: int, size: int) -> bool:
    """Whether the units with ``unit``'s label (``size`` of them, ``unit`` among them) stay
    one connected piece without it; never when it is the only one.

    ``adjacency`` is ``UnitGraph.adjacency_lists()``; the callers are the hot loops of the
    bisection and the local search, so it walks only as far as it must."""
    if size <= 1:
        return False
    label = labels[unit]
    inside = [v for v in adjacency[unit] if labels[v] == label]
    if len(inside) <= 1:
        return True
    seen = {unit, inside[0]}
    stack = [inside[0]]
    while stack:
        u = stack.pop()
        for v in adjacency[u]:
            if v not in seen and labels[v] == label:
                seen.add(v)
                stack.append(v)
    return len(seen) == size


def pieces_per_grid(graph: UnitGraph, labels: np.ndarray) -> np.ndarray:
    """Connected pieces of each grid's units on the graph (1 everywhere: contiguous), in one
    pass over all units."""
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    same = labels[src] == labels[graph.indices]
    inner = UnitGraph(
        np.concatenate([[0], np.cumsum(np.bincount(src[same], minlength=graph.size))]),
        graph.indices[same], graph.length_m[same], graph.weight[same],
        graph.crosses_road[same], graph.unit_area, graph.unit_perimeter,
    )  # fmt: skip
    pieces = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    for piece in components(inner):
        pieces[labels[piece[0]]] += 1
    return pieces


def grid_shapes(graph: UnitGraph, labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(area, perimeter) of each grid from its units (perimeter includes holes and the
    community outline, as the Polsby-Popper of the dissolved polygon does)."""
    area = np.bincount(labels, weights=graph.unit_area, minlength=count)
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    same = labels[src] == labels[graph.indices]
    inner = np.bincount(labels[src[same]], weights=graph.length_m[same], minlength=count)
    perimeter = np.bincount(labels, weights=graph.unit_perimeter, minlength=count) - inner
    return area, perimeter
