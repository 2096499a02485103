"""A mixed device stream — fires, meter anomalies of elderly residents, door passages — sent
by real simulated devices, and what people see of it: incidents, tasks, transitions, the
outbox and the task pushes each worker's phone received.

The fault tests run the same stream once without a fault and once with one, and compare
these outcomes: none of them may depend on how often a message was delivered."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from firmware_sim import messages
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from gis.contract import parse_task_message, worker_tasks_topic
from gis.db import connect
from ingest.broker_inventory import DeviceRecord
from tests.ingest_world import STREAM_DOORS
from tests.mqtt_helpers import Client, RunningBroker, wait_until

Emission = tuple[str, dict]
"""(device id, event message)"""

FIRE_SITES = [
    ("cam_r1", (109.805, 40.607)),  # grid A1
    ("cam_r1", (109.813, 40.607)),  # grid A2, > 500 m (the merge radius) from the first
    ("cam_b2", (109.832, 40.607)),  # grid B2
]
METER_ANOMALIES = [
    # H-A1 is in the elderly watch in some tests: its meter's own "no usage" opens nothing
    # there (the watch judges absences), a tap left running does.
    ("wm_a1", "meter.water.continuous_flow"),
    ("em_a1", "meter.power.no_usage"),
    ("wm_b2", "meter.water.no_usage"),
]
DOOR_IDS = [d[0] for d in STREAM_DOORS]
KINDS = {"cam_r1": "camera", "cam_b2": "camera", "wm_a1": "water_meter", "wm_b2": "water_meter"}
KINDS |= {"em_a1": "electricity_meter"} | dict.fromkeys(DOOR_IDS, "door")


def mixed_stream(count: int, seed: int = 1) -> list[Emission]:
    """Every 20th message a smoke detection at one of three fire sites, every 50th a meter
    anomaly of a household, the rest door passages."""
    rng = random.Random(seed)
    since = datetime.now(UTC) - timedelta(hours=30)
    stream: list[Emission] = []
    for n in range(count):
        ts = messages.now()
        if n % 20 == 0:
            camera, (lon, lat) = FIRE_SITES[(n // 20) % len(FIRE_SITES)]
            position = (lon + rng.uniform(-2e-4, 2e-4), lat + rng.uniform(-2e-4, 2e-4))
            message = messages.fire(camera, ts, "fire.smoke", 0.9, position=position, accuracy_m=30)
            stream.append((camera, message))
        elif n % 50 == 7:
            meter, type_ = METER_ANOMALIES[(n // 50) % len(METER_ANOMALIES)]
            readings = (
                messages.power_readings(812.4, 0.0)
                if meter.startswith("em")
                else messages.water_readings(12.5, 0.0 if type_.endswith("no_usage") else 240.0)
            )
            stream.append((meter, messages.meter_anomaly(meter, ts, type_, since, 21600, readings)))
        else:
            door = DOOR_IDS[n % len(DOOR_IDS)]
            stream.append((door, messages.door(door, ts, "door.exit", "H-A1", "card-1")))
    return stream


def mixed_fleet(running: RunningBroker, tmp_path: Path) -> Fleet:
    """The stream's devices as a firmware_sim fleet (buffer, retry and replay as firmware)."""
    records = [DeviceRecord(id=i, kind=kind) for i, kind in KINDS.items()]
    specs = read_inventory(running.write_credentials(tmp_path / "mixed.csv", records))
    return Fleet(specs, SimSettings(mqtt_port=running.port))


def emit_at_rate(
    fleet: Fleet, stream: list[Emission], rate: float, actions: dict[int, Callable[[], None]]
) -> None:
    """Emit the stream at ``rate`` per second; run ``actions[n]`` just before message n."""
    started = time.monotonic()
    for n, (device, message) in enumerate(stream):
        if n in actions:
            actions[n]()
        fleet.emit(device, "events", message)
        pause = started + (n + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def push_listener(running: RunningBroker, client_id: str) -> Client:
    """Every worker's task topic, on a persistent session that outlives a broker restart."""
    client = running.client("wangge-admin", client_id, clean_start=False, session_expiry_s=3600)
    client.subscribe(worker_tasks_topic("+"))
    return client


def _counter(database_url: str, sql: str) -> Counter:
    with connect(database_url) as conn:
        return Counter({tuple(row[:-1]): row[-1] for row in conn.execute(sql).fetchall()})


def seen_by_phones(database_url: str, listener: Client) -> dict[str, Counter]:
    """What people see, in terms that do not depend on row ids: incidents (with how many
    events each counted), tasks, transitions, notifications, outbox rows per recipient and
    channel, family notices per address, and the distinct pushes each worker's phone received per action."""
    received: Counter = Counter()
    for message in {
        parse_task_message(m.payload).message_id: m for m in listener.messages
    }.values():
        task = parse_task_message(message.payload)
        received[(message.topic, task.action, task.category)] += 1
    return {
        "incidents": _counter(
            database_url,
            "SELECT category, grid_code, event_count, count(*) FROM incident GROUP BY 1, 2, 3",
        ),
        "tasks": _counter(
            database_url,
            "SELECT category, grid_code, assignee_id, state, count(*) FROM task GROUP BY 1, 2, 3, 4",
        ),
        "transitions": _counter(
            database_url,
            "SELECT from_state, to_state, actor, count(*) FROM task_transition GROUP BY 1, 2, 3",
        ),
        "notifications": _counter(
            database_url,
            "SELECT worker_id, role, level, count(*) FROM task_notification GROUP BY 1, 2, 3",
        ),
        "outbox": _counter(
            database_url, "SELECT channel, target, count(*) FROM outbox GROUP BY 1, 2"
        ),
        "notices": _counter(
            database_url, "SELECT channel, address, count(*) FROM watch_notice GROUP BY 1, 2"
        ),
        "received": received,
    }


def settled(database_url: str, listener: Client, event_ids: list[str]) -> Callable[[], bool]:
    """Every event stored, every push sent and received by the phones."""

    def check() -> bool:
        try:
            with connect(database_url) as conn:
                stored, pending, pushes = conn.execute(
                    "SELECT (SELECT count(*) FROM event WHERE event_id = ANY(%s)), "
                    "(SELECT count(*) FROM outbox WHERE sent_at IS NULL), "
                    "(SELECT count(*) FROM outbox WHERE channel = 'mqtt')",
                    (event_ids,),
                ).fetchone()
        except psycopg.OperationalError:  # a restarted database is not back yet
            return False
        distinct = {parse_task_message(m.payload).message_id for m in listener.messages}
        return stored == len(set(event_ids)) and pending == 0 and len(distinct) == pushes

    return check


def wait_settled(database_url: str, listener: Client, event_ids: list[str], timeout_s: float):
    assert wait_until(settled(database_url, listener, event_ids), timeout_s), (
        "stream did not settle"
    )
