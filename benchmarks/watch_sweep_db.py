"""Elderly-watch sweep in PostgreSQL: one hour for N enrolled households (default 100,000)
as every ingest process runs it — claim batches of state rows FOR UPDATE SKIP LOCKED, read
their rollup hour, ``ingest.watch.sweep``, write state and due hour back, one transaction
per batch — against the baseline: the same sweep of the same households and hour on the
same states already in memory (no database), i.e. what the database costs on top of the
detector. Same process, same machine, same detector code and settings.

Builds its own throwaway database (N households in one building, each enrolled, 2 hours
of rollup each), sweeps the first hour to create and warm the states (not timed), then
times the second hour. Prints its figures, then one JSON line.

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

if not __package__:  # run as a file: the repository root, not benchmarks/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from gis import admin, migrate
from gis.db import connect
from gis.settings import get_settings
from ingest.watch.config import WatchConfig
from ingest.watch.readings import epoch_hour, hour_start
from ingest.watch.state import from_bytes
from ingest.watch.sweep import sweep
from ingest.watch_job import start_new_households, sweep_batch
from ingest.watch_store import maintain_partitions, read_readings

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


def in_memory(url: str, config: WatchConfig, hour: int) -> float:
    """Baseline: the same hour for the same households, states and readings in memory."""
    with connect(url) as conn:
        rows = conn.execute("SELECT household_id, state FROM watch_state ORDER BY 1").fetchall()
        ids = [r[0] for r in rows]
        readings = read_readings(
            conn, ids, hour, 1, [frozenset({"water", "power", "door"})] * len(ids)
        )
    state = from_bytes([bytes(r[1]) for r in rows])
    state["hour"] = hour
    started = time.perf_counter()
    sweep(state, readings, config)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
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
        warm_s, _ = sweep_hour(url, settings, config, hour_start(first + 1))
        db_s, swept = sweep_hour(url, settings, config, hour_start(first + 2))
        memory_s = in_memory(url, config, first + 1)
    finally:
        admin.drop_database(url)
    print(f"first hour (states created and warmed, not compared): {warm_s:.2f} s")
    print(
        f"one hour, {swept:,} households, batches of {args.batch}, from and to PostgreSQL: "
        f"{db_s:.2f} s ({swept / db_s:,.0f} households/s)"
    )
    print(f"baseline, the same sweep with states in memory (no database): {memory_s:.2f} s")
    print(
        json.dumps(
            {
                "households": swept,
                "batch": args.batch,
                "sweep_hour_db_s": round(db_s, 3),
                "sweep_hour_in_memory_s": round(memory_s, 3),
                "db_overhead_ratio": round(db_s / memory_s, 2) if memory_s else None,
                "households_per_s": round(swept / db_s),
            }
        )
    )


if __name__ == "__main__":
    main()
