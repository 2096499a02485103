"""One scope rule per role on every route that returns a grid, a worker, a count or a
person (api.scope): the department sees its department's tasks and what they involve, no
more; phone numbers are masked for roles that do not call workers; worker reads audited."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api import routes
from gis.db import connect
from tests.api_world import COMMUNITY_A, COMMUNITY_B, GRID_B1, World, login

FULL_PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
WORKERS = ["w_a1", "w_a2", "w_b1", "head_a", "cadre_a", "desk_a", "desk_street", "fire_1"]


def _phone(worker_id: str) -> str:
    return f"139{WORKERS.index(worker_id):08d}"


@pytest.fixture
def called_in(client: TestClient, world: World, database_url: str) -> World:
    """Workers have phones; the fire brigade was called (吹哨) to task b1 only; grid B1 has
    a second open task the brigade was not called to."""
    with connect(database_url) as conn:
        for worker_id in WORKERS:
            conn.execute(
                "UPDATE worker SET phone = %s WHERE id = %s", (_phone(worker_id), worker_id)
            )
        conn.execute(
            "INSERT INTO task_notification (task_id, worker_id, role, level) "
            "VALUES (%s, 'fire_1', 'department', 3)",
            (world.tasks["b1"],),
        )
        conn.execute(
            "INSERT INTO task (grid_code, community_code, state, urgency, category, title, "
            "due_at) VALUES (%s, %s, 'filed', 'normal', 'safety', '楼道堆物', now())",
            (GRID_B1, COMMUNITY_B),
        )
    return world


def _ids(response, key: str = "id") -> set:  # noqa: ANN001 - an httpx response
    assert response.status_code == 200, response.text
    body = response.json()
    return {item[key] for item in body.get("items", body.get("features", []))}


def test_department_sees_its_tasks_and_only_the_grids_and_workers_involved(
    client: TestClient, called_in: World
) -> None:
    fire = login(client, "fire")
    assert _ids(client.get("/api/tasks", headers=fire)) == {called_in.tasks["b1"]}
    layer = client.get("/api/grids", headers=fire).json()["features"]
    assert [(g["id"], g["properties"]["open_tasks"]) for g in layer] == [(GRID_B1, 1)]
    assert _ids(client.get("/api/communities", headers=fire)) == {COMMUNITY_B}
    assert _ids(client.get("/api/buildings", headers=fire)) == {called_in.buildings["b1"]}
    detail = client.get(f"/api/grids/{GRID_B1}", headers=fire).json()["properties"]
    assert (detail["open_tasks"], [t["id"] for t in detail["open_task_list"]]) == (
        1,
        [called_in.tasks["b1"]],
    )
    assert [(w["id"], w["phone"]) for w in detail["workers"]] == [("w_b1", "139****0002")]
    assert client.get(f"/api/grids/{COMMUNITY_A}001", headers=fire).status_code == 404
    workers = client.get("/api/workers", headers=fire).json()["items"]
    assert {w["id"]: w["phone"] for w in workers} == {
        "fire_1": "139****0007",
        "w_b1": "139****0002",
    }
    for personal in ("/api/households", "/api/residents", "/api/events", "/api/incidents"):
        assert _ids(client.get(personal, headers=fire)) == set(), personal
    assert _ids(client.get("/api/devices", headers=fire)) == set()


def test_department_called_to_nothing_sees_no_grids(client: TestClient, world: World) -> None:
    fire = login(client, "fire")
    assert client.get("/api/grids", headers=fire).json()["features"] == []
    assert _ids(client.get("/api/workers", headers=fire)) == {"fire_1"}


def test_phones_are_masked_for_the_planner_and_full_for_the_desk(
    client: TestClient, called_in: World, database_url: str
) -> None:
    planner = login(client, "planner")
    workers = client.get("/api/workers", headers=planner).json()["items"]
    assert len(workers) == len(WORKERS)
    assert all(re.fullmatch(r"139\*{4}[0-9]{4}", w["phone"]) for w in workers)
    grid = client.get(f"/api/grids/{GRID_B1}", headers=planner).json()["properties"]
    assert grid["workers"][0]["phone"] == "139****0002"
    desk = client.get("/api/workers", headers=login(client, "op_a")).json()["items"]
    assert {w["id"]: w["phone"] for w in desk}["w_a1"] == _phone("w_a1")
    with connect(database_url) as conn:
        reads = conn.execute(
            "SELECT actor, count(*) FROM audit_log WHERE action = 'read' "
            "AND subject_type = 'worker' GROUP BY actor ORDER BY actor"
        ).fetchall()
    assert dict(reads) == {"op_a": len(desk), "planner": len(WORKERS) + 1}


def _probe_urls(world: World) -> list[str]:
    """Every GET route of api/routes, its path parameters filled with rows of the world."""
    values = {
        "task_id": world.tasks["b1"],
        "code": GRID_B1,
        "household_id": world.households["b1"],
        "incident_id": world.incident_a1,
        "service_request_id": world.tasks["b1"],
        "name": "0" * 32 + ".png",
        "upload_id": "00000000-0000-4000-8000-000000000000",
        "plan_id": 1,
        "job_id": 1,
        "fmt": "geojson",
        "token": "0" * 43,
    }
    urls = []
    modules = [
        importlib.import_module(m.name)
        for m in pkgutil.iter_modules(routes.__path__, "api.routes.")
    ]
    for route in (route for module in modules for route in module.router.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if not route.path.startswith("/api/") or route.path == "/api/stream":
            continue
        urls.append(route.path.format(**values))
    return urls


PROBED_ROLES = [
    # username, the community whose codes it must never see (None: it may see both)
    ("planner", None),
    ("planner_a", COMMUNITY_B),  # a planner of community A plans A and sees nothing of B
    ("fire", COMMUNITY_A),  # community A (its grids, tasks, people) is none of its business
    ("op_a", COMMUNITY_B),
    ("cadre_a", COMMUNITY_B),
    ("gw_a1", COMMUNITY_B),
]


def test_every_api_route_probed_as_each_role_leaks_nothing_outside_its_scope(
    client: TestClient, called_in: World
) -> None:
    """GET every route (path parameters pointing at community B's rows) as each role and
    look for codes of a community it must not see, and for full phone numbers where the
    role gets them masked."""
    urls = _probe_urls(called_in)
    assert len(urls) >= 20
    for username, foreign in PROBED_ROLES:
        headers = login(client, username)
        masked = username in ("planner", "planner_a", "fire")
        for url in urls:
            response = client.get(url, headers=headers)
            # 403 (a role's refusal) and 404 (not in scope) leak nothing.
            assert response.status_code in (200, 403, 404), (username, url, response.text)
            if masked:
                assert not FULL_PHONE.search(response.text), (username, url)
            if foreign and response.status_code == 200:  # a 404 may echo the code asked for
                assert foreign not in response.text, (username, url)
