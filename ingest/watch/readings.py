"""Hourly rollups of a batch of households, the detector's only input.

Each array is (hours, households). NaN means the device sent nothing in that hour (a data
gap, an outage, a dead battery), which is different from 0 (it reported: nothing used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_hour(at: datetime) -> int:
    """The whole hour (since the Unix epoch, UTC) that contains ``at``."""
    return int((at - EPOCH) // timedelta(hours=1))


def hour_start(hour: int) -> datetime:
    return EPOCH + timedelta(hours=hour)


def slot_of(hour: int, timezone: ZoneInfo) -> tuple[int, int]:
    """(local hour of day, day type): Saturday and Sunday are rest days (type 1)."""
    local = hour_start(hour).astimezone(timezone)
    return local.hour, int(local.weekday() >= 5)


@dataclass(frozen=True)
class HourlyReadings:
    start_hour: int
    """Epoch hour of the first row."""
    water_l: np.ndarray
    power_w: np.ndarray
    """Mean electric power over the hour (= energy in Wh)."""
    exits: np.ndarray
    entries: np.ndarray

    def __post_init__(self) -> None:
        shape = self.water_l.shape
        for name in ("power_w", "exits", "entries"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, not {shape}")

    @property
    def hours(self) -> int:
        return self.water_l.shape[0]

    @classmethod
    def empty(cls, start_hour: int, hours: int, households: int) -> HourlyReadings:
        """All devices silent (NaN); fill in what was reported."""

        def blank() -> np.ndarray:
            return np.full((hours, households), np.nan, dtype=np.float32)

        return cls(start_hour, blank(), blank(), blank(), blank())
