"""Every event a device delivered is stored exactly once, whatever fails in between: one of
two workers killed mid-stream (the supervisor restarts it under its client id), the broker
restarted, PostgreSQL restarted (a throwaway cluster, never the shared one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gis import admin, migrate
from ingest.metrics import read_all
from tests.ingest_world import (
    STREAM_DOORS,
    door_fleet,
    seed_world,
    stored_once,
    stream_doors,
    wait_subscribed,
)
from tests.mqtt_helpers import free_port, wait_until
from tests.prerequisites import unavailable

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DOORS = [d[0] for d in STREAM_DOORS]


def _stream_with_fault(setup: Setup, tmp_path: Path, count: int, rate: float, fault) -> dict:
    fleet = door_fleet(setup.broker, tmp_path, DOORS)
    with fleet:
        assert fleet.wait_connected(20)
        event_ids = stream_doors(fleet, count, rate, during=fault, at_s=count / rate / 3)
        assert fleet.wait_drained(60), "devices still hold unacknowledged messages"
    assert wait_until(lambda: stored_once(setup.database_url, event_ids)[0] == 0, 60), stored_once(
        setup.database_url, event_ids
    )
    lost, duplicated = stored_once(setup.database_url, event_ids)
    redelivered = sum(m["counts"].get("duplicates", 0) for m in read_all(setup.run_dir))
    return {"lost": lost, "duplicated": duplicated, "redelivered": redelivered}


def test_killing_one_of_two_workers_mid_stream_loses_and_doubles_nothing(
    setup: Setup, tmp_path: Path
) -> None:
    with setup.ingest(workers=2) as ingest:
        wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
        victim: list[int] = []
        outcome = _stream_with_fault(
            setup, tmp_path, 3000, 600, lambda: victim.append(ingest.kill_worker(1))
        )
        assert wait_until(lambda: victim[0] not in ingest.children(), 5)
        assert len(ingest.wait_workers()) == 2
    assert outcome["lost"] == 0 and outcome["duplicated"] == 0
    assert "exited with -9; restarting" in ingest.log()


def test_broker_restart_mid_stream_loses_and_doubles_nothing(setup: Setup, tmp_path: Path) -> None:
    """Mosquitto 2.0.11 keeps sessions and queued messages over a restart but not shared
    subscriptions: the workers subscribe again within 0.25 s, before devices come back
    with the contract's backoff (>= 0.8 s)."""

    def restart_broker() -> None:
        setup.broker.stop()  # SIGTERM: Mosquitto saves its sessions and queues
        setup.broker.start()

    with setup.ingest(workers=2):
        wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
        outcome = _stream_with_fault(setup, tmp_path, 2000, 400, restart_broker)
    assert outcome["lost"] == 0 and outcome["duplicated"] == 0


# --- PostgreSQL restart, on a cluster of our own ---------------------------------------------


def _as_postgres(*command: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, list[str]]]:
    """A throwaway PostgreSQL 15 cluster on a free port: (SQLAlchemy URL, pg_ctl command).

    Outside pytest's tmp dir: that one is private to root, and initdb runs as postgres."""
    if not (PG_BIN / "initdb").exists() or (os.geteuid() != 0 and not shutil.which("initdb")):
        unavailable("no initdb usable here (needs root to run it as postgres)")
    root = Path(tempfile.mkdtemp(prefix="wangge-pg-"))
    root.chmod(0o755)
    data = root / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "wangge", "--auth=trust"),
        check=True,
        capture_output=True,
    )
    port = free_port()
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log")]
    subprocess.run(_as_postgres(*pg_ctl, "-w", "start"), check=True, capture_output=True)
    url = f"postgresql+psycopg://wangge@127.0.0.1:{port}/wangge_pg_restart"
    try:
        admin.create_database(url)
        migrate.upgrade(url)
        yield url, pg_ctl
    finally:
        subprocess.run(_as_postgres(*pg_ctl, "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restart_mid_stream_loses_and_doubles_nothing(
    own_postgres: tuple[str, list[str]], broker_factory, tmp_path: Path
) -> None:
    from tests.ingest_fixtures import Setup
    from tests.ingest_world import DEVICE_IDS, WORKER_IDS

    url, pg_ctl = own_postgres
    setup = Setup(url, broker_factory(DEVICE_IDS, WORKER_IDS), tmp_path / "run", seed_world(url))

    def restart_postgres() -> None:
        subprocess.run(_as_postgres(*pg_ctl, "-m", "fast", "stop"), check=True, capture_output=True)
        time.sleep(1.0)
        subprocess.run(_as_postgres(*pg_ctl, "-w", "start"), check=True, capture_output=True)

    with setup.ingest(workers=2):
        wait_subscribed(url, setup.broker, workers=2, run_dir=setup.run_dir)
        outcome = _stream_with_fault(setup, tmp_path, 2000, 400, restart_postgres)
    assert outcome["lost"] == 0 and outcome["duplicated"] == 0
