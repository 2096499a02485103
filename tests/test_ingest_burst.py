"""A burst of 100,000 events from 10,000 real device connections (firmware_sim): every one
stored exactly once by two workers — counted, not sampled."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from firmware_sim import messages
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from gis.db import connect
from ingest.broker_inventory import DeviceRecord
from ingest.metrics import read_all
from tests.ingest_fixtures import Setup
from tests.ingest_world import WORKER_IDS, seed_world, stored_once, wait_subscribed
from tests.mqtt_helpers import wait_until
from tests.prerequisites import unavailable

pytest_plugins = ["tests.mqtt_helpers"]

DEVICES = 10_000
PER_DEVICE = 10
HOUSEHOLDS = 100


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        unavailable(f"needs {needed} open files, the hard limit is {hard}")
    if soft < needed:  # the broker, started from this process, inherits it
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _seed_doors(database_url: str, device_ids: list[str]) -> list[str]:
    with connect(database_url) as conn:
        building = conn.execute("SELECT id FROM building ORDER BY id LIMIT 1").fetchone()[0]
        codes = [f"H-BURST-{i:03d}" for i in range(HOUSEHOLDS)]
        conn.cursor().executemany(
            "INSERT INTO household (code, building_id, unit, room, source) "
            "VALUES (%s, %s, 2, %s, 't')",
            [(code, building, code[-3:]) for code in codes],
        )
        with conn.cursor().copy("COPY device (id, kind, geom, source) FROM STDIN") as copy:
            for device_id in device_ids:
                copy.write_row((device_id, "door", "SRID=4326;POINT(109.805 40.61)", "t"))
    return codes


@pytest.mark.slow
# Its own waits add up past the default: connect 120 s, drain 180 s, store 180 s, processes 90 s.
@pytest.mark.timeout(1200)
def test_burst_of_100k_events_from_10k_devices_is_stored_exactly_once(
    database_url: str, broker_factory, tmp_path: Path
) -> None:
    _raise_open_files(DEVICES + 1000)  # per process: the fleet here, the broker there
    device_ids = [f"burst-{i:05d}" for i in range(DEVICES)]
    world = seed_world(database_url)
    households = _seed_doors(database_url, device_ids)
    running = broker_factory([*device_ids, "cam_t1"], WORKER_IDS)
    setup = Setup(database_url, running, tmp_path / "run", world)
    records = [DeviceRecord(id=i, kind="door") for i in device_ids]
    specs = read_inventory(running.write_credentials(tmp_path / "burst.csv", records))
    settings = SimSettings(mqtt_port=running.port, sim_heartbeat_s=3600)
    event_ids = []
    with setup.ingest(workers=2):
        wait_subscribed(database_url, running)
        with Fleet(specs, settings) as fleet:
            assert fleet.wait_connected(120)
            started = time.monotonic()
            for round_ in range(PER_DEVICE):
                for n, device_id in enumerate(device_ids):
                    household = households[(n + round_) % HOUSEHOLDS]
                    message = messages.door(device_id, messages.now(), "door.exit", household)
                    fleet.emit(device_id, "events", message)
                    event_ids.append(message["event_id"])
            assert fleet.wait_drained(180), "the broker did not acknowledge every event"
            published_s = time.monotonic() - started
        assert wait_until(lambda: stored_once(database_url, event_ids)[0] == 0, 180)
        stored_s = time.monotonic() - started
        lost, duplicated = stored_once(database_url, event_ids)
        redelivered = sum(m["counts"].get("duplicates", 0) for m in read_all(setup.run_dir))
    rows = setup.scalar("SELECT count(*) FROM event")
    print(
        f"burst: {len(event_ids)} events from {DEVICES} devices, published in {published_s:.1f} s, "
        f"stored in {stored_s:.1f} s ({len(event_ids) / stored_s:.0f}/s); lost {lost}, "
        f"duplicated {duplicated}, redeliveries absorbed {redelivered}"
    )
    assert len(event_ids) == DEVICES * PER_DEVICE == rows
    assert lost == 0 and duplicated == 0
