"""What is normal for each household: robust quantiles over a sliding window of days.

Every hour the current value of each learned signal (e.g. hours since water was last used)
is written into the ring of its (hour of day, day type) slot, so the ring holds what that
value was at this hour on the last RING days of this type. The threshold is factor × the
second largest of them (robust to one odd day) + margin; a slot with fewer than
min_samples days borrows the other day type's slot, and else the default.
"""

from __future__ import annotations

import numpy as np

from ingest.watch.state import EMPTY, RING


def learn(state: np.ndarray, signal: int, slot: int, values: np.ndarray, mask: np.ndarray) -> None:
    """Write values (hours) into slot's ring of the households in mask."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return
    pos = state["ring_pos"][rows, signal, slot]
    state["ring"][rows, signal, slot, pos] = np.minimum(values[rows], EMPTY - 1).astype(np.uint8)
    state["ring_pos"][rows, signal, slot] = (pos + 1) % RING


def robust_high(samples: np.ndarray, min_samples: int) -> np.ndarray:
    """Second largest valid sample along the last axis (NaN with fewer than min_samples)."""
    count = (samples != EMPTY).sum(axis=-1)
    ordered = np.sort(samples, axis=-1)  # EMPTY (255) sorts last
    index = np.clip(count - 2, 0, RING - 1)
    value = np.take_along_axis(ordered, index[..., None], axis=-1)[..., 0].astype(np.float32)
    return np.where(count >= max(min_samples, 2), value, np.nan)


def slot_thresholds(state: np.ndarray, slot: int, other_slot: int, min_samples: int) -> np.ndarray:
    """(households, learned signals) robust high value at slot, NaN where not yet known."""
    here = robust_high(state["ring"][:, :, slot, :], min_samples)
    there = robust_high(state["ring"][:, :, other_slot, :], min_samples)
    return np.where(np.isnan(here), there, here)


def longest_run(state: np.ndarray, min_samples: int) -> np.ndarray:
    """The longest daily water run of the window (NaN with fewer than min_samples days)."""
    ring = state["run_ring"]
    count = (ring != EMPTY).sum(axis=-1)
    valid = np.where(ring == EMPTY, 0, ring).max(axis=-1).astype(np.float32)
    return np.where(count >= min_samples, valid, np.nan)


def push_run(state: np.ndarray, mask: np.ndarray) -> None:
    rows = np.flatnonzero(mask)
    pos = state["run_pos"][rows]
    state["run_ring"][rows, pos] = np.minimum(state["run_today"][rows], EMPTY - 1).astype(np.uint8)
    state["run_pos"][rows] = (pos + 1) % RING
