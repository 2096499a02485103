"""Ingest benchmark: devices → the project's Mosquitto → `wangge ingest` → PostGIS → pushes.

Builds its own database (wangge_bench_ingest_*) with a generated, clearly synthetic city:
10 communities of 3×3 grids of 600 m, a full-time worker per grid, a grid head, cadre and
duty desk per community, and 10,000 devices (door controllers, water and power meters of
households, one roof camera per grid). Starts its own broker on a free port and
`wangge ingest --workers 2`, then runs four phases in one run:

1. sustained: publishers send a mix (85 % door passages, 10 % meter telemetry, 4 % status,
   1 % meter anomalies that open an incident and a task and push it) at the target rate
   while the workers run; events/s = messages / (first publish → last stored or pushed);
2. drain: the same mix queued at the broker while the workers are down (their persistent
   sessions keep it), then drained — the workers' capacity without publishers competing
   for the two cores;
3. latency: 1,000 msg/s of the same background while roof cameras report fires in distinct
   grids; publish → arrival of the task push at the grid worker's topic, p50/p95/p99, with
   the time to the batch's transaction start and to the outbox row being claimed;
4. baseline: the same backlog (same messages, same number) drained by the same two workers
   with one message per transaction (WANGGE_INGEST_BATCH_MAX=1) — the one thing compared is
   micro-batching; everything else (workers, broker, database, mix) is equal to phase 2.

Publishers are lean paho clients under the broker's admin account, sending on each
device's own topic (one firmware_sim process tops out near 7k msg/s, below the target).

    .venv/bin/python benchmarks/ingest.py [--messages 100000] [--rate 12000]
"""

# ruff: noqa: E402 - the import path is fixed first (see below)
from __future__ import annotations

import sys
from pathlib import Path

# This file is benchmarks/ingest.py: keep its folder off the import path, or it would stand
# in for the ``ingest`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
from shapely.geometry import MultiPolygon, box

from gis import admin, migrate
from gis.db import connect
from gis.settings import Settings, get_settings
from ingest import broker as broker_control
from ingest.metrics import read_all
from ingest.worker import nodelay
from tests.ports import on_free_port

ROOT = Path(__file__).resolve().parent.parent
STREET = "150203001000"
LON0, LAT0 = 109.80, 40.60
GRID_DEG_LON, GRID_DEG_LAT = 600 / 84_500, 600 / 110_574
COMMUNITIES_X, COMMUNITIES_Y, GRIDS_SIDE = 5, 2, 3
DEVICES = 10_000
SOURCE = "generated: ingest benchmark"
MAX_UNACKNOWLEDGED = 20_000


# --- the synthetic city -------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    grids: list[tuple[str, float, float]]
    """(code, centre lon, centre lat)"""
    doors: list[tuple[str, str]]
    """(device id, household code)"""
    meters: list[tuple[str, str]]
    """(device id, kind)"""
    cameras: list[tuple[str, str, float, float]]
    """(device id, grid code, lon, lat)"""
    workers: list[str]


def _mp(b) -> str:  # noqa: ANN001 - shapely polygon
    return f"SRID=4326;{MultiPolygon([b]).wkt}"


