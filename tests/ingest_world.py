"""A small world for the ingest tests, written with SQL into a fresh test database, and
helpers to build device messages and run real ingest worker processes against it.

One street, two communities, four grids (all valid since 2025-01-01):
  A1 has a full-time worker (w_a1; w_old held it in 2025) and the grid head head_a;
  A2 has nobody full-time: its grid head head_a is responsible;
  B1 has w_b1; B2 has nobody at all: the community duty desk desk_b is responsible.
Community cadres cadre_a / cadre_b, duty desks desk_a / desk_b, a street desk and a 消防
department member. Household H-A1 (独居老人, family contact) has a water meter, a power
meter and a door; H-B2 a water meter. Two tower cameras and a roof camera look over A.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from shapely.geometry import MultiPolygon, box

from gis.db import connect
from ingest.metrics import metrics_dir, read_all
from tests.mqtt_helpers import RunningBroker, wait_until

STREET = "150203001000"
COMMUNITY_A, COMMUNITY_B = "150203001001", "150203001002"
GRID_A1, GRID_A2 = "150203001001001", "150203001001002"
GRID_B1, GRID_B2 = "150203001002001", "150203001002002"
GRIDS = {
    GRID_A1: box(109.80, 40.60, 109.81, 40.62),
    GRID_A2: box(109.81, 40.60, 109.82, 40.62),
    GRID_B1: box(109.82, 40.60, 109.83, 40.62),
    GRID_B2: box(109.83, 40.60, 109.84, 40.62),
}
IN_GRID = {
    GRID_A1: (109.805, 40.61),
    GRID_A2: (109.815, 40.61),
    GRID_B1: (109.825, 40.61),
    GRID_B2: (109.835, 40.61),
}
WORKERS = [
    # id, role, department, community, street
    ("w_a1", "full_time", None, COMMUNITY_A, STREET),
    ("w_old", "full_time", None, COMMUNITY_A, STREET),
    ("w_b1", "full_time", None, COMMUNITY_B, STREET),
    ("head_a", "grid_head", None, COMMUNITY_A, STREET),
    ("cadre_a", "cadre", None, COMMUNITY_A, STREET),
    ("cadre_b", "cadre", None, COMMUNITY_B, STREET),
    ("desk_a", "duty_desk", None, COMMUNITY_A, STREET),
    ("desk_b", "duty_desk", None, COMMUNITY_B, STREET),
    ("desk_street", "duty_desk", None, None, STREET),
    ("fire_1", "department", "消防", None, STREET),
]
ASSIGNMENTS = [
    ("w_a1", GRID_A1, "full_time", "2026-01-01", None),
    ("w_old", GRID_A1, "full_time", "2025-01-01", "2026-01-01"),
    ("head_a", GRID_A1, "grid_head", "2025-01-01", None),
    ("head_a", GRID_A2, "grid_head", "2025-01-01", None),
    ("w_b1", GRID_B1, "full_time", "2025-01-01", None),
]
DEVICES = [
    # id, kind, model, lon, lat, range_m, household key
    ("cam_t1", "camera", "tower", 109.795, 40.61, 5000.0, None),
    ("cam_t2", "camera", "tower", 109.815, 40.59, 5000.0, None),
    ("cam_r1", "camera", "roof", 109.806, 40.605, 800.0, None),
    ("cam_b2", "camera", "roof", 109.835, 40.605, 800.0, None),
    ("wm_a1", "water_meter", None, 109.805, 40.61, None, "a1"),
    ("em_a1", "electricity_meter", None, 109.805, 40.61, None, "a1"),
    ("door_a1", "door", None, 109.8052, 40.6102, None, None),
    ("wm_b2", "water_meter", None, 109.835, 40.61, None, "b2"),
]
STREAM_DOORS = [(f"door_s{i:02d}", "door", None, 109.8051, 40.6101, None, None) for i in range(20)]
"""Door controllers of H-A1's building that the fault tests stream from."""
DEVICES += STREAM_DOORS
DISABLED_DEVICE = "cam_off"
WORKER_IDS = [w[0] for w in WORKERS]
DEVICE_IDS = [d[0] for d in DEVICES] + [DISABLED_DEVICE, "ghost"]
"""``ghost`` may connect to the broker but is not in the database."""
HOUSEHOLD_CODES = {"a1": "H-A1", "b2": "H-B2"}
FAMILY_PHONE = "13900000001"
PROCESS_S = 90.0
"""How long ingest processes may take to start, subscribe or stop: on a loaded 2-core
machine (two CPU hogs at nice 0, tests at nice 10) starting took over 20 s and a graceful
stop over 30 s. A deadline; the waits return as soon as the processes are done."""


def _wkt(geom) -> str:  # noqa: ANN001 - a shapely polygon
    return f"SRID=4326;{MultiPolygon([geom]).wkt}"


@dataclass(frozen=True)
class World:
    households: dict[str, int]


