"""What people see is exactly what the same stream gives without faults, whatever fails in
between: one of two workers killed mid-stream (the supervisor restarts it under its client
id), the broker restarted, PostgreSQL restarted (a throwaway cluster, never the shared one).

Each test streams the same mix of fires, meter anomalies and door passages from real
simulated devices twice — into a fresh database without a fault, then with the fault — and
compares incidents (with their event counts), tasks, transitions, notifications, outbox
rows per recipient and the distinct pushes each phone received. Each also asserts that its
fault happened and made the broker deliver messages again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gis import admin, migrate
from gis.db import connect
from ingest.metrics import read_all
from tests.ingest_streams import (
    emit_at_rate,
    mixed_fleet,
    mixed_stream,
    push_listener,
    seen_by_phones,
    wait_settled,
)
from tests.ingest_world import DEVICE_IDS, WORKER_IDS, seed_world, stored_once, wait_subscribed
from tests.mqtt_helpers import wait_until
from tests.ports import on_free_port
from tests.prerequisites import unavailable
from tests.watch_live import enrol_contacts_only

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
MESSAGES = 2000
RATE = 400.0


def _redelivered(setup: Setup) -> int:
    return sum(m["counts"].get("redelivered", 0) for m in read_all(setup.run_dir))


Faults = Callable[[object], dict[int, Callable[[], None]]]
"""Given the running ingest (tests.ingest_world.Ingest): message index -> action."""


def _run(setup: Setup, tmp_path: Path, name: str, stream: list, faults: Faults | None = None):
    """Stream into ``setup``'s database, running the faults at their message indexes, and
    return what people saw once every event is stored and every push reached the phones."""
    event_ids = [message["event_id"] for _, message in stream]
    enrol_contacts_only(setup.database_url, setup.world.households["a1"])  # the family is told
    listener = push_listener(setup.broker, f"phones-{name}")
    prefix = {"ingest_client_prefix": f"{name}-ingest", "ingest_share_group": f"{name}-ingest"}
    with setup.ingest(workers=2, **prefix) as ingest:
        wait_subscribed(setup.database_url, setup.broker, workers=2, run_dir=setup.run_dir)
        fleet = mixed_fleet(setup.broker, tmp_path / name)
        with fleet:
            assert fleet.wait_connected(60)
            emit_at_rate(fleet, stream, RATE, faults(ingest) if faults else {})
            assert fleet.wait_drained(60), "devices still hold unacknowledged messages"
        wait_settled(setup.database_url, listener, event_ids, 90)
        assert stored_once(setup.database_url, event_ids) == (0, 0)
        seen = seen_by_phones(setup.database_url, listener)
        seen["log"] = ingest.log()
    listener.close()
    return seen


def _compare(baseline: dict, faulty: dict) -> None:
    for key in ("incidents", "tasks", "transitions", "notifications", "outbox", "received"):
        assert faulty[key] == baseline[key], key
    fires = sum(n for (category, *_), n in baseline["incidents"].items() if category == "fire")
    assert fires == 3, baseline["incidents"]  # the stream's three fire sites
    assert faulty["notices"] == baseline["notices"], "notices"
    assert baseline["notices"], "the family notice is counted"


def _baseline(setup: Setup, baseline_database_url: str, tmp_path: Path, stream: list) -> dict:
    from tests.ingest_fixtures import Setup

    world = seed_world(baseline_database_url)
    quiet = Setup(baseline_database_url, setup.broker, tmp_path / "baseline-run", world)
    return _run(quiet, tmp_path, "baseline", stream)


def test_killing_one_of_two_workers_mid_stream_changes_nothing_people_see(
    setup: Setup, baseline_database_url: str, tmp_path: Path
) -> None:
    """Worker 1 (of 0 and 1) is frozen a third of the way in, so that the broker deals it messages it
    cannot acknowledge, then killed 200 messages later: the broker must deliver those again."""
    stream = mixed_stream(MESSAGES, seed=11)
    baseline = _baseline(setup, baseline_database_url, tmp_path, stream)
    victim: list[int] = []

    def faults(ingest) -> dict[int, Callable[[], None]]:  # noqa: ANN001 - Ingest
        start = MESSAGES // 3
        return {
            start: lambda: ingest.kill_worker(1, signal.SIGSTOP),
            start + 200: lambda: victim.append(ingest.kill_worker(1)),
        }

    faulty = _run(setup, tmp_path, "faulty", stream, faults)
    assert victim and "exited with -9; restarting" in faulty["log"]
    assert _redelivered(setup) > 0, "the kill made the broker deliver messages again"
    _compare(baseline, faulty)


def test_broker_restart_mid_stream_changes_nothing_people_see(
    setup: Setup, baseline_database_url: str, tmp_path: Path
) -> None:
    """Both workers are frozen while the devices go on, so that messages are in flight to
    them, and the broker restarts; then they resume. Mosquitto 2.0.11 keeps sessions and
    in-flight messages over a restart but not shared subscriptions: the workers subscribe
    again within 0.25 s, before devices come back with the contract's backoff (>= 0.8 s)."""
    stream = mixed_stream(MESSAGES, seed=12)
    baseline = _baseline(setup, baseline_database_url, tmp_path, stream)
    frozen: list[int] = []

    def faults(ingest) -> dict[int, Callable[[], None]]:  # noqa: ANN001 - Ingest
        def freeze() -> None:
            frozen.extend(ingest.kill_worker(n, signal.SIGSTOP) for n in (0, 1))

        def restart_and_thaw() -> None:
            setup.broker.stop()  # SIGTERM: Mosquitto saves its sessions and queues
            setup.broker.start()
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)

        start = MESSAGES // 3
        return {start: freeze, start + 200: restart_and_thaw}

    faulty = _run(setup, tmp_path, "faulty", stream, faults)
    assert frozen and "faulty-ingest-1 disconnected" in faulty["log"]
    assert _redelivered(setup) > 0, "the restart made the broker deliver messages again"
    _compare(baseline, faulty)


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
    port, pg_ctl = on_free_port(lambda port: _start_postgres(data, port))
    url = f"postgresql+psycopg://wangge@127.0.0.1:{port}/wangge_pg_restart"
    try:
        admin.create_database(url)
        migrate.upgrade(url)
        yield url, pg_ctl
    finally:
        subprocess.run(_as_postgres(*pg_ctl, "-m", "immediate", "stop"), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _start_postgres(data: Path, port: int) -> tuple[int, list[str]]:
    """Start the server on ``port``; raise with its log (which names a taken port) if not."""
    log = data / "log"
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)]
    started = subprocess.run(_as_postgres(*pg_ctl, "-w", "start"), capture_output=True, text=True)
    if started.returncode != 0:
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise RuntimeError(f"postgres did not start: {started.stderr}\n{tail}")
    return port, pg_ctl


