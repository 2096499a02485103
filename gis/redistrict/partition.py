"""Partition the unit graph into grids: METIS for a balanced, short-cut start, then repair.

Steps: a unit above the maximum is a grid of its own (locked, flagged ``oversize_building``);
the rest falls into connected pieces (the locked units may cut it), each split into the
grid count nearest the ideal that the band allows. METIS (vertex weight = households, edge
weight = cut cost) gives compact balanced parts; parts are made contiguous, then the local
search (:mod:`search`) brings every grid into the band and shortens the cut. Several seeds
(derived from the caller's seed) are tried until every grid is in band.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import numpy as np
import pymetis

from gis.redistrict.chain import repair_band
from gis.redistrict.graph import UnitGraph, components, connected_without, induced
from gis.redistrict.recombine import recombine
from gis.redistrict.search import Assignment, Cancelled, balance, compact, refine
from gis.redistrict.targets import Targets

Progress = Callable[[str, float], None]
CancelCheck = Callable[[], bool]

REFINE_ROUNDS = 8
COMPACT_PASSES = 2
"""Recombination then single moves, twice: each opens cuts the other can take."""
RECOMBINE_BELOW = 0.6
"""Polsby-Popper below which a grid is recombined with its neighbours in the whole plan."""
ATTEMPTS = 2
"""Plans (alternating the two grid counts nearest the ideal, new seeds) tried per piece
until one has every grid in band."""


def _metis(
    graph: UnitGraph, weights: np.ndarray, k: int, seed: int, share: float | None = None
) -> np.ndarray:
    """METIS parts of ``graph`` (cut cost in decimetres as integer edge weights); with
    ``share``, a bisection whose first part gets that share of the weight."""
    if k <= 1 or graph.size <= 1:
        return np.zeros(graph.size, dtype=np.int64)
    options = pymetis.Options(seed=seed)
    _, parts = pymetis.part_graph(
        k,
        pymetis.CSRAdjacency(adj_starts=graph.indptr, adjacent=graph.indices),
        vweights=(np.maximum(weights, 0) * 10 + 1).astype(np.int64),
        eweights=np.maximum(1, np.round(graph.weight * 10)).astype(np.int64),
        tpwgts=None if share is None else [share, 1.0 - share],
        options=options,
    )
    return np.asarray(parts, dtype=np.int64)


def _cut_plans(k: int, targets: Targets) -> list[tuple[int, Targets]]:
    """(grids on the first side, band for the sides' averages) to try, best first.

    Sides that are still to be cut again first aim at a band halfway to the ideal, which
    leaves slack for the cuts below; the full band is the fallback.
    """
    firsts = [f for f in dict.fromkeys([k // 2, (k + 1) // 2, k // 2 - 1, k // 2 + 1]) if 0 < f < k]
    inner = Targets(
        minimum=round((targets.minimum + targets.ideal) / 2),
        maximum=round((targets.maximum + targets.ideal) / 2),
        ideal=targets.ideal,
    )
    plans = [(f, inner) for f in firsts] if k > 2 else []
    return plans + [(f, targets) for f in firsts]


def _side_range(total: int, k: int, k_first: int, targets: Targets) -> tuple[int, int]:
    """Households the first side of a bisection may hold so both sides stay feasible."""
    k_second = k - k_first
    low = max(k_first * targets.minimum, total - k_second * targets.maximum)
    high = min(k_first * targets.maximum, total - k_second * targets.minimum)
    return low, high


def _fix_side(
    graph: UnitGraph,
    adjacency: list[list[int]],
    households: np.ndarray,
    side: np.ndarray,
    low: int,
    high: int,
) -> bool:
    """Move boundary units between the two sides until side 0 holds low..high households,
    keeping both sides connected. Returns whether it got there.

    Each move takes, from the side that must shrink, a unit on the boundary that lands the
    total in range if one can (the one with the best cut gain), else the largest that does
    not overshoot.
    """
    first = int(households[side == 0].sum())
    src = np.repeat(np.arange(graph.size), np.diff(graph.indptr))
    for _ in range(2 * graph.size + 10):
        if low <= first <= high:
            return True
        to_first = first < low
        source = 1 if to_first else 0
        need = (low - first) if to_first else (first - high)
        room = (high - first) if to_first else (first - low)
        across = side[graph.indices] != side[src]
        toward = np.bincount(src[across], weights=graph.weight[across], minlength=graph.size)
        within = np.bincount(src[~across], weights=graph.weight[~across], minlength=graph.size)
        candidates = np.flatnonzero(
            (side == source) & (toward > 0) & (households > 0) & (households <= room)
        )
        if not len(candidates):
            return False
        gain = toward[candidates] - within[candidates]
        lands = households[candidates] >= need
        second = np.where(lands, gain, households[candidates])
        order = np.lexsort((-gain, -second, ~lands))
        size = int((side == source).sum())
        moved = next(
            (int(u) for u in candidates[order] if connected_without(adjacency, side, int(u), size)),
            -1,
        )
        if moved < 0:
            return False
        side[moved] = 1 - source
        first += int(households[moved]) * (1 if to_first else -1)
    return low <= first <= high


GROW_STARTS = 12
GROW_MAX_UNITS = 400
"""Start units tried when a METIS bisection cannot be moved into its range, on graphs of
at most GROW_MAX_UNITS units (larger ones have slack enough for METIS)."""


def _grow_side(
    graph: UnitGraph,
    households: np.ndarray,
    low: int,
    high: int,
    seed: int,
) -> np.ndarray | None:
    """A first side grown from a start unit, always adding the neighbour it shares most
    boundary with that still fits under ``high``, until it holds ``low``; the rest must
    stay connected. Tries a few start units; None when none works."""
    starts = np.random.default_rng(seed).permutation(graph.size)[:GROW_STARTS]
    for start in starts.tolist():
        side = np.ones(graph.size, dtype=np.int64)
        total = 0
        pull = np.zeros(graph.size)
        heap: list[tuple[float, int]] = [(0.0, start)]
        # The total only grows, so a unit that does not fit now never will: drop it.
        while heap and total < low:
            _, chosen = heapq.heappop(heap)
            if side[chosen] == 0 or total + households[chosen] > high:
                continue
            side[chosen] = 0
            total += int(households[chosen])
            lo, hi = graph.indptr[chosen], graph.indptr[chosen + 1]
            for v, w in zip(
                graph.indices[lo:hi].tolist(), graph.weight[lo:hi].tolist(), strict=True
            ):
                if side[v] == 1:
                    pull[v] += w
                    heapq.heappush(heap, (-pull[v], v))
        if low <= total <= high and len(components(graph, np.flatnonzero(side == 1))) == 1:
            return side
    return None


def _bisect(
    graph: UnitGraph,
    households: np.ndarray,
    k: int,
    targets: Targets,
    seed: int,
    cancel: CancelCheck | None,
) -> tuple[np.ndarray, bool]:
    """k grids of a connected graph by recursive bisection: each cut leaves both sides
    with a household total that k_side grids can hold, so at the bottom every grid is in
    band. Returns (labels 0..k-1, whether every cut met its range)."""
    if k <= 1 or graph.size <= 1:
        return np.zeros(graph.size, dtype=np.int64), True
    if cancel is not None and cancel():
        raise Cancelled
    total = int(households.sum())
    adjacency = graph.adjacency_lists()
    best: tuple[int, np.ndarray, int] | None = None
    for k_first, band in _cut_plans(k, targets):
        low, high = _side_range(total, k, k_first, band)
        if low > high:
            continue
        share = min(max(total * k_first / k, low), high) / max(total, 1)
        for attempt in range(2):
            side = _metis(graph, households, 2, seed * 7919 + attempt, share=share)
            side = make_contiguous(graph, side, set())
            if len(np.unique(side)) < 2:
                continue
            ok = _fix_side(graph, adjacency, households, side, low, high)
            first = int(households[side == 0].sum())
            miss = 0 if ok else min(abs(first - low), abs(first - high))
            if best is None or miss < best[0]:
                best = (miss, side.copy(), k_first)
            if ok:
                break
        if best is not None and best[0] == 0:
            break
        grown = None
        if graph.size <= GROW_MAX_UNITS:
            grown = _grow_side(graph, households, low, high, seed)
        if grown is not None:
            best = (0, grown, k_first)
            break
    if best is None:
        parts = make_contiguous(graph, _metis(graph, households, k, seed), set())
        return _renumber(parts), False
    miss, side, k_first = best
    labels = np.zeros(graph.size, dtype=np.int64)
    ok = miss == 0
    offset = 0
    for part, k_part in ((0, k_first), (1, k - k_first)):
        members = np.flatnonzero(side == part)
        sub_labels, sub_ok = _bisect(
            induced(graph, members), households[members], k_part, targets, seed, cancel
        )
        labels[members] = sub_labels + offset
        offset += int(sub_labels.max()) + 1
        ok = ok and sub_ok
    return labels, ok


def make_contiguous(graph: UnitGraph, labels: np.ndarray, fixed: set[int]) -> np.ndarray:
    """Each grid keeps its largest connected piece; other pieces join the neighbouring grid
    they share most boundary with (repeated until every grid is one piece)."""
    labels = labels.copy()
    for _ in range(graph.size):
        changed = False
        for grid in np.unique(labels).tolist():
            if grid in fixed:
                continue
            pieces = components(graph, np.flatnonzero(labels == grid))
            if len(pieces) <= 1:
                continue
            pieces.sort(key=len, reverse=True)
            for piece in pieces[1:]:
                shared: dict[int, float] = {}
                inside = set(piece.tolist())
                for u in piece.tolist():
                    lo, hi = graph.indptr[u], graph.indptr[u + 1]
                    for v, w in zip(
                        graph.indices[lo:hi].tolist(), graph.length_m[lo:hi].tolist(), strict=True
                    ):
                        if v not in inside and labels[v] != grid:
                            shared[int(labels[v])] = shared.get(int(labels[v]), 0.0) + w
                if shared:
                    labels[piece] = max(shared, key=lambda g: (shared[g], -g))
                    changed = True
        if not changed:
            break
    return labels


def _renumber(labels: np.ndarray) -> np.ndarray:
    _, compact = np.unique(labels, return_inverse=True)
    return compact.astype(np.int64)


def _split_piece(
    graph: UnitGraph,
    households: np.ndarray,
    targets: Targets,
    seed: int,
    cancel: CancelCheck | None,
) -> np.ndarray:
    """Grid labels for one connected piece (its own graph): recursive bisection for the
    nearest feasible grid counts, then balancing and refinement; the best plan wins."""
    total = int(households.sum())
    counts = targets.grid_counts(total)[:2] or [targets.best_count(total)]
    best: tuple[tuple[int, float], np.ndarray] | None = None
    for attempt in range(ATTEMPTS):
        k = counts[attempt % len(counts)]
        labels, _ = _bisect(graph, households, k, targets, seed * 31 + attempt, cancel)
        state = Assignment(graph, households, _renumber(labels), locked=set())
        rng = np.random.default_rng([seed, attempt])
        left = balance(state, targets, rng, max_moves=4 * graph.size + 100, cancel=cancel)
        if left:
            labels = _resplit_regions(graph, households, state.labels, targets, seed, cancel)
            state = Assignment(graph, households, labels, locked=set())
            left = balance(state, targets, rng, max_moves=4 * graph.size + 100, cancel=cancel)
        refine(state, targets, rng, REFINE_ROUNDS, cancel=cancel)
        score = (left, cut_cost(state))
        if best is None or score < best[0]:
            best = (score, state.labels.copy())
        if left == 0:
            break
    assert best is not None
    return best[1]


RESPLIT_ROUNDS = 4
WIDER_RINGS = 1
"""Rings of neighbours beyond the first that a grid out of band is cut again with."""


def _resplit_regions(
    graph: UnitGraph,
    households: np.ndarray,
    labels: np.ndarray,
    targets: Targets,
    seed: int,
    cancel: CancelCheck | None,
    locked: frozenset[int] | set[int] = frozenset(),
) -> np.ndarray:
    """Each grid out of band is cut again together with its neighbours (the region keeps
    its grid count, or takes the nearest feasible one); kept when fewer grids miss the band."""
    labels = labels.copy()
    for round_ in range(RESPLIT_ROUNDS):
        totals = np.bincount(labels, weights=households, minlength=int(labels.max()) + 1)
        bad = [g for g in range(len(totals)) if g not in locked and not targets.in_band(totals[g])]
        if not bad:
            break
        touched: set[int] = set()
        next_label = len(totals)
        for grid in bad:
            if grid in touched:
                continue
            members = np.flatnonzero(labels == grid)
            around = set(_shared_with(graph, np.where(labels == grid, -1, labels), members))
            around -= set(locked)
            if around & touched or (around and max(around) >= len(totals)):
                continue
            # Smallest regions first (the grid and one neighbour with room, then all its
            # neighbours): a fix there changes the fewest households.
            by_room = sorted(around, key=lambda h: (totals[h], h))
            if totals[grid] < targets.minimum:
                by_room.reverse()
            regions = [{grid, h} for h in by_room[:3]] + [{grid} | around]
            # Last, wider rings of neighbours: buildings of ~300 households leave no room
            # next door, the surplus has to travel further.
            for _ in range(WIDER_RINGS):
                ring = np.isin(labels, list(regions[-1]))
                wider = set(_shared_with(graph, np.where(ring, -1, labels), np.flatnonzero(ring)))
                wider -= set(locked)
                if not wider or wider & touched or any(h >= len(totals) for h in wider):
                    break
                regions.append(regions[-1] | wider)
            for region in regions:
                found = _resplit(
                    graph, households, labels, region, totals, targets, seed * 101 + round_, cancel
                )
                if found is not None:
                    members, new = found
                    ids = sorted(region) + list(range(next_label, next_label + int(new.max()) + 1))
                    next_label += int(new.max()) + 1
                    labels[members] = np.asarray(ids)[new]
                    touched |= region
                    break
        labels = _renumber(labels)
    return labels


def _resplit(
    graph: UnitGraph,
    households: np.ndarray,
    labels: np.ndarray,
    region: set[int],
    totals: np.ndarray,
    targets: Targets,
    seed: int,
    cancel: CancelCheck | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(members, new local labels) of ``region`` cut again with fewer grids out of band,
    the new grids matched to the old (the first len(region) labels are the old grids in
    sorted order) to keep the most households; None when no cut is better."""
    members = np.flatnonzero(np.isin(labels, list(region)))
    total = int(households[members].sum())
    before = sum(1 for g in region if not targets.in_band(totals[g]))
    old = np.searchsorted(np.asarray(sorted(region)), labels[members])
    best: tuple[tuple[int, float], np.ndarray] | None = None
    for k in dict.fromkeys([len(region), *targets.grid_counts(total)[:2]]):
        new, _ = _bisect(induced(graph, members), households[members], k, targets, seed, cancel)
        new_totals = np.bincount(new, weights=households[members])
        after = sum(1 for t in new_totals if not targets.in_band(t))
        if after >= before:
            continue
        matched, kept = _match(old, new, households[members])
        score = (after, -kept)
        if best is None or score < best[0]:
            best = (score, matched)
    return None if best is None else (members, best[1])


def _match(old: np.ndarray, new: np.ndarray, households: np.ndarray) -> tuple[np.ndarray, float]:
    """``new`` relabelled so that each new grid takes the id of the old grid it shares most
    households with (one to one, largest first; unmatched ones get ids past the old
    ones), and the households so kept."""
    k_old, k_new = int(old.max()) + 1, int(new.max()) + 1
    overlap = np.zeros((k_new, k_old))
    np.add.at(overlap, (new, old), households + 1e-3)
    mapping = np.full(k_new, -1, dtype=np.int64)
    kept = 0.0
    for flat in np.argsort(-overlap, axis=None, kind="stable").tolist():
        n, o = divmod(flat, k_old)
        if mapping[n] < 0 and o not in mapping and overlap[n, o] > 0:
            mapping[n] = o
            kept += overlap[n, o]
    extra = np.flatnonzero(mapping < 0)
    mapping[extra] = k_old + np.arange(len(extra))
    return mapping[new], kept


def cut_cost(state: Assignment) -> float:
    """Total cost of the edges between different grids."""
    g = state.graph
    src = np.repeat(np.arange(g.size), np.diff(g.indptr))
    differ = state.labels[src] != state.labels[g.indices]
    return float(g.weight[differ].sum() / 2)


def _shared_with(graph: UnitGraph, labels: np.ndarray, piece: np.ndarray) -> dict[int, float]:
    """Boundary length that ``piece`` shares with each labelled grid around it."""
    inside = np.zeros(graph.size, dtype=bool)
    inside[piece] = True
    shared: dict[int, float] = {}
    for u in piece.tolist():
        lo, hi = graph.indptr[u], graph.indptr[u + 1]
        for v, w in zip(graph.indices[lo:hi].tolist(), graph.length_m[lo:hi].tolist(), strict=True):
            if not inside[v] and labels[v] >= 0:
                shared[int(labels[v])] = shared.get(int(labels[v]), 0.0) + w
    return shared


def _oversize_grids(households: np.ndarray, targets: Targets) -> np.ndarray:
    """Labels with each unit above the maximum in a grid of its own (0..), others -1."""
    labels = np.full(len(households), -1, dtype=np.int64)
    oversize = np.flatnonzero(households > targets.maximum)
    labels[oversize] = np.arange(len(oversize))
    return labels


def partition(
    graph: UnitGraph,
    households: np.ndarray,
    targets: Targets,
    seed: int,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """Grid label of each unit: oversize units alone, every other piece split by METIS.

    A piece below the minimum (e.g. a courtyard closed in by towers) joins the oversize
    grid it shares most boundary with; a whole community below the minimum is one grid.
    """
    labels = _oversize_grids(households, targets)
    locked = set(range(int(labels.max()) + 1))
    pieces = components(graph, np.flatnonzero(labels < 0))
    pieces = [np.sort(piece) for piece in pieces]
    pieces.sort(key=lambda piece: int(piece[0]))
    next_label = len(locked)
    done_units = 0
    for piece in pieces:
        total = int(households[piece].sum())
        if total < targets.minimum:
            shared = _shared_with(graph, labels, piece)
            if shared:
                labels[piece] = max(shared, key=lambda g: (shared[g], -g))
                continue
        local = _split_piece(induced(graph, piece), households[piece], targets, seed, cancel)
        labels[piece] = local + next_label
        next_label += int(local.max()) + 1
        done_units += len(piece)
        if progress is not None:
            progress("partition", done_units / graph.size)
    # Across pieces, on the whole community: pairs of grids recut where that is more
    # compact, then single moves, which can now also give land without households next to
    # an oversize grid to it (or take it from it).
    state = Assignment(graph, households, labels, locked)
    repair_band(state, targets, cancel=cancel)
    rng = np.random.default_rng(seed)
    changed: set[int] | None = None  # the first pass tries every grid
    for _ in range(COMPACT_PASSES):
        before = state.labels.copy()
        recombine(state, targets, below=RECOMBINE_BELOW, cancel=cancel, grids=changed)
        compact(state, targets, rng, REFINE_ROUNDS, cancel=cancel)
        # A grid that neither changed nor saw a neighbour change has no cut the last pass
        # did not try.
        moved = np.flatnonzero(before != state.labels)
        changed = set(before[moved].tolist()) | set(state.labels[moved].tolist())
        changed |= {int(state.labels[v]) for g in changed for u in state.boundary_units(g)
                    for v in state.adjacency[u]}  # fmt: skip
    return _renumber(state.labels)


def stay_close(
    graph: UnitGraph,
    households: np.ndarray,
    targets: Targets,
    current: np.ndarray,
    seed: int,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """Grid labels that change as few households as possible from ``current`` (per unit,
    -1 outside every current grid) while bringing grids into the band.

    Oversize units get grids of their own; a current grid in pieces keeps its largest;
    a grid that needs splitting is split by METIS (its largest part keeps the label); a
    grid below the minimum merges with the smallest neighbour it fits with; then the local
    search balances, and refines only with moves that send no household away from its
    current grid.
    """
    oversize = _oversize_grids(households, targets)
    locked = set(range(int(oversize.max()) + 1))
    labels = np.where(oversize >= 0, oversize, current + len(locked))
    labels = np.where((current < 0) & (oversize < 0), -1, labels)
    labels = _fill_unlabelled(graph, labels)
    labels = make_contiguous(graph, labels, locked)
    labels = _split_large(graph, households, labels, targets, locked, seed)
    labels = _merge_small(graph, households, labels, targets, locked)
    labels = _renumber(labels)
    state = Assignment(graph, households, labels, locked)
    rng = np.random.default_rng(seed)
    if cancel is not None and cancel():
        raise Cancelled
    left = balance(state, targets, rng, max_moves=20 * graph.size + 100, cancel=cancel)
    if left:
        # Moves alone cannot do it: cut the grids still out of band again together with
        # their neighbours (the rest stays as it is).
        labels = _resplit_regions(graph, households, state.labels, targets, seed, cancel, locked)
        state = Assignment(graph, households, labels, locked)
        balance(state, targets, rng, max_moves=20 * graph.size + 100, cancel=cancel)
    original = labels.copy()
    refine(
        state,
        targets,
        rng,
        REFINE_ROUNDS,
        allowed=lambda unit, grid: households[unit] == 0 or original[unit] == grid,
        cancel=cancel,
    )
    return _renumber(state.labels)


def _fill_unlabelled(graph: UnitGraph, labels: np.ndarray) -> np.ndarray:
    """Units outside every current grid join a labelled neighbour (breadth first)."""
    labels = labels.copy()
    while (labels < 0).any():
        missing = np.flatnonzero(labels < 0)
        progressed = False
        for u in missing.tolist():
            around = [int(labels[v]) for v in graph.neighbours(u).tolist() if labels[v] >= 0]
            if around:
                labels[u] = min(around)
                progressed = True
        if not progressed:
            labels[labels < 0] = int(labels.max()) + 1
    return labels


def _split_large(
    graph: UnitGraph,
    households: np.ndarray,
    labels: np.ndarray,
    targets: Targets,
    locked: set[int],
    seed: int,
) -> np.ndarray:
    labels = labels.copy()
    next_label = int(labels.max()) + 1
    for grid in np.unique(labels).tolist():
        if grid in locked:
            continue
        members = np.flatnonzero(labels == grid)
        total = int(households[members].sum())
        k = targets.best_count(total)
        if total <= targets.maximum or k <= 1:
            continue
        parts = _metis(induced(graph, members), households[members], k, seed)
        sizes = np.bincount(parts, weights=households[members], minlength=k)
        keep = int(np.argmax(sizes))
        for part in range(k):
            if part != keep:
                labels[members[parts == part]] = next_label
                next_label += 1
    return make_contiguous(graph, labels, locked)


def _merge_small(
    graph: UnitGraph,
    households: np.ndarray,
    labels: np.ndarray,
    targets: Targets,
    locked: set[int],
) -> np.ndarray:
    labels = labels.copy()
    while True:
        totals = np.bincount(labels, weights=households, minlength=int(labels.max()) + 1)
        merged = False
        for grid in np.argsort(totals, kind="stable").tolist():
            members = np.flatnonzero(labels == grid)
            if grid in locked or not len(members) or totals[grid] >= targets.minimum:
                continue
            shared = _shared_with(graph, np.where(labels == grid, -1, labels), members)
            fits = [
                h for h in shared if h not in locked and totals[h] + totals[grid] <= targets.maximum
            ]
            if fits:
                labels[members] = min(fits, key=lambda h: (totals[h], h))
                merged = True
                break
        if not merged:
            return labels
