"""Elderly-watch sweep in PostgreSQL: one hour for N enrolled households (default 100,000)
as every ingest process runs it — claim batches of state rows FOR UPDATE SKIP LOCKED, read
their rollup hour, ``ingest.watch.sweep``, write state and due hour back, one transaction
per batch — against the baseline: the same sweep of the same households and hour on the
same states already in memory (no database), i.e. what the database costs on top of the
detector. Same process, same machine, same detector code and settings.

Builds its own throwaway database (N households in one building, each enrolled, 2 hours
of rollup each). The state rows are learned ones, as a deployment's are (their stored size
is what the database pays for): ``--learn-days`` of an ordinary routine swept in memory
for a sample of households, tiled over all N. Sweeps the first hour to warm up (not
timed), then times the second hour. Prints its figures, then one JSON line.

    .venv/bin/python benchmarks/watch_sweep_db.py [--households 100000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

if not __package__:  # run as a file: the repository root, not benchmarks/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from gis import admin, migrate
from gis.db import connect
from gis.settings import get_settings
from ingest.watch.config import WatchConfig
from ingest.watch.readings import HourlyReadings, epoch_hour, hour_start
from ingest.watch.state import from_bytes, new_state, to_bytes
from ingest.watch.sweep import sweep
from ingest.watch_job import start_new_households, sweep_batch
from ingest.watch_store import maintain_partitions, read_readings, state_version

LEARN_SAMPLE = 500
"""Households whose states are learned in memory (then tiled over all N)."""

_SEED = """
INSERT INTO district (code, name, geom, source) VALUES ('150203', '昆都仑区',
  ST_Multi(ST_MakeEnvelope(109.78, 40.58, 109.86, 40.64, 4326)), 'bench');
INSERT INTO street (code, district_code, name, source)
  VALUES ('150203001000', '150203', '街道', 'bench');
INSERT INTO community (code, street_code, name, geom, source) VALUES ('150203001001',
  '150203001000', '社区', ST_Multi(ST_MakeEnvelope(109.80, 40.60, 109.82, 40.62, 4326)), 'bench');
INSERT INTO grid (code, community_code, name, geom, valid_from, source) VALUES
  ('150203001001001', '150203001001', '网格', ST_Multi(ST_MakeEnvelope(109.80, 40.60, 109.82,
   40.62, 4326)), '2025-01-01', 'bench');
INSERT INTO building (code, community_code, geom, households, source) VALUES ('B-1',
  '150203001001', ST_Multi(ST_MakeEnvelope(109.805, 40.605, 109.806, 40.606, 4326)), 0, 'bench');