def _started_at(url: str):  # noqa: ANN202 - a datetime
    with connect(url) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_postgres_restart_mid_stream_changes_nothing_people_see(
    own_postgres: tuple[str, list[str]],
    baseline_database_url: str,
    broker_factory,
    tmp_path: Path,
) -> None:
    from tests.ingest_fixtures import Setup

    url, pg_ctl = own_postgres
    setup = Setup(url, broker_factory(DEVICE_IDS, WORKER_IDS), tmp_path / "run", seed_world(url))
    stream = mixed_stream(MESSAGES, seed=13)
    baseline = _baseline(setup, baseline_database_url, tmp_path, stream)
    first_start = _started_at(url)
    outage: list[bool] = []

    def down_until_batches_fail() -> None:
        """Stop PostgreSQL while the devices go on, until a batch could not be stored."""
        subprocess.run(_as_postgres(*pg_ctl, "-m", "fast", "stop"), check=True, capture_output=True)
        log = setup.run_dir / "ingest.log"
        outage.append(wait_until(lambda: "not stored" in log.read_text(errors="replace"), 60))
        subprocess.run(_as_postgres(*pg_ctl, "-w", "start"), check=True, capture_output=True)

    restart = threading.Thread(target=down_until_batches_fail, name="restart-postgres")
    faulty = _run(setup, tmp_path, "faulty", stream, lambda _: {MESSAGES // 3: restart.start})
    restart.join(90)
    assert outage == [True], "no batch met the outage"
    assert _started_at(url) > first_start
    _compare(baseline, faulty)
