"""The unit graph measures the boundary units share, across roads too, and grid polygons
are dissolved from units whatever their noding."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity

from gis.redistrict.graph import build_graph
from gis.redistrict.propose import _dissolve
from gis.redistrict.tessellation import GRID_SIZE_M, tessellate


def _diagonal_road_community():
    """Buildings on both sides of a diagonal road: the cells of its two blocks meet along it
    with vertices of their own, collinear only up to floating noise."""
    rng = np.random.default_rng(3)
    road = shapely.LineString([(-10, 3), (310, 297.7)])
    centres = [
        shapely.Point(x + 5 * rng.random(), y + 5 * rng.random())
        for x in range(20, 280, 40)
        for y in range(20, 280, 40)
    ]
    footprints = np.array([shapely.box(c.x - 6, c.y - 6, c.x + 6, c.y + 6)
                           for c in centres if c.distance(road) > 15])  # fmt: skip
    households = np.full(len(footprints), 50)
    return tessellate(shapely.box(0, 0, 300, 300), np.array([road]), footprints, households)


def test_cells_across_a_diagonal_road_share_their_whole_edge():
    tess = _diagonal_road_community()
    graph = build_graph(tess)
    outlines = shapely.boundary(tess.cells)
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    across = graph.crosses_road & (src < graph.indices)
    assert across.sum() >= 5
    a, b = src[across], graph.indices[across]
    exact = shapely.length(shapely.intersection(outlines[a], outlines[b]))
    snapped = shapely.length(shapely.intersection(outlines[a], outlines[b], grid_size=GRID_SIZE_M))
    assert exact.sum() < 0.9 * snapped.sum()  # the floating overlay alone misses stretches
    np.testing.assert_allclose(graph.length_m[across], snapped, atol=0.02)


def test_units_that_do_not_share_their_vertices_still_dissolve_into_one_polygon():
    # Units of one block whose shared edge has a vertex on one side only (not noded): the
    # coverage union refuses the first pair and returns two polygons for the second.
    right = shapely.Polygon([(10, 0), (20, 0), (20, 10), (10, 10), (10, 5)])
    units = [
        shapely.box(0, 0, 10, 10),
        right,
        shapely.Polygon([(0, 20), (10, 20), (10, 30), (0, 30)]),
        shapely.affinity.translate(right, 0, 20),
    ]
    grids = _dissolve(np.array(units, dtype=object), np.array([0, 0, 1, 1]), np.zeros(4, int))
    assert shapely.get_type_id(grids).tolist() == [3, 3]
    assert shapely.area(grids).tolist() == [200.0, 200.0]
