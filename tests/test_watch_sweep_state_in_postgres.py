"""The elderly watch's sweep against PostgreSQL, without MQTT: state rows survive and are
claimed once (two sweepers at once fire once), outcomes feed the detector, a state of
another layout is relearned (and is stored lz4-compressed), the rollup's monthly partitions are kept ahead and dropped
after the retention, and the sweep's rollup read is an index scan."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from gis.db import connect
from gis.settings import Settings
from gis.watch_enrolment import record_outcome
from ingest.family_notices import quiet_end
from ingest.watch.config import WatchConfig
from ingest.watch.readings import epoch_hour
from ingest.watch.state import from_bytes
from ingest.watch_job import run_sweeps, sweep_batch
from ingest.watch_store import HourRollup, Partitions, maintain_partitions, upsert_hours
from tests.ingest_world import World, seed_world
from tests.watch_live import LOCAL, WEEK_H, enrol_a1, hour_floor, store_week

HOUR = timedelta(hours=1)


@pytest.fixture
def ingest_world(database_url: str) -> World:
    return seed_world(database_url)


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        watch_lateness_s=0,
        watch_sweep_batch=1,
        watch_sweep_max_hours=12,
    )


def _sweep(database_url: str, settings: Settings) -> None:
    with connect(database_url) as conn:
        conn.autocommit = False
        run_sweeps(conn, settings, WatchConfig.from_settings(settings), 60.0)


def _count(database_url: str, sql: str, *params) -> int:
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_two_sweepers_at_once_fire_once_and_outcomes_feed_the_state(
    database_url: str, ingest_world: World
) -> None:
    household = ingest_world.households["a1"]
    start = hour_floor(datetime.now(UTC)) - timedelta(hours=WEEK_H)
    store_week(database_url, household, start, stops_going_out_h=72)
    enrol_a1(database_url, household)
    settings = _settings(database_url)
    sweepers = [threading.Thread(target=_sweep, args=(database_url, settings)) for _ in range(2)]
    for sweeper in sweepers:
        sweeper.start()
    for sweeper in sweepers:
        sweeper.join(120)
    assert _count(database_url, "SELECT count(*) FROM task") == 1
    assert _count(database_url, "SELECT count(*) FROM watch_notice") == 1
    assert _count(database_url, "SELECT min(due_hour) FROM watch_state") == epoch_hour(
        datetime.now(UTC)
    )
    _sweep(database_url, settings)  # nothing due: nothing more
    assert _count(database_url, "SELECT count(*) FROM task") == 1

    with connect(database_url) as conn:
        task = conn.execute("SELECT id FROM task").fetchone()[0]
        record_outcome(conn, household, task, "all_well", None, "w_a1")
    with connect(database_url) as conn:  # the next hour's sweep applies it
        conn.autocommit = False
        with conn.transaction():
            sweep_batch(
                conn, settings, WatchConfig.from_settings(settings), datetime.now(UTC) + HOUR
            )
    with connect(database_url) as conn:
        raw, applied = conn.execute(
            "SELECT s.state, o.applied_at IS NOT NULL FROM watch_state s, watch_outcome o"
        ).fetchone()
    state = from_bytes([bytes(raw)])
    assert applied
    assert state["quiet_until"][0] >= epoch_hour(datetime.now(UTC)) + 23  # the quiet period
    assert int(state["open"][0]) == 0  # the resident case is closed


def test_a_state_of_another_layout_is_relearned(database_url: str, ingest_world: World) -> None:
    household = ingest_world.households["a1"]
    start = hour_floor(datetime.now(UTC)) - timedelta(hours=24)
    enrol_a1(database_url, household)
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO watch_state (household_id, version, due_hour, state) "
            "VALUES (%s, 'old-layout', %s, '\\x00')",
            (household, epoch_hour(start)),
        )
    _sweep(database_url, _settings(database_url))
    with connect(database_url) as conn:
        version, due, raw, compression, lz4 = conn.execute(
            "SELECT version, due_hour, state, pg_column_compression(state), "
            "'lz4' = ANY (enumvals) FROM watch_state, pg_settings "
            "WHERE name = 'default_toast_compression'"
        ).fetchone()
    assert version != "old-layout"
    assert due == epoch_hour(datetime.now(UTC))
    assert from_bytes([bytes(raw)])["hour"][0] == due
    assert compression == ("lz4" if lz4 else "pglz")  # migration 0018, where the server has it


def test_partitions_kept_ahead_and_dropped_after_retention(database_url: str) -> None:
    now = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    with connect(database_url) as conn:
        created, _ = maintain_partitions(conn, datetime(2025, 10, 5, tzinfo=UTC), 0, 13)
        assert created == ["watch_hour_y2025m10"]
        created, dropped = maintain_partitions(conn, now, 2, 13)
        assert created == ["watch_hour_y2026m12", "watch_hour_y2027m01", "watch_hour_y2027m02"]
        assert dropped == ["watch_hour_y2025m10"]
        # a row past the retention is not written; a row of this month is
        rollup = HourRollup()
        rollup.hours[(1, datetime(2025, 11, 1, tzinfo=UTC))].water_reports = 1
        rollup.hours[(1, now)].water_reports = 1
        upsert_hours(conn, rollup, Partitions(), now, 13)
        assert conn.execute("SELECT count(*) FROM watch_hour").fetchone()[0] == 1


def test_the_sweeps_rollup_read_is_an_index_scan(database_url: str) -> None:
    """1,000 households × 48 hours: reading 100 of them for 12 hours uses the primary key."""
    now = hour_floor(datetime.now(UTC))
    with connect(database_url) as conn:
        maintain_partitions(conn, now - timedelta(hours=48), 1, 13)
        maintain_partitions(conn, now, 1, 13)
        conn.execute(
            "INSERT INTO watch_hour (household_id, hour, water_l, water_reports) "
            "SELECT h, %s - g * interval '1 hour', 1, 1 "
            "FROM generate_series(1, 1000) h, generate_series(0, 47) g",
            (now,),
        )
        conn.execute("ANALYZE watch_hour")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN SELECT * FROM watch_hour WHERE household_id = ANY(%s) "
                "AND hour >= %s AND hour < %s",
                (list(np.arange(1, 101).tolist()), now - timedelta(hours=12), now),
            )
        )
    assert "Index" in plan and "Seq Scan" not in plan, plan


def test_a_device_fault_found_on_a_visit_becomes_a_maintenance_task(
    database_url: str, ingest_world: World
) -> None:
    household = ingest_world.households["a1"]
    enrol_a1(database_url, household)
    settings = _settings(database_url)
    _sweep(database_url, settings)  # the household's state row, due now
    with connect(database_url) as conn:
        record_outcome(conn, household, None, "device_fault", None, "w_a1")
    with connect(database_url) as conn:
        conn.autocommit = False
        with conn.transaction():
            sweep_batch(
                conn, settings, WatchConfig.from_settings(settings), datetime.now(UTC) + HOUR
            )
        tasks = conn.execute(
            "SELECT i.type, t.category, t.urgency, t.assignee_id FROM task t "
            "JOIN incident i ON i.id = t.incident_id"
        ).fetchall()
    assert tasks == [("watch.device_fault", "device", "normal", "w_a1")]


def test_family_notices_wait_for_the_end_of_quiet_hours() -> None:
    tz = LOCAL
    night = datetime(2026, 12, 1, 23, 30, tzinfo=tz)
    morning = datetime(2026, 12, 2, 7, 0, tzinfo=tz)
    assert quiet_end(night, (22, 7), tz) == morning
    assert quiet_end(morning, (22, 7), tz) == morning
    assert quiet_end(night, (None, None), tz) == night
    noon = datetime(2026, 12, 2, 12, 10, tzinfo=tz)
    assert quiet_end(noon, (12, 14), tz) == datetime(2026, 12, 2, 14, 0, tzinfo=tz)
