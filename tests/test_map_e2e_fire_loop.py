"""End to end through every real part: the simulator's roof camera sees smoke inside grid
B1 → Mosquitto → `wangge ingest` → PostGIS → the API's live stream → the operator's map,
where the marker and the task appear (how fast is printed; benchmarks measure speed);
nobody is on duty for B1, so the task waits filed; the operator dispatches it from the map
(the worker's phone topic gets the push), the grid worker accepts, handles and reports
back with a photo, and the operator's evaluation closes the task and its incident.
Screenshots of every step are kept.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from gis.db import connect
from tests.api_world import GRID_B1
from tests.browser_helpers import WAIT_MS, map_server_on
from tests.fire_world import (
    DEVICE_IDS,
    WORKER_IDS,
    b1_ready_for_a_fire,
    camera_sees_smoke,
    ingest_consuming,
)
from tests.ingest_world import scalar
from tests.task_panel import dispatch, open_task, report_handled, state_of, wait_state

pytest_plugins = ["tests.mqtt_helpers", "tests.browser_helpers"]


def _nobody_on_duty_in_b1(conn: psycopg.Connection) -> None:
    """B1's worker has left the grid and no duty desk is staffed: a fire there waits filed
    for the operators."""
    conn.execute("UPDATE grid_assignment SET valid_to = now() WHERE grid_code = %s", (GRID_B1,))
    conn.execute("UPDATE worker SET active = false WHERE role = 'duty_desk'")


def test_map_e2e_fire_to_closed_loop(database_url, tmp_path: Path, broker_factory, browser_session):
    broker = broker_factory(DEVICE_IDS, WORKER_IDS)
    with map_server_on(database_url, tmp_path / "api") as server:
        with connect(database_url) as conn:
            b1_ready_for_a_fire(conn)
            _nobody_on_duty_in_b1(conn)
        with ingest_consuming(database_url, broker, tmp_path / "ingest"):
            operator = browser_session(server.url)
            operator.login("op_street")
            page = operator.page
            page.wait_for_function(
                "document.querySelector('#live-status').dataset.state === 'live'"
            )
            known = set(page.evaluate("[...window.wangge.store.tasks.keys()]"))
            phone = broker.client("w_b1", clean_start=False, session_expiry_s=600)
            phone.subscribe("wangge/v1/workers/w_b1/tasks")

            fired = camera_sees_smoke(broker, tmp_path)
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

            open_task(operator, task_id)
            assert state_of(operator) == "filed"
            dispatch(operator, "w_b1")
            operator.screenshot("2_dispatched")
            pushed = phone.wait_for(1, timeout_s=30)
            assert any(
                f'"task_id":{task_id}'.encode() in m.payload.replace(b" ", b"") for m in pushed
            )

            worker = browser_session(server.url)
            worker.login("gw_b1")
            open_task(worker, task_id)
            worker.page.click("#task-detail [data-action=accept]")
            wait_state(worker, "accepted")
            worker.page.click("#task-detail [data-action=start]")
            wait_state(worker, "in_progress")
            report_handled(worker, "楼顶杂物焚烧，已扑灭，无人员伤亡")
            worker.screenshot("3_handled")

            wait_state(operator, "handled")
            page.click("#task-detail [data-action=evaluate][data-satisfied=true]")
            wait_state(operator, "closed")
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
