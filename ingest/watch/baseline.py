"""What is normal for each household: robust quantiles over a sliding window of days.

Every hour the current value of each learned signal (e.g. hours since water was last used)
is written into the ring of its (hour of day, day type) slot, so the ring holds what that
value was at this hour on the last RING days of this type. The threshold is factor × the
third largest of the values at this hour and the hours either side (robust to two odd
days, smooth across the hour) + margin; a slot with fewer than min_samples days borrows
the other day type's slot, and else the default.
"""

from __future__ import annotations

import numpy as np

from ingest.watch.state import EMPTY, FIRST_RING, LEARNED, NIGHT_POOL, RING


def learn(state: np.ndarray, signal: int, slot: int, values: np.ndarray, mask: np.ndarray) -> None:
    """Write values (hours) into slot's ring of the households in mask."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return
    pos = state["ring_pos"][rows, signal, slot]
    state["ring"][rows, signal, slot, pos] = np.minimum(values[rows], EMPTY - 1).astype(np.uint8)
    state["ring_pos"][rows, signal, slot] = (pos + 1) % RING


def robust_high(samples: np.ndarray, min_samples: int, rank: int) -> np.ndarray:
    """The rank-th largest valid sample along the last axis (NaN with fewer than
    min_samples valid ones)."""
    count = (samples != EMPTY).sum(axis=-1)
    ordered = np.sort(samples, axis=-1)  # EMPTY (255) sorts last
    index = np.clip(count - rank, 0, samples.shape[-1] - 1)
    value = np.take_along_axis(ordered, index[..., None], axis=-1)[..., 0].astype(np.float32)
    return np.where(count >= max(min_samples, rank), value, np.nan)


def slot_thresholds(state: np.ndarray, slot: int, other_slot: int, min_samples: int) -> np.ndarray:
    """(households, learned signals): the fourth largest of the values at this hour and the
    hours either side on earlier days (so one odd day, which shows in all three, is passed
    over), NaN where not yet known; a day
    type with too little history borrows the other's. The hour before was learned today
    already: its newest value is left out, or an absence would teach itself as it grows."""

    def pooled(centre: int, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        day, hour = divmod(centre, 24)
        before, after = day * 24 + (hour - 1) % 24, day * 24 + (hour + 1) % 24
        ring = state["ring"][rows][:, :, [before, centre, after], :].reshape(
            -1, len(LEARNED), 3 * RING
        )
        newest = (state["ring_pos"][rows][:, :, before].astype(np.int64) - 1) % RING
        np.put_along_axis(ring, newest[..., None], EMPTY, axis=-1)
        return robust_high(ring, 3 * min_samples, 4)

    here = pooled(slot)
    unknown = np.isnan(here)
    if unknown.any():
        rows = np.flatnonzero(unknown.any(axis=1))
        here[rows] = np.where(unknown[rows], pooled(other_slot, rows), here[rows])
    return here


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


def learn_first_use(state: np.ndarray, day_type: int, hours: int, mask: np.ndarray) -> None:
    """Record that the households in mask were first up ``hours`` after DAY_START."""
    rows = np.flatnonzero(mask)
    pos = state["first_pos"][rows, day_type]
    state["first_ring"][rows, day_type, pos] = hours
    state["first_pos"][rows, day_type] = (pos + 1) % FIRST_RING


def latest_first_use(state: np.ndarray, day_type: int, min_samples: int) -> np.ndarray:
    """Latest first use of the window (hours after DAY_START), NaN without history; a day
    type with too little history borrows the other's."""
    here = robust_high(state["first_ring"][:, day_type, :], min_samples, 1)
    there = robust_high(state["first_ring"][:, 1 - day_type, :], min_samples, 1)
    return np.where(np.isnan(here), there, here)


ODD_HOURS = 2
"""Highest night hours the standby passes over."""


def learn_standby(state: np.ndarray, power_w: np.ndarray, mask: np.ndarray) -> None:
    """Write this unattended hour's power of the households in mask into their ring of
    night hours (the last NIGHT_POOL of them)."""
    rows = np.flatnonzero(mask)
    pos = state["night_pos"][rows]
    state["night_w"][rows, pos] = power_w[rows]
    state["night_pos"][rows] = (pos + 1) % NIGHT_POOL


def update_standby(state: np.ndarray, quantile: float) -> None:
    """standby_w = the quantile of the pooled night hours, passing over the ODD_HOURS
    highest (a light on one night, while few nights are known); NaN while none is known."""
    ring = state["night_w"]
    known = (~np.isnan(ring)).sum(axis=1)
    ordered = np.sort(ring, axis=1)  # NaN sorts last
    index = np.minimum(np.ceil(known * quantile).astype(np.int64) - 1, known - 1 - ODD_HOURS)
    index = np.clip(index, 0, NIGHT_POOL - 1)
    level = np.take_along_axis(ordered, index[:, None], axis=1)[:, 0]
    state["standby_w"] = np.where(known > 0, level, np.nan)