def build_city(url: str) -> City:
    rng = random.Random(20261121)
    grids, workers = [], []
    with connect(url) as conn:
        width = COMMUNITIES_X * GRIDS_SIDE * GRID_DEG_LON
        height = COMMUNITIES_Y * GRIDS_SIDE * GRID_DEG_LAT
        conn.execute(
            "INSERT INTO district (code, name, geom, source) VALUES ('150203', '昆都仑区', %s, %s)",
            (_mp(box(LON0 - 0.01, LAT0 - 0.01, LON0 + width + 0.01, LAT0 + height + 0.01)), SOURCE),
        )
        conn.execute(
            "INSERT INTO street (code, district_code, name, source) VALUES (%s, '150203', '基准街道', %s)",
            (STREET, SOURCE),
        )
        worker_rows, assignment_rows = [], []
        for cy in range(COMMUNITIES_Y):
            for cx in range(COMMUNITIES_X):
                community = f"150203001{cy * COMMUNITIES_X + cx + 1:03d}"
                x0 = LON0 + cx * GRIDS_SIDE * GRID_DEG_LON
                y0 = LAT0 + cy * GRIDS_SIDE * GRID_DEG_LAT
                outline = box(
                    x0, y0, x0 + GRIDS_SIDE * GRID_DEG_LON, y0 + GRIDS_SIDE * GRID_DEG_LAT
                )
                conn.execute(
                    "INSERT INTO community (code, street_code, name, geom, source) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (community, STREET, f"基准社区{community[-3:]}", _mp(outline), SOURCE),
                )
                for role, prefix in (("grid_head", "H"), ("cadre", "C"), ("duty_desk", "D")):
                    worker_rows.append((f"{prefix}-{community}", role, community))
                for n in range(GRIDS_SIDE * GRIDS_SIDE):
                    gx, gy = n % GRIDS_SIDE, n // GRIDS_SIDE
                    code = f"{community}{n + 1:03d}"
                    cell = box(
                        x0 + gx * GRID_DEG_LON,
                        y0 + gy * GRID_DEG_LAT,
                        x0 + (gx + 1) * GRID_DEG_LON,
                        y0 + (gy + 1) * GRID_DEG_LAT,
                    )
                    conn.execute(
                        "INSERT INTO grid (code, community_code, name, geom, valid_from, source) "
                        "VALUES (%s, %s, %s, %s, '2025-01-01', %s)",
                        (code, community, f"网格{code[-3:]}", _mp(cell), SOURCE),
                    )
                    grids.append((code, cell.centroid.x, cell.centroid.y))
                    worker_rows.append((f"W-{code}", "full_time", community))
                    assignment_rows.append((f"W-{code}", code, "full_time"))
                    assignment_rows.append((f"H-{community}", code, "grid_head"))
        conn.cursor().executemany(
            "INSERT INTO worker (id, name, role, community_code, street_code, source) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(w, w, role, c, STREET, SOURCE) for w, role, c in worker_rows],
        )
        conn.cursor().executemany(
            "INSERT INTO grid_assignment (worker_id, grid_code, role, valid_from) "
            "VALUES (%s, %s, %s, '2025-01-01')",
            assignment_rows,
        )
        workers = [w for w, _, _ in worker_rows]
        # One building per grid; households for doors and meters.
        buildings = {}
        for code, lon, lat in grids:
            buildings[code] = conn.execute(
                "INSERT INTO building (code, community_code, geom, households, source) "
                "VALUES (%s, %s, %s, 0, %s) RETURNING id",
                (f"B-{code}", code[:12], _mp(box(lon - 0.0003, lat - 0.0003, lon, lat)), SOURCE),
            ).fetchone()[0]
        cameras = [(f"cam-{code}", code, lon + 0.0005, lat + 0.0005) for code, lon, lat in grids]
        meter_pairs = 900
        door_count = DEVICES - len(cameras) - 2 * meter_pairs
        households = []
        for i in range(door_count + meter_pairs):
            code, lon, lat = grids[i % len(grids)]
            alone = i >= door_count and rng.random() < 0.5
            households.append(
                (
                    f"HH-{i:06d}",
                    buildings[code],
                    1,
                    f"{i:06d}",
                    ["独居老人"] if alone else [],
                    "13900000000" if alone else None,
                    SOURCE,
                )
            )
        with conn.cursor().copy(
            "COPY household (code, building_id, unit, room, tags, family_contact_phone, source) "
            "FROM STDIN"
        ) as copy:
            for row in households:
                copy.write_row(row)
        ids = dict(conn.execute("SELECT code, id FROM household").fetchall())
        device_rows, doors, meters = [], [], []
        for i in range(door_count):
            code, lon, lat = grids[i % len(grids)]
            device_id = f"door-{i:05d}"
            doors.append((device_id, f"HH-{i:06d}"))
            device_rows.append((device_id, "door", f"SRID=4326;POINT({lon} {lat})", None, None))
        for j in range(meter_pairs):
            household = f"HH-{door_count + j:06d}"
            code, lon, lat = grids[j % len(grids)]
            for kind, prefix in (("water_meter", "wm"), ("electricity_meter", "em")):
                device_id = f"{prefix}-{j:05d}"
                meters.append((device_id, kind))
                device_rows.append(
                    (device_id, kind, f"SRID=4326;POINT({lon} {lat})", ids[household], None)
                )
        for device_id, _, lon, lat in cameras:
            device_rows.append((device_id, "camera", f"SRID=4326;POINT({lon} {lat})", None, 800.0))
        with conn.cursor().copy(
            "COPY device (id, kind, geom, household_id, range_m, source) FROM STDIN"
        ) as copy:
            for row in device_rows:
                copy.write_row((*row, SOURCE))
    return City(grids, doors, meters, cameras, workers)


