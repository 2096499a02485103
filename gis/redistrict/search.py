"""Local search on a unit assignment: move boundary units between neighbouring grids.

Moves keep every grid contiguous (a unit whose removal would disconnect its grid — an
articulation point — never moves) and never empty a grid. ``balance`` brings grids into
the household band; ``refine`` then shortens the cut (the weighted shared boundary between
grids, cheap along roads), which makes grids compact and road-following.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gis.redistrict.graph import UnitGraph, connected_without, grid_shapes
from gis.redistrict.targets import Targets


class Cancelled(Exception):
    """The caller's cancel check asked to stop."""


class Assignment:
    """Units' grids with per-grid households and members, updated move by move."""

    def __init__(
        self, graph: UnitGraph, households: np.ndarray, labels: np.ndarray, locked: set[int]
    ) -> None:
        self.graph = graph
        self.weights = households.astype(np.int64)
        self.labels = labels.astype(np.int64).copy()
        self.locked = locked
        count = int(self.labels.max()) + 1
        self.totals = np.bincount(self.labels, weights=self.weights, minlength=count).astype(
            np.int64
        )
        self.members: list[set[int]] = [set() for _ in range(count)]
        for unit, grid in enumerate(self.labels.tolist()):
            self.members[grid].add(unit)
        self.adjacency = graph.adjacency_lists()
        self.edge_weights = [
            graph.weight[graph.indptr[u] : graph.indptr[u + 1]].tolist() for u in range(graph.size)
        ]

    def links(self, unit: int) -> dict[int, float]:
        """Weight of the edges from ``unit`` into each grid."""
        out: dict[int, float] = {}
        for v, w in zip(self.adjacency[unit], self.edge_weights[unit], strict=True):
            grid = int(self.labels[v])
            out[grid] = out.get(grid, 0.0) + w
        return out

    def can_leave(self, unit: int) -> bool:
        """Whether ``unit`` can leave its grid without emptying or disconnecting it."""
        members = self.members[int(self.labels[unit])]
        return connected_without(self.adjacency, self.labels, unit, len(members))

    def move(self, unit: int, grid: int) -> None:
        old = int(self.labels[unit])
        self.members[old].discard(unit)
        self.members[grid].add(unit)
        self.totals[old] -= self.weights[unit]
        self.totals[grid] += self.weights[unit]
        self.labels[unit] = grid

    def add_grid(self) -> int:
        """A new empty grid's id (fill it with ``move``)."""
        self.totals = np.append(self.totals, 0)
        self.members.append(set())
        return len(self.members) - 1

    def drop_last_grid(self) -> None:
        """Remove the last grid, which must be empty (undo of ``add_grid``)."""
        assert not self.members[-1]
        self.members.pop()
        self.totals = self.totals[:-1]

    def boundary_units(self, grid: int) -> list[int]:
        return sorted(
            u for u in self.members[grid] if any(self.labels[v] != grid for v in self.adjacency[u])
        )


def violation(total: int, targets: Targets) -> int:
    return max(0, targets.minimum - total) + max(0, total - targets.maximum)


def _best_move(
    state: Assignment, grid: int, targets: Targets, rng: np.random.Generator, tabu: set[int]
) -> tuple[int, int] | None:
    """The move that most reduces the band violation of ``grid`` and its neighbours."""
    over = state.totals[grid] > targets.maximum
    candidates: list[tuple[int, float, float, int, int]] = []
    if over:
        units = state.boundary_units(grid)
        pairs = [(u, h) for u in units for h in state.links(u) if h != grid]
    else:
        pairs = []
        for u in state.boundary_units(grid):
            for v in state.adjacency[u]:
                h = int(state.labels[v])
                if h != grid:
                    pairs.append((v, grid))
    for unit, target in set(pairs):
        source = int(state.labels[unit])
        if source in state.locked or target in state.locked or unit in tabu:
            continue
        w = int(state.weights[unit])
        if w == 0:
            continue
        before = violation(state.totals[source], targets) + violation(state.totals[target], targets)
        after = violation(state.totals[source] - w, targets) + violation(
            state.totals[target] + w, targets
        )
        reduction = before - after
        if reduction < 0:
            continue
        links = state.links(unit)
        gain = links.get(target, 0.0) - links.get(source, 0.0)
        candidates.append((reduction, gain, rng.random(), unit, target))
    candidates.sort(reverse=True)
    for reduction, _, _, unit, target in candidates:
        if reduction == 0 and not over and state.totals[target] >= targets.minimum:
            continue
        if state.can_leave(unit):
            return unit, target
    return None


