"""Recombination for compactness: two neighbouring grids merged and cut again by a straight
sweep, kept when the pair gets more compact.

Single-unit moves (:func:`search.compact`) stop where every move would break a grid's band
or contiguity; on coarse units (a block of ten buildings holds about 1.5 grids) that leaves
L-shaped grids and strips. Cutting the union of a grid and a neighbour again — its units
ordered by their position along one of several directions, cut where the households split
within the band — reaches shapes no chain of single moves does. The score of a pair is
Σ P²/A (= 4π / Polsby-Popper, so the least compact grid weighs most), measured on the unit
graph: area = Σ unit areas, perimeter = Σ unit perimeters − 2 × the edges inside the grid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gis.redistrict.graph import UnitGraph, components, grid_shapes, induced
from gis.redistrict.search import Assignment, Cancelled
from gis.redistrict.targets import Targets

ANGLES = 8
"""Directions of the sweep (over 180°)."""
ROUNDS = 2
BELOW_POLSBY_POPPER = 0.5
"""Only grids less compact than this are recombined with their neighbours (the others
gain little, and on 100k buildings every pair would cost too much)."""


def _best_cut(
    sub: UnitGraph, households: np.ndarray, low: int, high: int, before: float, worst: float
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
    """(score, side of each unit (1 = first), areas, perimeters) of the most compact
    straight cut whose first side holds low..high households, both sides contiguous, with
    a score below ``before`` and neither side's P²/A above ``worst``; None if there is none.

    All candidate cuts (a few per direction) are scored at once; contiguity is checked
    best first."""
    assert sub.unit_xy is not None
    total = float(households.sum())
    sides = []
    for k in range(ANGLES):
        theta = np.pi * k / ANGLES
        position = sub.unit_xy[:, 0] * np.cos(theta) + sub.unit_xy[:, 1] * np.sin(theta)
        order = np.argsort(position, kind="stable")
        running = np.cumsum(households[order])
        feasible = np.flatnonzero(
            (running >= low) & (running <= high) & (np.arange(sub.size) + 1 < sub.size)
        )
        if not len(feasible):
            continue
        half = feasible[np.argmin(np.abs(running[feasible] - total / 2))]
        rank = np.empty(sub.size, dtype=np.int64)
        rank[order] = np.arange(sub.size)
        for cut in dict.fromkeys([int(half), int(feasible[0]), int(feasible[-1])]):
            sides.append(rank <= cut)
    if not sides:
        return None
    first = np.asarray(sides)
    second = ~first
    src = np.repeat(np.arange(sub.size), np.diff(sub.indptr))
    dst = sub.indices
    area = np.stack([second @ sub.unit_area, first @ sub.unit_area], axis=1)
    perimeter = np.stack(
        [
            second @ sub.unit_perimeter - (second[:, src] & second[:, dst]) @ sub.length_m,
            first @ sub.unit_perimeter - (first[:, src] & first[:, dst]) @ sub.length_m,
        ],
        axis=1,
    )
    ratio = perimeter**2 / np.maximum(area, 1e-9)
    score = ratio.sum(axis=1)
    for c in np.argsort(score, kind="stable").tolist():
        if score[c] >= before * (1 - 1e-6):
            break
        if ratio[c].max() > worst:
            continue  # the pair's less compact grid must not get worse
        side = first[c].astype(np.int64)
        if all(len(components(sub, np.flatnonzero(side == s))) == 1 for s in (0, 1)):
            return float(score[c]), side, area[c], perimeter[c]
    return None


def recombine(
    state: Assignment,
    targets: Targets,
    rounds: int | None = None,
    below: float = BELOW_POLSBY_POPPER,
    cancel: Callable[[], bool] | None = None,
    grids: set[int] | None = None,
) -> int:
    """Recut pairs of neighbouring grids in band (worst Polsby-Popper first) where a
    straight cut makes the pair more compact; both stay in band and contiguous. With
    ``grids``, only those are recombined with their neighbours. Returns the pairs recut."""
    graph = state.graph
    count = len(state.totals)
    area, perimeter = grid_shapes(graph, state.labels, count)
    made = 0
    for _ in range(ROUNDS if rounds is None else rounds):
        polsby_popper = 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2
        worst = [
            int(g)
            for g in np.argsort(polsby_popper, kind="stable")
            if polsby_popper[g] < below
            and g not in state.locked
            and state.members[g]
            and (grids is None or g in grids)
        ]
        touched: set[int] = set()
        for grid in worst:
            if grid in touched or not targets.in_band(state.totals[grid]):
                continue
            if cancel is not None and cancel():
                raise Cancelled
            around = {int(state.labels[v]) for u in state.members[grid] for v in state.adjacency[u]}
            around -= {grid} | state.locked | touched
            best: tuple[float, int, np.ndarray, tuple] | None = None
            for other in sorted(around):
                total = int(state.totals[grid] + state.totals[other])
                if not targets.in_band(state.totals[other]):
                    continue
                low = max(targets.minimum, total - targets.maximum)
                high = min(targets.maximum, total - targets.minimum)
                before = perimeter[grid] ** 2 / area[grid] + perimeter[other] ** 2 / area[other]
                members = np.asarray(sorted(state.members[grid] | state.members[other]))
                sub = induced(graph, members)
                worst = max(perimeter[grid] ** 2 / area[grid], perimeter[other] ** 2 / area[other])
                found = _best_cut(sub, state.weights[members], low, high, before, worst)
                if found is None:
                    continue
                if best is None or before - found[0] > best[0]:
                    best = (before - found[0], other, members, found[1:])
            if best is None:
                continue
            _, other, members, (side, sides_area, sides_perimeter) = best
            # The first side keeps the grid it shares most households with.
            was_grid = state.labels[members] == grid
            weights = state.weights[members]
            keep = 2 * (weights * (was_grid == (side == 1))).sum() >= weights.sum()
            first, second = (grid, other) if keep else (other, grid)
            for unit, s in zip(members.tolist(), side.tolist(), strict=True):
                target = first if s == 1 else second
                if state.labels[unit] != target:
                    state.move(unit, target)
            area[first], perimeter[first] = sides_area[1], sides_perimeter[1]
            area[second], perimeter[second] = sides_area[0], sides_perimeter[0]
            touched |= {grid, other}
            made += 1
        if not touched:
            break
    return made
