"""Split weighted points into k compact groups by recursive bisection (a k-d tree).

Each step sorts the items along the longer side of their bounding box and cuts where the
cumulative weight is closest to the share of the groups on the left, among the cuts that
keep both sides feasible (every future group's weight within [lo, hi]). The cut lines run
midway between neighbouring points, so the groups also own rectangles that tile the extent.
Used for grids (buildings weighted by households, 300..500 per grid) and for zoning streets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class PartitionError(ValueError):
    """No cut keeps every group within the bounds."""


@dataclass(frozen=True)
class Partition:
    labels: np.ndarray
    """Group 0..k-1 of every item."""
    boxes: np.ndarray
    """(k, 4): minx, miny, maxx, maxy of each group's rectangle; they tile the extent."""


def bisect_partition(
    xy: np.ndarray,
    weights: np.ndarray,
    k: int,
    lo: float = 0.0,
    hi: float = math.inf,
    extent: tuple[float, float, float, float] | None = None,
) -> Partition:
    """k groups of the items, each group's weight sum within [lo, hi].

    ``extent`` (minx, miny, maxx, maxy; default: the points' bounds) is what the groups'
    rectangles tile. Raises PartitionError if the items are too lumpy for these bounds
    (try another k).
    """
    xy = np.asarray(xy, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = float(weights.sum())
    if k < 1 or len(weights) < k or not lo * k <= total <= hi * k:
        raise PartitionError(f"{len(weights)} items of weight {total:g} do not fit {k} groups")
    labels = np.empty(len(weights), dtype=np.int64)
    boxes = np.empty((k, 4))
    root = np.array(extent if extent is not None else (*xy.min(axis=0), *xy.max(axis=0)))
    next_label = 0
    pending = [(np.arange(len(weights)), k, root)]
    while pending:
        items, groups, box = pending.pop()
        if groups == 1:
            labels[items] = next_label
            boxes[next_label] = box
            next_label += 1
            continue
        left, right, axis, cut = _split(xy[items], weights[items], groups, lo, hi)
        left_box, right_box = box.copy(), box.copy()
        left_box[axis + 2] = right_box[axis] = cut
        pending.append((items[right], groups - groups // 2, right_box))
        pending.append((items[left], groups // 2, left_box))
    return Partition(labels, boxes)


def _split(
    xy: np.ndarray, weights: np.ndarray, groups: int, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Positions (into xy) of the left and right part of the best feasible cut, the axis
    (0: x, 1: y) and the coordinate of the cut line."""
    k_left = groups // 2
    k_right = groups - k_left
    total = weights.sum()
    ideal = total * k_left / groups
    extent = xy.max(axis=0) - xy.min(axis=0)
    for axis in np.argsort(-extent, kind="stable"):
        order = np.lexsort((xy[:, 1 - axis], xy[:, axis]))
        left_weight = np.cumsum(weights[order])[k_left - 1 : len(order) - k_right]
        right_weight = total - left_weight
        feasible = (
            (left_weight >= lo * k_left)
            & (left_weight <= hi * k_left)
            & (right_weight >= lo * k_right)
            & (right_weight <= hi * k_right)
        )
        if feasible.any():
            miss = np.where(feasible, np.abs(left_weight - ideal), np.inf)
            cut = k_left + int(np.argmin(miss))
            line = 0.5 * (xy[order[cut - 1], axis] + xy[order[cut], axis])
            return order[:cut], order[cut:], int(axis), float(line)
    raise PartitionError(f"no feasible cut into {k_left}+{k_right} groups")
