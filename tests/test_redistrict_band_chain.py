"""Band repair by chains of building moves: a grid of two large buildings that no
neighbour can take whole gets fixed by a new grid taking households next door."""

from __future__ import annotations

import numpy as np
import shapely

from gis.redistrict.chain import repair_band
from gis.redistrict.graph import components, from_pairs
from gis.redistrict.search import Assignment
from gis.redistrict.targets import Targets

TARGETS = Targets(minimum=300, maximum=500, ideal=450)


def _state(households: list[int], edges: list[tuple[int, int]], labels: list[int]) -> Assignment:
    cells = np.asarray([shapely.box(i, 0, i + 1, 1) for i in range(len(households))])
    a, b = (np.asarray(side) for side in zip(*edges, strict=True))
    graph = from_pairs(cells, a, b, np.ones(len(a)), np.zeros(len(a), dtype=bool), 1.0)
    return Assignment(graph, np.asarray(households), np.asarray(labels), locked=set())


def _contiguous(state: Assignment) -> bool:
    return all(
        len(components(state.graph, np.asarray(sorted(members)))) == 1
        for members in state.members
        if members
    )


def test_a_grid_of_two_large_buildings_splits_and_the_new_grid_takes_from_a_neighbour():
    # 0: 351 and 1: 276 make 627; the neighbour holds 400 + 50. No neighbour can take
    # the 276 whole (balance cannot fix it); the 276 as a grid of its own taking the 50 can.
    state = _state([351, 276, 50, 400], [(0, 1), (1, 2), (2, 3), (0, 3)], [0, 0, 1, 1])
    assert repair_band(state, TARGETS) == 1
    assert sorted(state.totals.tolist()) == [326, 351, 400]
    assert _contiguous(state)


def test_a_building_enclosed_by_another_stays_with_it_when_nothing_fits():
    # 1: 156 touches only 0: 396 (a courtyard): any grid holding it holds 552.
    labels = [0, 0, 1, 1]
    state = _state([396, 156, 420, 60], [(0, 1), (0, 2), (2, 3), (0, 3)], labels)
    assert repair_band(state, TARGETS) == 0
    assert state.labels.tolist() == labels and state.totals.tolist() == [552, 480]
