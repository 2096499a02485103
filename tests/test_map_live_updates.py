"""Live updates on the operators' map, without a reload: a committed task shows as a marker
and a list row, and recolours its grid; a lost live source makes the page reload its data.
How fast is printed, not asserted (benchmarks/map.py measures it)."""

from __future__ import annotations

import time

import httpx

from gis.db import connect
from tests.api_world import GRID_B1, PASSWORD
from tests.browser_helpers import WAIT_MS, MapServer, hue_degrees, pixel_rgb, screen_point
from tests.mqtt_helpers import wait_until

pytest_plugins = ["tests.browser_helpers"]

B1_SAMPLE = (109.825, 40.616)
FIRE_POINT = (109.835, 40.605)


def _new_fire_task(database_url: str) -> tuple[int, float]:
    """An urgent fire incident and its task in grid B1, committed; (task id, commit time)."""
    with connect(database_url) as conn:
        incident = conn.execute(
            "INSERT INTO incident (type, category, severity, merge_key, grid_code, "
            "community_code, geom, device_ids, first_seen, last_seen) VALUES ('fire.smoke', "
            "'fire', 'urgent', 'k-live', %s, left(%s, 12), "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326), '{}', now(), now()) RETURNING id",
            (GRID_B1, GRID_B1, *FIRE_POINT),
        ).fetchone()[0]
        task = conn.execute(
            "INSERT INTO task (incident_id, grid_code, community_code, state, urgency, "
            "category, title, due_at) VALUES (%s, %s, left(%s, 12), 'dispatched', 'urgent', "
            "'fire', '实时烟雾报警', now() + interval '30 minutes') RETURNING id",
            (incident, GRID_B1, GRID_B1),
        ).fetchone()[0]
        conn.commit()
        return task, time.monotonic()


def _seconds_until(page, predicate: str, arg: object, started: float) -> float:
    page.wait_for_function(predicate, arg=arg, timeout=WAIT_MS)
    return time.monotonic() - started


def test_map_live_task_marker_row_and_grid_without_a_reload(map_server: MapServer, browser_session):
    with connect(map_server.database_url) as conn:  # B1 starts quiet
        conn.execute(
            "UPDATE task SET state = 'closed' WHERE id = %s", (map_server.world.tasks["b1"],)
        )
    session = browser_session(map_server.url)
    session.login("op_street")
    page = session.page
    page.wait_for_function("document.querySelector('#live-status').dataset.state === 'live'")
    quiet = hue_degrees(pixel_rgb(session, *screen_point(session, *B1_SAMPLE)))
    assert 90 < quiet < 160

    task_id, committed = _new_fire_task(map_server.database_url)
    marker_s = _seconds_until(page, "id => window.wangge.markers.has(id)", task_id, committed)
    row_s = _seconds_until(
        page, "id => !!document.querySelector(`#task-list [data-id='${id}']`)", task_id, committed
    )
    grid_s = _seconds_until(
        page,
        "code => window.wangge.grids.displayState("
        "window.wangge.grids.byCode.get(code).feature.properties) === 'urgent'",
        GRID_B1,
        committed,
    )
    session.screenshot("fire_appeared")
    print(f"live: marker {marker_s:.2f} s, row {row_s:.2f} s, grid {grid_s:.2f} s after commit")
    red = hue_degrees(pixel_rgb(session, *screen_point(session, *B1_SAMPLE)))
    assert red < 12 or red > 350, red
    assert page.locator(".toast.urgent").first.inner_text() == "新紧急工单：实时烟雾报警"

    # Someone else moves the task: the operator's list shows the new state without a reload.
    with httpx.Client(base_url=map_server.url) as client:
        token = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        started = time.monotonic()
        assert client.post(f"/api/tasks/{task_id}/accept", headers=headers).status_code == 200
    accepted_s = _seconds_until(
        page,
        "id => document.querySelector(`#task-list [data-id='${id}'] .state`)?.textContent === '签收'",
        task_id,
        started,
    )
    print(f"live: accepted state shown {accepted_s:.2f} s after the API answered")
    assert session.foreign_requests() == []
    assert session.console_errors == []


def test_map_reloads_after_the_live_source_was_lost(map_server: MapServer, browser_session):
    session = browser_session(map_server.url)
    session.login("op_street")
    page = session.page
    page.wait_for_function("document.querySelector('#live-status').dataset.state === 'live'")
    hub = map_server.app.state.hub
    with connect(map_server.database_url, autocommit=True) as conn:
        # The API's LISTEN connection dies; a task committed meanwhile sends no message.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'LISTEN%%'"
        )
    assert wait_until(lambda: not hub.listening.is_set(), timeout_s=30), (
        "the hub did not notice its lost connection"
    )
    task_id, _ = _new_fire_task(map_server.database_url)
    # The hub reconnects and tells every page to resync; the page reloads its tasks.
    page.wait_for_function("id => window.wangge.markers.has(id)", arg=task_id, timeout=WAIT_MS)
    assert page.evaluate("window.wangge.stats.resyncs") == 1
    assert session.console_errors == []
