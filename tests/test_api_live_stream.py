"""The live stream over a real uvicorn: a committed change reaches viewers in scope, and
never reaches viewers out of scope.

Absence is proven with a FENCE, not a pause: after the change a viewer must not see, a
change in that viewer's own scope is committed. Every notification passes through the one
LISTEN connection in commit order and into each viewer's queue in that order, so once the
fence arrives, anything the earlier change would have sent has arrived before it.
How fast a change arrives is printed, not asserted (benchmarks/api.py measures it)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI

from api.app import create_app
from gis.db import connect
from tests.api_world import GRID_A1, GRID_B1, PASSWORD, World, api_settings
from tests.browser_helpers import serve
from tests.mqtt_helpers import wait_until

WAIT_S = 30.0
"""A generous deadline for a message that must come; it returns as soon as it does."""


class SseClient:
    """Reads an SSE stream in a thread; ``messages`` gets (arrival time, event, data)."""

    def __init__(self, base_url: str, **request: object):
        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.status: int | None = None
        self._thread = threading.Thread(target=self._read, args=(base_url, request), daemon=True)
        self._thread.start()
        assert self.connected.wait(WAIT_S), "stream did not open"

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

    def until(self, event: str, fence: Callable[[dict], bool]) -> list[tuple[str, dict]]:
        """Every message up to and including the first ``event`` that ``fence`` accepts."""
        seen = []
        deadline = time.monotonic() + WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                _, kind, data = self.messages.get(timeout=left)
            except queue.Empty:
                break
            seen.append((kind, data))
            if kind == event and fence(data):
                return seen
        raise AssertionError(f"no fence {event} within {WAIT_S} s; got {seen}")


def _fence_task_in_b1(database_url: str) -> int:
    """A task committed in grid B1: what the viewers of community B see next."""
    with connect(database_url) as conn:
        return conn.execute(
            "INSERT INTO task (grid_code, community_code, state, urgency, category, title) "
            "VALUES (%s, left(%s, 12), 'reported', 'normal', 'other', '栅栏') RETURNING id",
            (GRID_B1, GRID_B1),
        ).fetchone()[0]


def _is_task(task_id: int) -> Callable[[dict], bool]:
    return lambda data: data.get("id") == task_id


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


def test_live_task_commit_reaches_scope_and_nobody_else(base_url: str, database_url: str) -> None:
    op_a = SseClient(base_url, **_bearer(base_url, "op_a"))
    op_b = SseClient(base_url, **_bearer(base_url, "op_b"))
    worker_b = SseClient(base_url, **_bearer(base_url, "gw_b1"))
    with connect(database_url) as conn:
        task_id = conn.execute(
            "INSERT INTO task (grid_code, community_code, state, urgency, category, title) "
            "VALUES (%s, left(%s, 12), 'reported', 'urgent', 'fire', '新火情') RETURNING id",
            (GRID_A1, GRID_A1),
        ).fetchone()[0]
        committing = time.monotonic()
        conn.commit()
    received = op_a.wait_for("task", timeout=WAIT_S)
    assert received is not None, "operator A got no task message"
    at, data = received
    print(f"live: task delivered {at - committing:.3f} s after its commit began")
    assert (data["id"], data["state"], data["grid_code"]) == (task_id, "reported", GRID_A1)
    grid = op_a.wait_for("grid", timeout=WAIT_S)
    assert grid is not None and grid[1]["grid_code"] == GRID_A1
    assert grid[1]["state"] == "urgent"
    assert grid[1]["overdue_tasks"] == 0  # no deadline yet
    fence = _fence_task_in_b1(database_url)
    for viewer in (op_b, worker_b):
        seen = viewer.until("task", _is_task(fence))
        assert [(kind, data.get("id")) for kind, data in seen] == [("task", fence)], seen


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
    event = worker.wait_for("event", timeout=WAIT_S)
    assert event is not None
    assert (event[1]["type"], event[1]["lon"]) == ("fire.flame", pytest.approx(109.805))
    incident = worker.wait_for("incident", timeout=WAIT_S)
    assert incident is not None and incident[1]["id"] == world.incident_a1
    fence = _fence_task_in_b1(database_url)
    seen = outsider.until("task", _is_task(fence))
    assert [(kind, data.get("id")) for kind, data in seen] == [("task", fence)], seen


def test_live_device_online_change_streams_but_heartbeats_do_not(
    base_url: str, database_url: str
) -> None:
    worker = SseClient(base_url, **_bearer(base_url, "gw_a1"))
    outsider = SseClient(base_url, **_bearer(base_url, "gw_b1"))

    def heartbeats(online: bool) -> None:  # still in the same state, seen again
        with connect(database_url) as conn:
            for _ in range(3):
                conn.execute(
                    "UPDATE device SET online = %s, last_seen = now() WHERE id = 'cam_a1'",
                    (online,),
                )
                conn.commit()

    heartbeats(online=True)
    with connect(database_url) as conn:  # the last will: offline
        conn.execute("UPDATE device SET online = false, last_seen = now() WHERE id = 'cam_a1'")
    heartbeats(online=False)
    with connect(database_url) as conn:  # the fence: back online
        conn.execute("UPDATE device SET online = true, last_seen = now() WHERE id = 'cam_a1'")
    seen = worker.until("device", lambda data: data["online"])
    assert [(kind, data["id"], data["online"]) for kind, data in seen] == [
        ("device", "cam_a1", False),
        ("device", "cam_a1", True),
    ], seen  # the heartbeats before and after the offline change streamed nothing
    offline = seen[0][1]
    assert offline["grid_code"] == GRID_A1 and offline["last_seen"] is not None
    fence = _fence_task_in_b1(database_url)
    seen = outsider.until("task", _is_task(fence))
    assert [(kind, data.get("id")) for kind, data in seen] == [("task", fence)], seen


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
    assert wait_until(lambda: not hub.subscribers, timeout_s=WAIT_S), hub.subscribers