def seed_world(database_url: str) -> World:
    communities = {COMMUNITY_A: box(109.80, 40.60, 109.82, 40.62)}
    communities[COMMUNITY_B] = box(109.82, 40.60, 109.84, 40.62)
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO district (code, name, geom, source) VALUES ('150203', '昆都仑区', %s, 't')",
            (_wkt(box(109.78, 40.58, 109.86, 40.64)),),
        )
        conn.execute(
            "INSERT INTO street (code, district_code, name, source) "
            "VALUES (%s, '150203', '少先路街道', 't')",
            (STREET,),
        )
        for code, geom in communities.items():
            conn.execute(
                "INSERT INTO community (code, street_code, name, geom, source) "
                "VALUES (%s, %s, %s, %s, 't')",
                (code, STREET, f"社区{code[-1]}", _wkt(geom)),
            )
        for code, geom in GRIDS.items():
            conn.execute(
                "INSERT INTO grid (code, community_code, name, geom, valid_from, source) "
                "VALUES (%s, left(%s, 12), %s, %s, '2025-01-01', 't')",
                (code, code, f"网格{code[-3:]}", _wkt(geom)),
            )
        households = {}
        for key, grid in (("a1", GRID_A1), ("b2", GRID_B2)):
            lon, lat = IN_GRID[grid]
            building = conn.execute(
                "INSERT INTO building (code, community_code, geom, households, source) "
                "VALUES (%s, left(%s, 12), %s, 1, 't') RETURNING id",
                (f"B-{key}", grid, _wkt(box(lon - 0.0002, lat - 0.0002, lon + 0.0002, lat))),
            ).fetchone()[0]
            households[key] = conn.execute(
                "INSERT INTO household (code, building_id, unit, room, tags, consent, "
                "family_contact_name, family_contact_phone, source) "
                "VALUES (%s, %s, 1, '101', %s, true, %s, %s, 't') RETURNING id",
                (
                    HOUSEHOLD_CODES[key],
                    building,
                    ["独居老人"] if key == "a1" else [],
                    "王女士" if key == "a1" else None,
                    FAMILY_PHONE if key == "a1" else None,
                ),
            ).fetchone()[0]
        conn.cursor().executemany(
            "INSERT INTO worker (id, name, role, department, community_code, street_code, source) "
            "VALUES (%s, %s, %s, %s, %s, %s, 't')",
            [(w[0], f"人员{w[0]}", *w[1:]) for w in WORKERS],
        )
        conn.cursor().executemany(
            "INSERT INTO grid_assignment (worker_id, grid_code, role, valid_from, valid_to) "
            "VALUES (%s, %s, %s, %s, %s)",
            ASSIGNMENTS,
        )
        rows = [
            (i, kind, model, f"SRID=4326;POINT({lon} {lat})", rng, households.get(hh), True)
            for i, kind, model, lon, lat, rng, hh in DEVICES
        ]
        rows.append(
            (
                DISABLED_DEVICE,
                "camera",
                "roof",
                "SRID=4326;POINT(109.805 40.61)",
                500.0,
                None,
                False,
            )
        )
        conn.cursor().executemany(
            "INSERT INTO device (id, kind, model, geom, range_m, household_id, enabled, source) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 't')",
            rows,
        )
    return World(households)


# --- messages ------------------------------------------------------------------------------


def topic(device_id: str, channel: str = "events") -> str:
    return f"wangge/v1/devices/{device_id}/{channel}"


def _envelope(device_id: str, type_: str, ts: datetime | None) -> dict:
    return {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "device_id": device_id,
        "type": type_,
        "ts": (ts or datetime.now(UTC)).isoformat(),
    }


def fire(device_id: str, ts: datetime | None = None, **fields: float) -> dict:
    return _envelope(device_id, "fire.smoke", ts) | {"confidence": 0.9} | fields


def door(device_id: str, household: str, direction: str = "door.exit", ts=None) -> dict:
    return _envelope(device_id, direction, ts) | {"household_ref": household, "method": "card"}


def water_no_usage(
    device_id: str,
    since: datetime,
    ts: datetime | None = None,
    type_: str = "meter.water.no_usage",
) -> dict:
    """A water meter's edge-detected anomaly (no use, or with ``type_`` unbroken flow)."""
    ts = ts or datetime.now(UTC)
    flow = 0.0 if type_ == "meter.water.no_usage" else 240.0
    return _envelope(device_id, type_, ts) | {
        "since": since.isoformat(),
        "duration_s": int((ts - since).total_seconds()),
        "threshold_s": 21600,
        "readings": {"total_m3": 12.5, "flow_l_per_h": flow},
    }


def telemetry_water(device_id: str, flow: float, ts: datetime | None = None) -> dict:
    return _envelope(device_id, "telemetry.water", ts) | {
        "interval_s": 900,
        "readings": {"total_m3": 12.5, "flow_l_per_h": flow},
    }


