"""Constructed hourly histories for the watch tests: a lone resident's ordinary routine
(firmware_sim.meters.household_use, averaged per hour) and ways to break it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from firmware_sim.meters import household_use
from gis.settings import Settings
from ingest.watch.config import WatchConfig
from ingest.watch.readings import HourlyReadings, epoch_hour, hour_start

START = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(hours=8)
"""Monday 2 March 2026, 00:00 in Shanghai."""
OUT_HOURS = (9, 11)
"""Local hours at which the resident goes out and comes back every day."""


def config(**overrides: object) -> WatchConfig:
    return WatchConfig.from_settings(Settings(), **overrides)


def routine(days: int, households: int = 1, seed: int = 1) -> HourlyReadings:
    """An ordinary life: water and power from the simulator's routine (10-minute samples
    averaged per hour), out of the door every morning, every device reporting. A fresh
    copy each call, so a test may change it."""
    base = _routine(days, households, seed)
    return HourlyReadings(
        base.start_hour, *(a.copy() for a in (base.water_l, base.power_w, base.exits, base.entries))
    )


@lru_cache(maxsize=4)
def _routine(days: int, households: int, seed: int) -> HourlyReadings:
    rng = random.Random(seed)
    start = epoch_hour(START)
    hours = days * 24
    readings = HourlyReadings.empty(start, hours, households)
    for i in range(hours):
        local = i % 24
        for h in range(households):
            uses = [
                household_use(hour_start(start + i) + timedelta(minutes=m), rng)
                for m in range(0, 60, 10)
            ]
            readings.water_l[i, h] = sum(w for w, _ in uses) / len(uses)
            readings.power_w[i, h] = sum(p for _, p in uses) / len(uses)
            readings.exits[i, h] = 1.0 if local == OUT_HOURS[0] else 0.0
            readings.entries[i, h] = 1.0 if local == OUT_HOURS[1] else 0.0
    return readings


def local_hour_index(day: int, hour: int) -> int:
    """Row of local day ``day`` (0-based), hour ``hour`` in a routine()."""
    return day * 24 + hour


def standby(readings: HourlyReadings, rows: slice, household: int = 0) -> None:
    """Nobody uses anything from rows on: water 0, power at the fridge, no door passage."""
    readings.water_l[rows, household] = 0.0
    readings.power_w[rows, household] = 45.0
    readings.exits[rows, household] = 0.0
    readings.entries[rows, household] = 0.0


def at(readings: HourlyReadings, row: int) -> datetime:
    """End of row's hour (when a finding of that hour is stamped)."""
    return hour_start(readings.start_hour + row + 1)


def kinds(findings: list, level: str | None = None) -> list[str]:
    return [f.kind for f in findings if level is None or f.level == level]


def one_household(readings: HourlyReadings, household: int) -> HourlyReadings:
    """A view of one household's columns: changing it changes readings."""
    part = slice(household, household + 1)
    return HourlyReadings(
        readings.start_hour,
        readings.water_l[:, part],
        readings.power_w[:, part],
        readings.exits[:, part],
        readings.entries[:, part],
    )
