"""Band repair by chains of single-unit moves (ejection chains).

``balance`` moves one unit at a time and never lets a grid in band leave it, and the recuts
of ``partition._resplit_regions`` only see a grid and its nearest rings. A grid of two or
three large buildings (606 = 297 + 297 + 12) can only lose a whole building, which overfills
every neighbour; the neighbour must then pass on some of its own buildings, and so on until
a grid with room takes the surplus. This search tries such chains depth first: each step
moves one boundary building between neighbouring grids (contiguity kept: the articulation
check), and a chain is kept only when every grid it touched ends in band; otherwise each
move is undone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gis.redistrict.graph import components
from gis.redistrict.search import Assignment, Cancelled, violation
from gis.redistrict.targets import Targets

DEPTH = 4
"""Grids a surplus or deficit may travel through."""
WIDTH = 6
"""Moves tried at each step of a chain (the most promising first)."""
NEW = -1
"""Move target: a new grid (a building that cannot join any neighbour starts a grid of
its own, which then takes households from its neighbours)."""


def _carried(state: Assignment, building: int, grid: int) -> dict[int, list[int]]:
    """For each other grid next to ``building``'s pocket: the shortest path of land
    without households inside ``grid`` from the building to that grid (the building
    first). Buildings are often wrapped in empty land (a courtyard, a river bank), so a
    building moves together with the empty cells that link it to its new grid."""
    paths: dict[int, list[int]] = {}
    parent = {building: -1}
    queue = [building]
    for u in queue:
        for v in state.adjacency[u]:
            other = int(state.labels[v])
            if other != grid:
                if other not in paths:
                    path, w = [], u
                    while w >= 0:
                        path.append(w)
                        w = parent[w]
                    paths[other] = path[::-1]
            elif v not in parent and state.weights[v] == 0:
                parent[v] = u
                queue.append(v)
    return paths


def _moves(state: Assignment, grid: int, targets: Targets, visited: set[int]) -> list[tuple]:
    """(units, from, to) moves of one building (with the empty land carried along) that
    lower ``grid``'s violation, best first: those that bring it into band, then those
    leaving the other grid in band, then the ones closest to the band's middle."""
    total = int(state.totals[grid])
    over = total > targets.maximum
    found: list[tuple[tuple[int, ...], int, int]] = []
    if over:
        for b in state.members[grid]:
            if state.weights[b] > 0:
                for other, path in _carried(state, b, grid).items():
                    found.append((tuple(path), grid, other))
                    # A new grid carries the same land, so that it touches the neighbour
                    # it then takes households from.
                    found.append((tuple(path), grid, NEW))
    else:
        around = {int(state.labels[v]) for u in state.members[grid] for v in state.adjacency[u]}
        for other in around - {grid}:
            for b in state.members[other]:
                if state.weights[b] > 0:
                    path = _carried(state, b, other).get(grid)
                    if path is not None:
                        found.append((tuple(path), other, grid))
    ranked = []
    for units, source, target in found:
        other = target if over else source
        if other in state.locked or other in visited:
            continue
        w = int(state.weights[units[0]])
        if other == NEW:
            after = total - w
            ranked.append(
                (
                    not targets.in_band(after),
                    True,
                    violation(after, targets) + violation(w, targets),
                    units,
                    source,
                    target,
                )
            )
            continue
        after = total - w if over else total + w
        if violation(after, targets) >= violation(total, targets) and not (
            over and after < targets.minimum
        ):
            continue  # worse, unless a whole building leaves (then the grid takes more)
        other_after = int(state.totals[other]) + (w if over else -w)
        ranked.append(
            (
                not targets.in_band(after),
                not targets.in_band(other_after),
                abs(after - targets.ideal) + abs(other_after - targets.ideal),
                units,
                source,
                target,
            )
        )
    ranked.sort()
    return [r[3:] for r in ranked]


def _can_leave(state: Assignment, units: tuple[int, ...], source: int) -> bool:
    """Whether ``units`` can leave ``source`` without emptying or disconnecting it."""
    rest = np.asarray(sorted(state.members[source] - set(units)), dtype=np.int64)
    return len(rest) > 0 and len(components(state.graph, rest)) == 1


def _move(state: Assignment, units: tuple[int, ...], target: int, journal: list) -> int:
    """Moves ``units`` (to a new grid when ``target`` is NEW); returns the target."""
    if target == NEW:
        target = state.add_grid()
        journal.append((-1, target))
    for unit in units:
        journal.append((unit, int(state.labels[unit])))
        state.move(unit, target)
    return target


def _undo(state: Assignment, journal: list, mark: int) -> None:
    while len(journal) > mark:
        unit, grid = journal.pop()
        if unit < 0:
            state.drop_last_grid()
        else:
            state.move(unit, grid)


def _repair(
    state: Assignment, grid: int, targets: Targets, depth: int, visited: set[int], journal: list
) -> bool:
    """Bring ``grid`` into band by at most ``depth`` moves that leave every grid they
    touch in band; True if done, else the state is as before."""
    tried = 0
    for units, source, target in _moves(state, grid, targets, visited):
        if tried >= WIDTH:
            break
        if any(unit == units[0] for unit, _ in journal) or not _can_leave(state, units, source):
            continue  # a building moves once per chain
        tried += 1
        mark = len(journal)
        target = _move(state, units, target, journal)
        other = target if source == grid else source
        seen = visited | {grid, other}
        # Whichever of the two is out of band now is fixed further on (the neighbour
        # that took the surplus; the grid that gave a whole building and fell below).
        if all(
            targets.in_band(state.totals[g])
            or (depth > 1 and _repair(state, g, targets, depth - 1, seen, journal))
            for g in (grid, other)
        ):
            return True
        _undo(state, journal, mark)
    return False


def repair_band(
    state: Assignment, targets: Targets, cancel: Callable[[], bool] | None = None
) -> int:
    """Chains of moves for each unlocked grid out of band; returns the grids repaired."""
    repaired = 0
    for grid in range(len(state.totals)):
        if grid in state.locked or targets.in_band(state.totals[grid]):
            continue
        if cancel is not None and cancel():
            raise Cancelled
        if _repair(state, grid, targets, DEPTH, {grid}, []):
            repaired += 1
    return repaired