# --- publishers -----------------------------------------------------------------------------


def _iso_now() -> str:
    return datetime.now(UTC).isoformat()


def _envelope(device_id: str, type_: str) -> dict:
    return {
        "schema_version": "1.0",
        "event_id": str(uuid.uuid4()),
        "device_id": device_id,
        "type": type_,
        "ts": _iso_now(),
    }


def mixed_message(city: City, n: int, rng: random.Random) -> tuple[str, str, bytes, bool]:
    """(device id, channel, payload, is an event row) for message number n of the mix."""
    roll = rng.random()
    if roll < 0.85:
        device_id, household = city.doors[n % len(city.doors)]
        message = _envelope(device_id, rng.choice(("door.exit", "door.entry"))) | {
            "household_ref": household,
            "method": "card",
        }
        return device_id, "events", orjson.dumps(message), True
    if roll < 0.95:
        device_id, kind = city.meters[n % len(city.meters)]
        water = kind == "water_meter"
        readings = (
            {"total_m3": 10.0, "flow_l_per_h": rng.choice((0.0, 30.0))}
            if water
            else {"total_kwh": 100.0, "power_w": rng.uniform(40, 900)}
        )
        message = _envelope(device_id, "telemetry.water" if water else "telemetry.power") | {
            "interval_s": 900,
            "readings": readings,
        }
        return device_id, "telemetry", orjson.dumps(message), False
    if roll < 0.99:
        device_id = city.cameras[n % len(city.cameras)][0]
        message = _envelope(device_id, "status") | {"state": "online", "reason": "heartbeat"}
        return device_id, "status", orjson.dumps(message), False
    device_id, kind = city.meters[n % len(city.meters)]
    since = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    water = kind == "water_meter"
    message = _envelope(device_id, "meter.water.no_usage" if water else "meter.power.no_usage") | {
        "since": since,
        "duration_s": 108000,
        "threshold_s": 43200,
        "readings": {"total_m3": 10.0} if water else {"total_kwh": 100.0},
    }
    return device_id, "events", orjson.dumps(message), True