def balance(
    state: Assignment,
    targets: Targets,
    rng: np.random.Generator,
    max_moves: int,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Move units until every unlocked grid is in the band (or no move helps).

    A move must not raise the total violation; a move that only shifts it (zero
    reduction) pushes surplus or deficit along to grids with room, so the moved unit is
    then tabu. Returns the number of grids still out of band.
    """
    tabu: set[int] = set()
    for step in range(max_moves):
        if cancel is not None and step % 256 == 0 and cancel():
            raise Cancelled
        bad = [
            g
            for g in range(len(state.totals))
            if g not in state.locked and violation(state.totals[g], targets) > 0
        ]
        if not bad:
            return 0
        bad.sort(key=lambda g: (-violation(state.totals[g], targets), g))
        moved = False
        for grid in bad:
            found = _best_move(state, grid, targets, rng, tabu)
            if found is not None:
                state.move(*found)
                tabu.add(found[0])
                moved = True
                break
        if not moved:
            break
    return sum(
        1
        for g in range(len(state.totals))
        if g not in state.locked and violation(state.totals[g], targets) > 0
    )


def refine(
    state: Assignment,
    targets: Targets,
    rng: np.random.Generator,
    rounds: int,
    allowed: Callable[[int, int], bool] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Shorten the cut with moves that keep every grid's band status; returns moves made.

    ``allowed(unit, grid)`` can forbid moves (e.g. to stay close to current grids).
    """
    made = 0
    for _ in range(rounds):
        if cancel is not None and cancel():
            raise Cancelled
        units = [u for g in range(len(state.totals)) for u in state.boundary_units(g)]
        rng.shuffle(units)
        moved = 0
        for unit in units:
            source = int(state.labels[unit])
            if source in state.locked:
                continue
            links = state.links(unit)
            here = links.get(source, 0.0)
            w = int(state.weights[unit])
            best, best_gain = -1, 1e-9
            for target, weight in links.items():
                if target == source or target in state.locked or weight - here <= best_gain:
                    continue
                if _keeps_band(state.totals[source], -w, targets) and _keeps_band(
                    state.totals[target], w, targets
                ):
                    if allowed is not None and not allowed(unit, target):
                        continue
                    best, best_gain = target, weight - here
            if best >= 0 and state.can_leave(unit):
                state.move(unit, best)
                moved += 1
        made += moved
        if moved == 0:
            break
    return made


def _keeps_band(total: int, change: int, targets: Targets) -> bool:
    """A grid in band stays in band; one out of band does not get further out."""
    after = total + change
    if targets.in_band(total):
        return targets.in_band(after)
    return violation(after, targets) <= violation(total, targets)


def compact(
    state: Assignment,
    targets: Targets,
    rng: np.random.Generator,
    rounds: int,
    allowed: Callable[[int, int], bool] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Raise compactness with moves that keep every grid's band status: each move lowers
    Σ P²/A over the two grids it touches (P perimeter, A area; P²/A = 4π / Polsby-Popper,
    so the least compact grids gain most). Returns the moves made."""
    graph = state.graph
    count = len(state.totals)
    labels = state.labels
    area, perimeter = grid_shapes(graph, labels, count)
    lengths = [
        graph.length_m[graph.indptr[u] : graph.indptr[u + 1]].tolist() for u in range(graph.size)
    ]
    made = 0
    for _ in range(rounds):
        if cancel is not None and cancel():
            raise Cancelled
        units = [u for g in range(count) for u in state.boundary_units(g)]
        rng.shuffle(units)
        moved = 0
        for unit in units:
            source = int(labels[unit])
            w = int(state.weights[unit])
            # Land without households may move into and out of locked (oversize) grids:
            # a tower then takes the empty land around it instead of a neighbour wrapping it.
            if source in state.locked and w > 0:
                continue
            shared: dict[int, float] = {}
            for v, length in zip(state.adjacency[unit], lengths[unit], strict=True):
                grid = int(labels[v])
                shared[grid] = shared.get(grid, 0.0) + length
            a_u, p_u = graph.unit_area[unit], graph.unit_perimeter[unit]
            p_source = perimeter[source] - p_u + 2 * shared.get(source, 0.0)
            a_source = area[source] - a_u
            if a_source <= 0:
                continue
            before_source = perimeter[source] ** 2 / area[source]
            best, best_delta, best_p = -1, -1e-9, 0.0
            for target, length in shared.items():
                if target == source or (target in state.locked and w > 0):
                    continue
                p_target = perimeter[target] + p_u - 2 * length
                delta = (
                    p_source**2 / a_source
                    + p_target**2 / (area[target] + a_u)
                    - before_source
                    - perimeter[target] ** 2 / area[target]
                )
                if (
                    delta < best_delta
                    and _keeps_band(state.totals[source], -w, targets)
                    and (_keeps_band(state.totals[target], w, targets))
                    and (allowed is None or allowed(unit, target))
                ):
                    best, best_delta, best_p = target, delta, p_target
            if best >= 0 and state.can_leave(unit):
                state.move(unit, best)
                perimeter[source], area[source] = p_source, a_source
                perimeter[best], area[best] = best_p, area[best] + a_u
                moved += 1
        made += moved
        if moved == 0:
            break
    return made