def status(device_id: str, state: str = "online", reason: str = "heartbeat", ts=None) -> dict:
    return _envelope(device_id, "status", ts) | {"state": state, "reason": reason}


def encode(message: dict) -> bytes:
    return orjson.dumps(message)


def stored_once(database_url: str, event_ids: list[str]) -> tuple[int, int]:
    """(lost, duplicated): emitted ids missing from the database, and extra rows for them."""
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT event_id, count(*) FROM event WHERE event_id = ANY(%s) GROUP BY 1",
            (event_ids,),
        ).fetchall()
    found = dict(rows)
    lost = sum(1 for e in set(event_ids) if e not in found)
    duplicated = sum(n - 1 for n in found.values())
    return lost, duplicated


# --- worker processes ----------------------------------------------------------------------


def ingest_env(database_url: str, running: RunningBroker, run_dir: Path, **settings) -> dict:
    """Environment for `wangge ingest` / worker processes on this broker and database."""
    env = dict(os.environ)
    env.update(
        WANGGE_DATABASE_URL=database_url,
        WANGGE_MQTT_HOST=running.host,
        WANGGE_MQTT_PORT=str(running.port),
        WANGGE_RUN_DIR=str(run_dir),
        WANGGE_CREDENTIAL_SECRET=running.settings.credential_secret,
        WANGGE_INGEST_METRICS_INTERVAL_S="1",
        WANGGE_INGEST_OUTBOX_POLL_S="0.2",
        WANGGE_INGEST_TIMERS_POLL_S="0.2",
    )
    for key, value in settings.items():
        env[f"WANGGE_{key.upper()}"] = (
            value if isinstance(value, str) else orjson.dumps(value).decode()
        )
    return env


@dataclass
class Ingest:
    """``wangge ingest --workers N`` as a real process tree."""

    process: subprocess.Popen
    workers: int
    log_path: Path
    stopped: bool = field(default=False)

    def children(self) -> list[int]:
        """The worker pids, in worker-number order (the supervisor starts them so)."""
        pid = self.process.pid
        path = Path(f"/proc/{pid}/task/{pid}/children")
        try:
            pids = [int(p) for p in path.read_text().split()]
        except FileNotFoundError:
            return []
        return sorted(pids, key=_worker_number)

    def wait_workers(self, timeout_s: float = PROCESS_S) -> list[int]:
        assert wait_until(lambda: len(self.children()) == self.workers, timeout_s)
        return self.children()

    def kill_worker(self, number: int, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send ``sig`` (default: kill) to worker ``number``; returns its pid."""
        pid = next(p for p in self.children() if _worker_number(p) == number)
        os.kill(pid, sig)
        return pid

    def stop(self) -> None:
        if not self.stopped:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(PROCESS_S)
            self.stopped = True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _worker_number(pid: int) -> int:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return int(args[args.index(b"--number") + 1])
    except (FileNotFoundError, ValueError):
        return -1


@contextmanager
def run_ingest(env: dict, run_dir: Path, workers: int = 1) -> Iterator[Ingest]:
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "ingest.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gis.cli", "ingest", "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ingest = Ingest(process, workers, log_path)
    try:
        ingest.wait_workers()
        yield ingest
    finally:
        if process.poll() is None:
            ingest.stop()


def wait_subscribed(
    database_url: str,
    running: RunningBroker,
    probe_device: str = "cam_t1",
    *,
    workers: int = 1,
    run_dir: Path | None = None,
) -> None:
    """Wait until the workers consume: a status of a registered device marks it online.

    With ``workers`` > 1, wait until every worker has handled a probe since this call (their
    metrics in ``run_dir`` say so): a worker that has not subscribed yet gets nothing of a
    shared subscription, and a test of several workers must not start before all of them."""
    if workers > 1 and run_dir is None:
        raise ValueError("waiting for several workers needs their run_dir (metrics)")
    client = running.client(probe_device)
    before = _status_counts(run_dir)
    deadline = time.monotonic() + PROCESS_S
    while time.monotonic() < deadline:
        client.publish(topic(probe_device, "status"), encode(status(probe_device)))
        online = scalar(database_url, "SELECT online FROM device WHERE id = %s", probe_device)
        if online and workers == 1:
            return
        if online and run_dir is not None:
            now = _status_counts(run_dir)
            if sum(n > before.get(client_id, 0) for client_id, n in now.items()) >= workers:
                return
        time.sleep(0.2)
    raise TimeoutError(f"not all {workers} ingest workers started consuming")


def _status_counts(run_dir: Path | None) -> dict[str, int]:
    """Status messages handled so far, per worker client id (from the metrics files)."""
    if run_dir is None or not metrics_dir(run_dir).is_dir():
        return {}
    return {m["client_id"]: m["counts"].get("status", 0) for m in read_all(run_dir)}


def scalar(database_url: str, sql: str, *params):  # noqa: ANN201 - any column type
    with connect(database_url) as conn:
        row = conn.execute(sql, params).fetchone()
    return None if row is None else row[0]