"""


def build(url: str, households: int, first_hour: int) -> None:
    with connect(url) as conn:
        conn.execute(_SEED)
        conn.execute(
            "INSERT INTO household (code, building_id, unit, room, tags, consent, source) "
            "SELECT 'H-' || i, (SELECT id FROM building), 1, i::text, '{独居老人}', true, 'b' "
            "FROM generate_series(1, %s) i",
            (households,),
        )
        conn.execute(
            "INSERT INTO watch_enrolment (household_id, consent_by, consent_at, enrolled_by) "
            "SELECT id, 'bench', now(), 'bench' FROM household"
        )
        maintain_partitions(conn, hour_start(first_hour), 1, 13)
        conn.execute(
            "INSERT INTO watch_hour (household_id, hour, water_l, water_reports, energy_wh, "
            "power_s, power_reports, door_exits, door_entries, door_reports) "
            "SELECT h.id, %s + g * interval '1 hour', (h.id %% 7) * 3, 4, 60 + h.id %% 90, "
            "3600, 4, (h.id %% 11 = 0)::int, 0, 1 FROM household h, generate_series(0, 1) g",
            (hour_start(first_hour),),
        )
        conn.execute("ANALYZE")


def learned_states(end_hour: int, households: int, days: int, config: WatchConfig) -> np.ndarray:
    """States due at ``end_hour`` after ``days`` of an ordinary routine (water and power in
    the waking hours, out and back most mornings, each household its own standby and out
    hour), swept in memory for a sample and tiled over ``households``."""
    sample = min(households, LEARN_SAMPLE)
    hours = days * 24
    rng = np.random.default_rng(7)
    local = (np.arange(end_hour - hours, end_hour) + 8) % 24  # Asia/Shanghai, UTC+8
    waking = ((local >= 7) & (local < 22))[:, None]
    shape = (hours, sample)
    water = np.where(waking & (rng.random(shape) < 0.5), rng.gamma(0.8, 12.0, shape), 0.0)
    standby = rng.uniform(40.0, 80.0, sample)
    power = standby + np.where(waking, rng.gamma(1.0, 120.0, shape), 0.0)
    out = rng.integers(8, 11, sample)
    goes_out = rng.random(shape) < 0.8
    exits = (local[:, None] == out) & goes_out
    entries = np.roll(exits, 2, axis=0)
    readings = HourlyReadings(
        end_hour - hours, *(a.astype(np.float32) for a in (water, power, exits, entries))
    )
    state = sweep(new_state(sample), readings, config).state
    return state[np.arange(households) % sample]


def store_states(url: str, state: np.ndarray, due_hour: int) -> None:
    """Replace every household's state row (households in id order) with ``state``."""
    with connect(url, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM household ORDER BY id")]
        conn.execute(
            "UPDATE watch_state s SET state = u.state, version = %s, due_hour = %s "
            "FROM unnest(%b::int8[], %b::bytea[]) AS u(id, state) WHERE s.household_id = u.id",
            (state_version(), due_hour, ids, to_bytes(state)),
        )
        conn.execute("VACUUM ANALYZE watch_state")


def sweep_hour(url: str, settings, config: WatchConfig, now: datetime) -> tuple[float, int]:
    """All due households, batch by batch as ingest does: (seconds, households)."""
    swept = 0
    with connect(url) as conn:
        conn.autocommit = False
        started = time.perf_counter()
        while True:
            with conn.transaction():
                counts = sweep_batch(conn, settings, config, now)
            if counts is None:
                break
            swept += counts.households
        return time.perf_counter() - started, swept


def in_memory(url: str, config: WatchConfig, hour: int) -> tuple[float, float]:
    """Baseline: the same hour for the same households, states and readings in memory
    (and the mean size of a state as stored, compressed by PostgreSQL, in bytes)."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT household_id, state FROM watch_state ORDER BY 1", binary=True
        ).fetchall()
        ids = [r[0] for r in rows]
        readings = read_readings(
            conn, ids, hour, 1, [frozenset({"water", "power", "door"})] * len(ids)
        )
        stored = conn.execute("SELECT avg(pg_column_size(state)) FROM watch_state").fetchone()[0]
    state = from_bytes([r[1] for r in rows])
    state["hour"] = hour
    started = time.perf_counter()
    sweep(state, readings, config)
    return time.perf_counter() - started, float(stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--learn-days", type=int, default=28)
    args = parser.parse_args()
    base = get_settings()
    url = admin.with_database(base.database_url, f"wangge_bench_watch_{os.getpid()}")
    settings = base.model_copy(
        update={
            "database_url": url,
            "watch_sweep_batch": args.batch,
            "watch_lateness_s": 0,
            "watch_sweep_max_hours": 1,
        }
    )
    config = WatchConfig.from_settings(settings)
    first = epoch_hour(datetime.now(UTC)) - 48
    admin.create_database(url)
    try:
        migrate.upgrade(url)
        started = time.perf_counter()
        build(url, args.households, first)
        print(f"built {args.households:,} households in {time.perf_counter() - started:.1f} s")
        with connect(url) as conn:
            start_new_households(conn, first + 1, settings)
        store_states(url, learned_states(first, args.households, args.learn_days, config), first)
        warm_s, _ = sweep_hour(url, settings, config, hour_start(first + 1))
        db_s, swept = sweep_hour(url, settings, config, hour_start(first + 2))
        memory_s, state_bytes = in_memory(url, config, first + 1)
    finally:
        admin.drop_database(url)
    print(f"first hour (states created and warmed, not compared): {warm_s:.2f} s")
    print(
        f"one hour, {swept:,} households, batches of {args.batch}, from and to PostgreSQL: "
        f"{db_s:.2f} s ({swept / db_s:,.0f} households/s)"
    )
    print(f"baseline, the same sweep with states in memory (no database): {memory_s:.2f} s")
    print(f"a state as stored (of 2,112 bytes): {state_bytes:,.0f} bytes on average")
    print(
        json.dumps(
            {
                "households": swept,
                "batch": args.batch,
                "sweep_hour_db_s": round(db_s, 3),
                "sweep_hour_in_memory_s": round(memory_s, 3),
                "db_overhead_ratio": round(db_s / memory_s, 2) if memory_s else None,
                "households_per_s": round(swept / db_s),
                "state_row_bytes": round(state_bytes),
            }
        )
    )


if __name__ == "__main__":
    main()
