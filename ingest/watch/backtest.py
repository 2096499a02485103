"""``wangge watch backtest``: the sweep run in event time over historical readings.

Telemetry (CSV or Parquet): household, timestamp, water_l, power_w, door_exits,
door_entries; any number of readings per household and hour (water litres and door
passages are summed, power is averaged per hour); an empty cell is "not reported".
Households (CSV or Parquet): household, and optionally away_from / away_until (a known
absence per row). Only the listed households are watched. Naive timestamps are local time.
Every finding is written with its time, level and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.watch.config import WatchConfig
from ingest.watch.findings import Finding
from ingest.watch.readings import HourlyReadings
from ingest.watch.state import new_state
from ingest.watch.sweep import SweepResult, set_away, sweep

TELEMETRY_COLUMNS = ("household", "timestamp", "water_l", "power_w", "door_exits", "door_entries")
HOUR_NS = 3_600_000_000_000


class BacktestInputError(ValueError):
    """A file that cannot be backtested; the message says what is wrong."""


@dataclass(frozen=True)
class Absence:
    row: int
    from_hour: int
    until_hour: int


def read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype={"household": str})
    raise BacktestInputError(f"{path}: 只支持 .csv 或 .parquet / only .csv or .parquet files")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    elif path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        raise BacktestInputError(f"{path}: 只支持 .csv 或 .parquet / only .csv or .parquet files")


def _hours(values: pd.Series, timezone: str, what: str) -> np.ndarray:
    """Epoch hours of timestamps (naive ones are local time)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        stamps = pd.to_datetime(values.astype(str), errors="coerce", format="ISO8601")
    if stamps.isna().any():
        bad = values[stamps.isna()].iloc[0]
        raise BacktestInputError(f"{what}: 无法解析的时间 / unreadable timestamp {bad!r}")
    if stamps.dt.tz is None:
        stamps = stamps.dt.tz_localize(timezone)
    utc = stamps.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    return (utc.astype("int64") // HOUR_NS).to_numpy()


def hourly_readings(
    telemetry: pd.DataFrame, households: list[str], timezone: str
) -> HourlyReadings:
    """Roll the readings of the listed households up into hourly arrays."""
    missing = [c for c in TELEMETRY_COLUMNS if c not in telemetry.columns]
    if missing:
        raise BacktestInputError(f"telemetry: 缺少列 / missing columns {', '.join(missing)}")
    if telemetry.empty:
        raise BacktestInputError("telemetry: 没有数据 / no readings")
    frame = telemetry.assign(household=telemetry["household"].astype(str))
    frame = frame[frame["household"].isin(households)]
    if frame.empty:
        raise BacktestInputError("telemetry: 没有所列住户的数据 / no readings of listed households")
    hour = _hours(frame["timestamp"], timezone, "telemetry")
    start, end = int(hour.min()), int(hour.max()) + 1
    column = pd.Categorical(frame["household"], categories=households).codes
    readings = HourlyReadings.empty(start, end - start, len(households))
    keys = pd.DataFrame({"row": hour - start, "col": column})
    for name, target, how in (
        ("water_l", readings.water_l, "sum"),
        ("power_w", readings.power_w, "mean"),
        ("door_exits", readings.exits, "sum"),
        ("door_entries", readings.entries, "sum"),
    ):
        values = pd.to_numeric(frame[name], errors="coerce")
        given = values.notna().to_numpy()
        grouped = (
            keys[given].assign(v=values[given].to_numpy()).groupby(["row", "col"])["v"].agg(how)
        )
        rows = grouped.index.get_level_values(0).to_numpy()
        cols = grouped.index.get_level_values(1).to_numpy()
        target[rows, cols] = grouped.to_numpy(dtype=np.float32)
    return readings


def absences(frame: pd.DataFrame, households: list[str], timezone: str) -> list[Absence]:
    if "away_from" not in frame.columns or "away_until" not in frame.columns:
        return []
    rows = frame.dropna(subset=["away_from", "away_until"])
    index = {h: i for i, h in enumerate(households)}
    starts = _hours(rows["away_from"], timezone, "households.away_from")
    ends = _hours(rows["away_until"], timezone, "households.away_until")
    return [
        Absence(index[h], int(a), int(b))
        for h, a, b in zip(rows["household"].astype(str), starts, ends, strict=True)
    ]


def run_backtest(readings: HourlyReadings, away: list[Absence], config: WatchConfig) -> SweepResult:
    """Sweep hour by hour; a known absence takes effect at its start hour, as it would live."""
    state = new_state(readings.water_l.shape[1])
    cuts = sorted({int(a.from_hour) for a in away if readings.start_hour < a.from_hour})
    found: list[Finding] = []
    begin = readings.start_hour
    for cut in [*cuts, readings.start_hour + readings.hours]:
        if cut > readings.start_hour + readings.hours:
            break
        for absence in away:
            if absence.from_hour <= begin < absence.until_hour:
                set_away(state, np.array([absence.row]), absence.until_hour)
        part = slice(begin - readings.start_hour, cut - readings.start_hour)
        result = sweep(
            state,
            HourlyReadings(
                begin,
                readings.water_l[part],
                readings.power_w[part],
                readings.exits[part],
                readings.entries[part],
            ),
            config,
        )
        found += result.findings
        state, begin = result.state, cut
    return SweepResult(found, state)


def findings_frame(found: list[Finding], households: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household": [households[f.household] for f in found],
            "at": [f.at.isoformat() for f in found],
            "kind": [f.kind for f in found],
            "level": [f.level for f in found],
            "hours": [round(f.hours, 1) for f in found],
            "normal_h": [round(f.normal_h, 1) for f in found],
            "signals": [",".join(f.signals) for f in found],
            "reason_zh": [f.reason_zh() for f in found],
            "reason_en": [f.reason_en() for f in found],
        }
    )


def backtest_files(
    telemetry: Path, households: Path, out: Path, config: WatchConfig, timezone: str
) -> pd.DataFrame:
    """Read both files, run the sweep, write every finding to out; returns the findings."""
    listed = read_table(households)
    if "household" not in listed.columns:
        raise BacktestInputError("households: 缺少列 / missing column household")
    ids = sorted(set(listed["household"].astype(str)))
    readings = hourly_readings(read_table(telemetry), ids, timezone)
    found = run_backtest(readings, absences(listed, ids, timezone), config).findings
    frame = findings_frame(found, ids)
    write_table(frame, out)
    return frame