def admin_client(settings: Settings, client_id: str) -> mqtt.Client:
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.username_pw_set(settings.mqtt_admin_username, settings.mqtt_admin_password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.on_connect = lambda c, userdata, flags, reason, properties: nodelay(c)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    return client


def city_device_ids(city: City) -> list[str]:
    return [d for d, _ in city.doors] + [m for m, _ in city.meters] + [c[0] for c in city.cameras]


def start_city_broker(settings: Settings, city: City) -> Settings:
    """The city's broker (every device and worker known) on a free port: its settings."""
    device_ids = city_device_ids(city)

    def start_broker(port: int) -> Settings:
        on_port = settings.model_copy(update={"mqtt_port": port})
        broker_control.write_config(on_port, device_ids, city.workers)
        broker_control.start(on_port)
        return on_port

    return on_free_port(start_broker)


def publish_process(
    port: int, city: City, first: int, count: int, rate: float, seed: int, out
) -> None:  # noqa: ANN001 - a multiprocessing pipe end
    """Publish ``count`` mixed messages at ``rate``; send back (event ids, t0, t1)."""
    settings = Settings(mqtt_port=port)
    rng = random.Random(seed)
    client = admin_client(settings, f"bench-pub-{seed}")
    event_ids = []
    pending: deque = deque()
    started = time.time()
    for i in range(count):
        device_id, channel, payload, is_event = mixed_message(city, first + i, rng)
        pending.append(client.publish(f"wangge/v1/devices/{device_id}/{channel}", payload, qos=1))
        if len(pending) > MAX_UNACKNOWLEDGED:  # MQTT packet ids must not wrap around
            pending.popleft().wait_for_publish(120)
        if is_event:
            event_ids.append(orjson.loads(payload)["event_id"])
        if i % 100 == 0:
            pause = started + i / rate - time.time()
            if pause > 0:
                time.sleep(pause)
    for info in pending:
        info.wait_for_publish(120)
    out.send((event_ids, started, time.time()))
    client.disconnect()
    client.loop_stop()


def publish_parallel(
    port: int, city: City, count: int, rate: float, processes: int, seed: int
) -> tuple[list[str], float, float]:
    context = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    share = count // processes
    for p in range(processes):
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(
            target=publish_process,
            args=(port, city, p * share, share, rate / processes, seed + p, send),
        )
        proc.start()
        send.close()  # the child's end: recv() fails instead of hanging if the child dies
        pipes.append(receive)
        procs.append(proc)
    results = [pipe.recv() for pipe in pipes]
    for proc in procs:
        proc.join()
    event_ids = [e for ids, _, _ in results for e in ids]
    return event_ids, min(r[1] for r in results), max(r[2] for r in results)


# --- the system under test ---------------------------------------------------------------


def start_ingest(env: dict, workers: int, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gis.cli", "ingest", "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def stop_ingest(process: subprocess.Popen, settings: Settings, workers: int) -> None:
    """Stop the workers and end their broker sessions: Mosquitto would otherwise keep
    dealing the next phase's messages to an absent member's session."""
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    for n in range(workers):
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{settings.ingest_client_prefix}-{n}",
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(settings.mqtt_ingest_username, settings.mqtt_ingest_password)
        client.connect(settings.mqtt_host, settings.mqtt_port, clean_start=True)
        client.disconnect()


def wait_consuming(url: str, settings: Settings, device_id: str) -> None:
    client = admin_client(settings, "bench-probe")
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            message = _envelope(device_id, "status") | {"state": "online", "reason": "connected"}
            client.publish(f"wangge/v1/devices/{device_id}/status", orjson.dumps(message), qos=1)
            with connect(url) as conn:
                if conn.execute("SELECT online FROM device WHERE id = %s", (device_id,)).fetchone()[
                    0
                ]:
                    return
            time.sleep(0.2)
        raise TimeoutError("ingest did not start consuming")
    finally:
        client.disconnect()
        client.loop_stop()


def wait_persisted(url: str, event_ids: list[str], run_dir: Path, total: int, timeout_s: float):
    """Wait until every event row is stored, every message handled, every push sent;
    returns (lost, duplicated, wall time of the first and of the last write)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        handled = sum(m["counts"].get("received", 0) for m in read_all(run_dir))
        with connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM event").fetchone()[0]
            unsent = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        if stored >= len(event_ids) and unsent == 0 and handled >= total:
            break
        time.sleep(0.2)
    with connect(url) as conn:
        found = dict(
            conn.execute(
                "SELECT event_id, count(*) FROM event WHERE event_id = ANY(%s) GROUP BY 1",
                (event_ids,),
            ).fetchall()
        )
        first, last = conn.execute(
            "SELECT extract(epoch FROM min(e.received_at)), extract(epoch FROM "
            "greatest(max(e.received_at), (SELECT max(sent_at) FROM outbox))) FROM event e"
        ).fetchone()
    lost = sum(1 for e in set(event_ids) if e not in found)
    duplicated = sum(n - 1 for n in found.values())
    return lost, duplicated, float(first), float(last)


def reset_run(url: str, run_dir: Path) -> None:
    with connect(url) as conn:
        conn.execute(
            "TRUNCATE event, incident, task, task_transition, task_notification, outbox, "
            "dead_letter, household_activity RESTART IDENTITY CASCADE"
        )
        conn.execute("UPDATE device SET online = false, last_seen = NULL")  # see wait_consuming
    shutil.rmtree(run_dir / "ingest", ignore_errors=True)


def throughput(env, url, settings, city, run_dir, workers, messages, rate, publishers, label):
    """Publishers at ``rate`` while the workers run: messages / (first publish → last
    stored or pushed)."""
    reset_run(url, run_dir)
    ingest = start_ingest(env, workers, run_dir / f"{label}.log")
    try:
        wait_consuming(url, settings, city.cameras[0][0])
        event_ids, t0, t_published = publish_parallel(
            settings.mqtt_port, city, messages, rate, publishers, seed=len(label)
        )
        lost, duplicated, _, t_last = wait_persisted(url, event_ids, run_dir, messages, 600)
    finally:
        stop_ingest(ingest, settings, workers)
    elapsed = max(t_last, t_published) - t0
    return {
        "messages": messages,
        "events": len(event_ids),
        "publish_s": round(t_published - t0, 2),
        "elapsed_s": round(elapsed, 2),
        "per_s": round(messages / elapsed, 1),
        "lost": lost,
        "duplicated": duplicated,
    }


def drain(env, url, settings, city, run_dir, workers, messages, label):
    """A backlog queued at the broker while the workers are down (their persistent sessions
    keep it), then drained: messages / (first → last stored or pushed). The workers alone,
    without publishers competing for the two cores."""
    reset_run(url, run_dir)
    ingest = start_ingest(env, workers, run_dir / f"{label}.log")
    wait_consuming(url, settings, city.cameras[0][0])
    ingest.send_signal(signal.SIGTERM)  # sessions stay: the backlog queues in them
    ingest.wait(60)
    reset_run(url, run_dir)
    event_ids, _, _ = publish_parallel(settings.mqtt_port, city, messages, 50_000, 1, len(label))
    ingest = start_ingest(env, workers, run_dir / f"{label}.log")
    try:
        lost, duplicated, first, last = wait_persisted(url, event_ids, run_dir, messages, 900)
    finally:
        stop_ingest(ingest, settings, workers)
    return {
        "messages": messages,
        "elapsed_s": round(last - first, 2),
        "per_s": round(messages / (last - first), 1),
        "lost": lost,
        "duplicated": duplicated,
    }


# --- fire latency under background load ----------------------------------------------------


def fire_latency(env, url, settings, city, run_dir, fires: int, background_rate: float):
    reset_run(url, run_dir)
    ingest = start_ingest(env, 2, run_dir / "latency.log")
    received: dict[str, float] = {}
    lock = threading.Lock()
    try:
        wait_consuming(url, settings, city.cameras[0][0])
        listener = admin_client(settings, "bench-listener")

        def on_message(client, userdata, message) -> None:
            body = orjson.loads(message.payload)
            with lock:
                received.setdefault(message.topic + f"#{body['incident_id']}", time.time())

        listener.on_message = on_message
        listener.subscribe("wangge/v1/workers/+/tasks", qos=1)
        time.sleep(0.5)
        duration = fires * 0.5 + 2
        spawn = multiprocessing.get_context("spawn")
        background_pipe = spawn.Pipe(duplex=False)
        background = spawn.Process(
            target=publish_process,
            args=(
                settings.mqtt_port,
                city,
                0,
                int(background_rate * duration),
                background_rate,
                99,
                background_pipe[1],
            ),
        )
        background.start()
        background_pipe[1].close()
        time.sleep(1.0)
        sender = admin_client(settings, "bench-fire")
        sent: list[tuple[str, float]] = []
        for i in range(fires):
            device_id, grid, lon, lat = city.cameras[i % len(city.cameras)]
            message = _envelope(device_id, "fire.flame") | {
                "confidence": 0.9,
                "lon": lon,
                "lat": lat,
                "accuracy_m": 30.0,
            }
            t = time.time()
            sender.publish(f"wangge/v1/devices/{device_id}/events", orjson.dumps(message), qos=1)
            sent.append((grid, t))
            time.sleep(0.5)
        time.sleep(2.0)
        background_pipe[0].recv()
        background.join(60)
        with connect(url) as conn:
            stages = {
                row[0]: row[1:]
                for row in conn.execute(
                    "SELECT i.grid_code, i.id, extract(epoch FROM e.received_at), "
                    "extract(epoch FROM min(o.sent_at)) FROM incident i "
                    "JOIN event e ON e.incident_id = i.id "
                    "JOIN task t ON t.incident_id = i.id "
                    "JOIN outbox o ON o.task_id = t.id WHERE i.category = 'fire' "
                    "GROUP BY 1, 2, 3"
                ).fetchall()
            }
        latencies, to_stored, to_marked = [], [], []
        for grid, t in sent:
            incident, stored_at, marked_at = stages.get(grid, (None, None, None))
            key = f"wangge/v1/workers/W-{grid}/tasks#{incident}"
            if key in received:
                latencies.append((received[key] - t) * 1000)
                to_stored.append((float(stored_at) - t) * 1000)
                to_marked.append((float(marked_at) - t) * 1000)
        for client in (sender, listener):
            client.disconnect()
            client.loop_stop()
    finally:
        stop_ingest(ingest, settings, 2)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)

    return {
        "fires": fires,
        "pushed": len(latencies),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(latencies[-1], 1),
        "mean_ms": round(statistics.mean(latencies), 1),
        "to_transaction_start_p50_ms": round(statistics.median(to_stored), 1),
        "to_marked_sent_p50_ms": round(statistics.median(to_marked), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=12_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--fires", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--phases",
        default="throughput,drain,latency,naive",
        help="comma-separated subset to run",
    )
    args = parser.parse_args()

    url = admin.with_database(get_settings().database_url, f"wangge_bench_ingest_{os.getpid()}")
    run_dir = Path(tempfile.mkdtemp(prefix="wangge-bench-ingest-"))
    settings = Settings(run_dir=run_dir, database_url=url)
    admin.create_database(url)
    try:
        migrate.upgrade(url)
        city = build_city(url)
        settings = start_city_broker(settings, city)
        env = dict(os.environ)
        env.update(
            WANGGE_DATABASE_URL=url,
            WANGGE_MQTT_PORT=str(settings.mqtt_port),
            WANGGE_RUN_DIR=str(run_dir),
            WANGGE_INGEST_METRICS_INTERVAL_S="0.5",
        )
        print(
            f"city: {len(city.grids)} grids, {len(city_device_ids(city))} devices (generated)",
            flush=True,
        )
        phases = set(args.phases.split(","))
        empty = {"per_s": None, "lost": 0, "duplicated": 0, "messages": 0}
        fast, backlog, naive = empty, empty, empty
        latency = dict.fromkeys(("p50_ms", "p95_ms", "p99_ms", "pushed", "fires"))
        if "throughput" in phases:
            fast = throughput(
                env,
                url,
                settings,
                city,
                run_dir,
                2,
                args.messages,
                args.rate,
                args.publishers,
                "sustained",
            )
            print(f"sustained, publishers at {args.rate:g}/s, 2 workers: {fast}", flush=True)
        if "drain" in phases:
            backlog = drain(env, url, settings, city, run_dir, 2, args.messages, "drain")
            print(f"backlog drained by 2 workers: {backlog}", flush=True)
        if "latency" in phases:
            latency = fire_latency(env, url, settings, city, run_dir, args.fires, 1000.0)
            print(f"fire alerts under 1,000 msg/s: {latency}", flush=True)
        if "naive" in phases:
            naive_env = env | {"WANGGE_INGEST_BATCH_MAX": "1"}
            naive = drain(naive_env, url, settings, city, run_dir, 2, args.messages, "naive")
            print(f"backlog drained by 2 workers, one message per commit: {naive}", flush=True)
    finally:
        broker_control.stop(settings)
        if not args.keep:
            admin.drop_database(url)
        shutil.rmtree(run_dir, ignore_errors=True)
    both = backlog["per_s"] and naive["per_s"]
    summary = {
        "events_per_s": fast["per_s"],
        "drain_events_per_s": backlog["per_s"],
        "naive_events_per_s": naive["per_s"],
        "speedup_vs_naive": round(backlog["per_s"] / naive["per_s"], 1) if both else None,
        "fire_p50_ms": latency["p50_ms"],
        "fire_p95_ms": latency["p95_ms"],
        "fire_p99_ms": latency["p99_ms"],
        "fires_pushed": latency["pushed"],
        "fires": latency["fires"],
        "messages": fast["messages"],
        "lost": fast["lost"] + backlog["lost"] + naive["lost"],
        "duplicated": fast["duplicated"] + backlog["duplicated"] + naive["duplicated"],
        "target_events_per_s": 5000,
        "target_ratio": round(fast["per_s"] / 5000, 2) if fast["per_s"] else None,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
