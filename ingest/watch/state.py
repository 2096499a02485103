"""Detector state: one fixed-layout numpy record per household.

A batch of households is a structured array, so the sweep works on whole columns at once
(100k households in well under a second) and a household's state is ``record.tobytes()``:
a bytea column in PostgreSQL, restored with ``from_bytes``. ``LAYOUT_VERSION`` changes with
the layout; a row of another version is relearned from defaults.

Times are whole hours since the Unix epoch (UTC), the unit of the hourly rollup.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ingest.watch.findings import KINDS

LAYOUT_VERSION = 4
RING = 8
"""Days of history kept per (signal, slot): a sliding window that forgets older routines."""
FIRST_RING = 16
"""Days of getting-up times kept per day type (a late morning is rarer than an hour's gap)."""
SLOTS = 48
"""Hour of day × day type (0: working day, 1: rest day)."""
LEARNED = ("quiet_gap", "power_gap", "exit_gap", "out_h")
"""Signals whose value at each slot is learned (index into ring's second axis)."""
DEVICES = ("water", "power", "door")
WEEK = 7
"""Days at home whose use decline compares with the month before them."""
USE = ("water_l", "energy_wh")
"""How much is used (decline): litres of water, Wh of electricity above the standby."""
NIGHT_POOL = 48
"""Unattended (night) hours whose power makes the standby (12 nights of 01:00-05:00)."""
DAY_START = 5
"""Local hour at which a new day of getting up begins (state["up"] is cleared)."""
EMPTY = 255
"""An unused ring cell (values are hours, capped at 254)."""

NEVER = -1

STATE_DTYPE = np.dtype(
    [
        ("hour", np.int32),  # next epoch hour to process; NEVER for a new household
        ("quiet_gap", np.float32),  # hours at home since water or power was last in use
        ("water_gap", np.float32),  # hours at home since water was last used
        ("power_gap", np.float32),  # hours since electricity was last above standby
        ("exit_gap", np.float32),  # hours since the last door exit
        ("out_h", np.float32),  # hours out since the last exit (0 at home)
        ("run_h", np.float32),  # consecutive hours of running water
        ("run_today", np.float32),
        ("use_today", np.float32, (len(USE),)),  # litres, Wh above standby at home today
        ("home_today", np.float32),  # hours at home today with water and power reporting
        ("use_week", np.float32, (WEEK, len(USE))),  # per hour at home, the last WEEK days
        ("use_week_pos", np.uint8),
        ("use_before", np.float32, (len(USE),)),  # forgotten mean of the month before them
        ("days", np.int16),  # days at home learned
        ("place", np.int8),  # 0 unknown, 1 home, 2 out (from door passages and use)
        ("door_missed", np.bool_),  # the door was silent since the last passage or use at home
        ("missed_h", np.float32),  # hours door_missed has lasted
        ("night_out", np.int32),  # last hour the resident came back from a night out
        ("seen", np.uint8),  # bit per device that ever reported
        ("since_report", np.float32, (len(DEVICES),)),
        ("zero_power_h", np.float32),
        ("standby_w", np.float32),  # learned standby (fridge) load, NaN until a night is known
        ("night_w", np.float32, (NIGHT_POOL,)),  # power of the last unattended hours
        ("night_pos", np.uint8),
        ("ring", np.uint8, (len(LEARNED), SLOTS, RING)),
        ("ring_pos", np.uint8, (len(LEARNED), SLOTS)),
        ("up", np.bool_),  # in-home activity or a passage since DAY_START today
        ("water_since_up", np.float32),  # litres since DAY_START, while not up yet
        (
            "first_ring",
            np.uint8,
            (2, FIRST_RING),
        ),  # hours after DAY_START of the first use, by day type
        ("first_pos", np.uint8, (2,)),
        ("run_ring", np.uint8, (RING,)),
        ("run_pos", np.uint8),
        ("open", np.uint16),  # bit per finding kind with an open case
        ("case_since", np.int32, (len(KINDS),)),
        ("case_level", np.int8, (len(KINDS),)),
        ("quiet_until", np.int32),  # no resident alerts before (after a visit)
        ("away_until", np.int32),  # known absence (hospital, with family) until
    ]
)
HOME, OUT = 1, 2


def new_state(n: int) -> np.ndarray:
    """Fresh state for n households: no history, defaults apply."""
    state = np.zeros(n, dtype=STATE_DTYPE)
    state["hour"] = NEVER
    state["standby_w"] = np.nan
    state["night_w"] = np.nan
    state["use_week"] = np.nan
    state["use_before"] = np.nan
    state["ring"] = EMPTY
    state["run_ring"] = EMPTY
    state["first_ring"] = EMPTY
    state["case_since"] = NEVER
    state["quiet_until"] = NEVER
    state["away_until"] = NEVER
    state["night_out"] = NEVER
    return state


def to_bytes(state: np.ndarray) -> list[bytes]:
    """One bytes value per household (for a bytea column)."""
    return [record.tobytes() for record in state]


def from_bytes(rows: Sequence[bytes]) -> np.ndarray:
    """The batch back from its rows (a writable copy)."""
    if any(len(row) != STATE_DTYPE.itemsize for row in rows):
        raise ValueError(
            f"state rows must be {STATE_DTYPE.itemsize} bytes (layout {LAYOUT_VERSION})"
        )
    return np.frombuffer(b"".join(rows), dtype=STATE_DTYPE).copy()
