"""The live stream over a real uvicorn: a committed change reaches viewers in scope within
a second, and never reaches viewers out of scope."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI

from api.app import create_app
from gis.db import connect
from tests.api_world import GRID_A1, PASSWORD, World, api_settings
from tests.browser_helpers import serve

DELIVERY_LIMIT_S = 1.0


class SseClient:
    """Reads an SSE stream in a thread; ``messages`` gets (arrival time, event, data)."""

    def __init__(self, base_url: str, **request: object):
        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.status: int | None = None
        self._thread = threading.Thread(target=self._read, args=(base_url, request), daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "stream did not open"

    def _read(self, base_url: str, request: dict) -> None:
        try:
            with (
                httpx.Client(base_url=base_url, timeout=None) as client,
                client.stream("GET", "/api/stream", **request) as response,
            ):
                self.status = response.status_code
                self._parse(response)
        except httpx.RemoteProtocolError:
            pass  # the server shut down under an open stream: the end of the test
        finally:
            self.connected.set()

    def _parse(self, response: httpx.Response) -> None:
        event = None
        for line in response.iter_lines():
            if line == ": connected" or response.status_code != 200:
                self.connected.set()
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = orjson.loads(line.removeprefix("data: "))
                self.messages.put((time.monotonic(), event, data))

    def wait_for(self, event: str, timeout: float) -> tuple[float, dict] | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                at, kind, data = self.messages.get(timeout=left)
            except queue.Empty:
                return None
            if kind == event:
                return at, data
        return None

    def drain(self) -> list[tuple[str, dict]]:
        out = []
        while not self.messages.empty():
            _, kind, data = self.messages.get()
            out.append((kind, data))
        return out


def _token(base_url: str, username: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    return response.json()["access_token"]


@pytest.fixture
def app(database_url: str, tmp_path: Path, world: World) -> FastAPI:
    settings = api_settings(database_url, tmp_path)
    return create_app(settings.model_copy(update={"api_stream_heartbeat_s": 0.2}))


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    with serve(app) as url:
        yield url


def _bearer(base_url: str, username: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {_token(base_url, username)}"}}


def test_live_task_commit_reaches_scope_within_a_second_and_nobody_else(
    base_url: str, database_url: str
) -> None:
    op_a = SseClient(base_url, **_bearer(base_url, "op_a"))
    op_b = SseClient(base_url, **_bearer(base_url, "op_b"))
    worker_b = SseClient(base_url, **_bearer(base_url, "gw_b1"))
    with connect(database_url) as conn:
        task_id = conn.execute(
            "INSERT INTO task (grid_code, community_code, state, urgency, category, title) "
            "VALUES (%s, left(%s, 12), 'reported', 'urgent', 'fire', '新火情') RETURNING id",
            (GRID_A1, GRID_A1),
        ).fetchone()[0]
        conn.commit()
        committed = time.monotonic()
    received = op_a.wait_for("task", timeout=3)
    assert received is not None, "operator A got no task message"
    at, data = received
    assert at - committed < DELIVERY_LIMIT_S
    assert (data["id"], data["state"], data["grid_code"]) == (task_id, "reported", GRID_A1)
    grid = op_a.wait_for("grid", timeout=1)
    assert grid is not None and grid[1]["grid_code"] == GRID_A1
    assert grid[1]["state"] == "urgent"
    assert grid[1]["overdue_tasks"] == 0  # no deadline yet
    time.sleep(0.5)
    assert op_b.drain() == [] and worker_b.drain() == []


def test_live_event_and_incident_reach_the_grid_worker(
    base_url: str, database_url: str, world: World
) -> None:
    worker = SseClient(base_url, **_bearer(base_url, "gw_a1"))
    outsider = SseClient(base_url, **_bearer(base_url, "gw_b1"))
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO event (event_id, device_id, type, ts, geom, grid_code, payload) "
            "VALUES ('e-live', 'cam_a1', 'fire.flame', now(), 'SRID=4326;POINT(109.805 40.61)', "
            "%s, '{}')",
            (GRID_A1,),
        )
        conn.execute(
            "UPDATE incident SET event_count = event_count + 1 WHERE id = %s",
            (world.incident_a1,),
        )
    event = worker.wait_for("event", timeout=3)
    assert event is not None
    assert (event[1]["type"], event[1]["lon"]) == ("fire.flame", pytest.approx(109.805))
    incident = worker.wait_for("incident", timeout=1)
    assert incident is not None and incident[1]["id"] == world.incident_a1
    time.sleep(0.3)
    assert outsider.drain() == []


def test_live_device_online_change_streams_but_heartbeats_do_not(
    base_url: str, database_url: str
) -> None:
    worker = SseClient(base_url, **_bearer(base_url, "gw_a1"))
    outsider = SseClient(base_url, **_bearer(base_url, "gw_b1"))
    with connect(database_url) as conn:  # heartbeats: still online, seen again
        for _ in range(3):
            conn.execute("UPDATE device SET online = true, last_seen = now() WHERE id = 'cam_a1'")
            conn.commit()
    assert worker.wait_for("device", timeout=0.5) is None
    with connect(database_url) as conn:  # the last will: offline
        conn.execute("UPDATE device SET online = false, last_seen = now() WHERE id = 'cam_a1'")
    device = worker.wait_for("device", timeout=3)
    assert device is not None
    assert (device[1]["id"], device[1]["online"], device[1]["grid_code"]) == (
        "cam_a1", False, GRID_A1,
    )  # fmt: skip
    assert device[1]["last_seen"] is not None
    time.sleep(0.3)
    assert [kind for kind, _ in worker.drain()] == []
    assert outsider.drain() == []


def test_live_stream_needs_a_login_and_accepts_the_cookie(base_url: str) -> None:
    anonymous = SseClient(base_url)
    assert anonymous.status == 401
    cookie = SseClient(base_url, headers={"Cookie": f"wangge_token={_token(base_url, 'admin')}"})
    assert cookie.status == 200


def test_live_closed_stream_is_unsubscribed(base_url: str, app: FastAPI) -> None:
    hub = app.state.hub
    with (
        httpx.Client(base_url=base_url, timeout=5) as client,
        client.stream("GET", "/api/stream", **_bearer(base_url, "admin")) as response,
    ):
        lines = response.iter_lines()  # kept: a dropped iterator would close the response
        next(lines)
        assert len(hub.subscribers) == 1
    deadline = time.monotonic() + 3
    while hub.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hub.subscribers) == 0
