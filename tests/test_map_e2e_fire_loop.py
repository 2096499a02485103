"""End to end through every real part: the simulator's roof camera sees smoke inside grid
B1 → Mosquitto → `wangge ingest` → PostGIS → the API's live stream → the operator's map,
where the marker and the task appear (how fast is printed; benchmarks measure speed);
nobody is on duty for B1, so the task waits filed; the operator dispatches it from the map
(the worker's phone topic gets the push), the grid worker accepts, handles and reports
back with a photo, and the operator's evaluation closes the task and its incident.
Screenshots of every step are kept.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from firmware_sim import scenarios
from firmware_sim.fleet import Fleet
from firmware_sim.inventory import read_inventory
from firmware_sim.settings import SimSettings
from gis.db import connect
from ingest.broker_inventory import DeviceRecord
from tests.api_world import GRID_B1, USERS
from tests.browser_helpers import WAIT_MS, BrowserSession, map_server_on, png_bytes
from tests.ingest_world import ingest_env, run_ingest, scalar, wait_subscribed

pytest_plugins = ["tests.mqtt_helpers", "tests.browser_helpers"]

FIRE = (109.8262, 40.6135)  # inside B1
CAMERA = DeviceRecord(id="cam_b1", kind="camera", model="roof", lon=109.8255, lat=40.6128,
                      height_m=30.0, range_m=800.0)  # fmt: skip
WORKER_IDS = sorted({worker for *_, worker in USERS.values() if worker} | {"head_a", "desk_a"})


def _nobody_on_duty_in_b1(database_url: str) -> None:
    """B1's worker has left the grid and no duty desk is staffed: a fire there waits filed
    for the operators; B1's old task is finished, so the grid starts quiet."""
    with connect(database_url) as conn:
        conn.execute("UPDATE grid_assignment SET valid_to = now() WHERE grid_code = %s", (GRID_B1,))
        conn.execute("UPDATE worker SET active = false WHERE role = 'duty_desk'")
        conn.execute("UPDATE task SET state = 'closed' WHERE grid_code = %s", (GRID_B1,))
        conn.execute(
            "INSERT INTO device (id, kind, model, geom, height_m, range_m, source) "
            "VALUES (%s, 'camera', 'roof', ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, 't')",
            (CAMERA.id, CAMERA.lon, CAMERA.lat, CAMERA.height_m, CAMERA.range_m),
        )


def _open(session: BrowserSession, task_id: int) -> None:
    session.page.click(f"#task-list [data-id='{task_id}']")
    session.page.wait_for_selector(f"#task-detail .facts >> text=#{task_id}")


def _wait_state(session: BrowserSession, state: str, timeout_ms: int = WAIT_MS) -> None:
    session.page.wait_for_function(
        "s => document.querySelector('#task-detail .chip.state')?.dataset.state === s",
        arg=state,
        timeout=timeout_ms,
    )


def test_map_e2e_fire_to_closed_loop(database_url, tmp_path: Path, broker_factory, browser_session):
    broker = broker_factory([CAMERA.id, "meter_b1", "cam_a1"], WORKER_IDS)
    with map_server_on(database_url, tmp_path / "api") as server:
        _nobody_on_duty_in_b1(database_url)
        env = ingest_env(database_url, broker, tmp_path / "ingest")
        with run_ingest(env, tmp_path / "ingest"):
            wait_subscribed(database_url, broker, probe_device="meter_b1")
            operator = browser_session(server.url)
            operator.login("op_street")
            page = operator.page
            page.wait_for_function(
                "document.querySelector('#live-status').dataset.state === 'live'"
            )
            known = set(page.evaluate("[...window.wangge.store.tasks.keys()]"))
            phone = broker.client("w_b1", clean_start=False, session_expiry_s=600)
            phone.subscribe("wangge/v1/workers/w_b1/tasks")

            specs = read_inventory(broker.write_credentials(tmp_path / "devices.csv", [CAMERA]))
            with Fleet(specs, SimSettings(mqtt_port=broker.port)) as fleet:
                assert fleet.wait_connected(30)
                fired = time.monotonic()
                assert scenarios.fire(fleet, *FIRE, rng=random.Random(7)) == [CAMERA.id]
                assert fleet.wait_drained(30)
            task_id = page.wait_for_function(
                """known => {
                    const w = window.wangge;
                    const fresh = [...w.store.tasks.values()].find((t) => !known.includes(t.id));
                    return fresh && w.markers.has(fresh.id)
                        && document.querySelector(`#task-list [data-id='${fresh.id}']`)
                        && fresh.id;
                }""",
                arg=sorted(known),
                timeout=WAIT_MS,
            ).json_value()
            appeared_s = time.monotonic() - fired
            operator.screenshot("1_fire_appeared")
            print(f"fire loop: the task appeared on the map {appeared_s:.2f} s after the fire")
            assert (
                scalar(database_url, "SELECT grid_code FROM task WHERE id = %s", task_id) == GRID_B1
            )
            assert (
                page.evaluate(
                    "c => window.wangge.grids.displayState("
                    "window.wangge.grids.byCode.get(c).feature.properties)",
                    GRID_B1,
                )
                == "urgent"
            )

            _open(operator, task_id)
            assert operator.page.get_attribute("#task-detail .chip.state", "data-state") == "filed"
            page.click("#task-detail [data-action=dispatch]")
            select = "#task-detail [data-form=dispatch] [data-field=worker]"
            page.wait_for_selector(f"{select} option[value=w_b1]", state="attached")
            page.select_option(select, "w_b1")
            page.click("#task-detail [data-submit=dispatch]")
            _wait_state(operator, "dispatched")
            operator.screenshot("2_dispatched")
            pushed = phone.wait_for(1, timeout_s=30)
            assert any(
                f'"task_id":{task_id}'.encode() in m.payload.replace(b" ", b"") for m in pushed
            )

            worker = browser_session(server.url)
            worker.login("gw_b1")
            _open(worker, task_id)
            worker.page.click("#task-detail [data-action=accept]")
            _wait_state(worker, "accepted")
            worker.page.click("#task-detail [data-action=start]")
            _wait_state(worker, "in_progress")
            worker.page.click("#task-detail [data-action=handled]")
            form = "#task-detail [data-form=handled]"
            worker.page.fill(f"{form} [data-field=note]", "楼顶杂物焚烧，已扑灭，无人员伤亡")
            worker.page.set_input_files(
                f"{form} [data-field=photo]",
                files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes()}],
            )
            worker.page.click(f"{form} [data-submit=handled]")
            _wait_state(worker, "handled")
            worker.screenshot("3_handled")

            _wait_state(operator, "handled")
            page.click("#task-detail [data-action=evaluate][data-satisfied=true]")
            _wait_state(operator, "closed")
            page.wait_for_function(
                "c => window.wangge.grids.displayState("
                "window.wangge.grids.byCode.get(c).feature.properties) === 'ok'",
                arg=GRID_B1,
                timeout=WAIT_MS,
            )
            operator.screenshot("4_closed")
            incident = scalar(database_url, "SELECT incident_id FROM task WHERE id = %s", task_id)
            assert (
                scalar(database_url, "SELECT status FROM incident WHERE id = %s", incident)
                == "closed"
            )
            for session in (operator, worker):
                assert session.foreign_requests() == []
                assert session.console_errors == []
