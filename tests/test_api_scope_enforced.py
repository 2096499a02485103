"""Scope is enforced in SQL: real HTTP requests against a real database, per role."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.live import live_filter
from api.users import User
from gis.db import connect
from tests.api_world import (
    COMMUNITY_A,
    COMMUNITY_B,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    World,
    login,
)

FULL_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx]|(?<![0-9])[0-9]{15}(?![0-9])")


def _ids(response) -> set:  # noqa: ANN001 - an httpx response
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_scope_grid_worker_reads_only_households_and_residents_of_own_grid(
    client: TestClient, world: World
) -> None:
    headers = login(client, "gw_a1")
    assert _ids(client.get("/api/households", headers=headers)) == {world.households["a1"]}
    assert _ids(client.get("/api/residents", headers=headers)) == {world.residents["a1"]}
    # Same community, other grid; and another community: both invisible.
    for key in ("a2", "b1"):
        household = client.get(f"/api/households/{world.households[key]}", headers=headers)
        assert household.status_code == 404
        by_filter = client.get(
            "/api/residents", params={"household_id": world.households[key]}, headers=headers
        )
        assert _ids(by_filter) == set()
    assert _ids(client.get(f"/api/residents?grid_code={GRID_B1}", headers=headers)) == set()


def test_scope_expired_assignment_gives_no_access(client: TestClient, world: World) -> None:
    # w_b1 held grid A1 in 2025 only.
    headers = login(client, "gw_b1")
    assert _ids(client.get("/api/households", headers=headers)) == {world.households["b1"]}
    grids = client.get("/api/grids", headers=headers).json()["features"]
    assert [g["id"] for g in grids] == [GRID_B1]


def test_scope_operator_of_one_community_cannot_see_anothers_tasks(
    client: TestClient, world: World
) -> None:
    a = login(client, "op_a")
    b = login(client, "op_b")
    assert _ids(client.get("/api/tasks", headers=a)) == {world.tasks["a1"], world.tasks["a2"]}
    assert _ids(client.get("/api/tasks", headers=b)) == {world.tasks["b1"]}
    assert client.get(f"/api/tasks/{world.tasks['b1']}", headers=a).status_code == 404
    assert client.get(f"/api/tasks/{world.tasks['a1']}", headers=b).status_code == 404
    # Filters cannot widen the scope.
    assert _ids(client.get(f"/api/tasks?grid_code={GRID_B1}", headers=a)) == set()
    open311 = client.get("/api/open311/v2/requests.json", headers=a).json()
    assert {r["service_request_id"] for r in open311} == {
        str(world.tasks["a1"]),
        str(world.tasks["a2"]),
    }
    one = client.get(f"/api/open311/v2/requests/{world.tasks['b1']}.json", headers=a)
    assert one.status_code == 404


def test_scope_street_operator_sees_both_communities(client: TestClient, world: World) -> None:
    headers = login(client, "op_street")
    assert _ids(client.get("/api/tasks", headers=headers)) == set(world.tasks.values())


def test_scope_layers_devices_events_workers_follow_the_area(
    client: TestClient, world: World
) -> None:
    a = login(client, "op_a")
    b = login(client, "op_b")
    grid_ids = {f["id"] for f in client.get("/api/grids", headers=a).json()["features"]}
    assert grid_ids == {GRID_A1, GRID_A2}
    devices = client.get("/api/devices", headers=b).json()["features"]
    assert [(d["id"], d["properties"]["online"]) for d in devices] == [("meter_b1", False)]
    assert _ids(client.get("/api/events", headers=b)) == set()
    assert len(_ids(client.get("/api/events", headers=a))) == 1
    assert _ids(client.get("/api/incidents", headers=b)) == set()
    workers_b = _ids(client.get("/api/workers", headers=b))
    assert "w_b1" in workers_b and "w_a1" not in workers_b
    assert client.get(f"/api/incidents/{world.incident_a1}", headers=b).status_code == 404


def test_scope_planner_sees_the_map_but_no_personal_records(
    client: TestClient, world: World
) -> None:
    headers = login(client, "planner")
    assert len(client.get("/api/grids", headers=headers).json()["features"]) == 3
    assert _ids(client.get("/api/residents", headers=headers)) == set()
    assert _ids(client.get("/api/households", headers=headers)) == set()


def test_scope_planner_sees_and_plans_only_its_area(client: TestClient, world: World) -> None:
    street = login(client, "planner")
    plan_b = client.post(
        "/api/plans", json={"community_code": COMMUNITY_B, "name": "乙社区"}, headers=street
    ).json()["id"]
    planner_a = login(client, "planner_a")
    grids = client.get("/api/grids", headers=planner_a).json()["features"]
    assert {g["properties"]["code"] for g in grids} == {GRID_A1, GRID_A2}
    assert client.get(f"/api/grids/{GRID_B1}", headers=planner_a).status_code == 404
    assert client.get(f"/api/grids/{GRID_A1}", headers=planner_a).status_code == 200
    workers = _ids(client.get("/api/workers", headers=planner_a))
    assert "w_a1" in workers and "w_b1" not in workers
    assert _ids(client.get("/api/tasks", headers=planner_a)) == {
        world.tasks[k] for k in ("a1", "a2")
    }

    assert client.get(f"/api/plans/{plan_b}", headers=planner_a).status_code == 404
    assert plan_b not in {p["id"] for p in client.get("/api/plans", headers=planner_a).json()}
    listed_b = client.get(f"/api/plans?community_code={COMMUNITY_B}", headers=planner_a)
    assert listed_b.status_code == 404
    applied = client.post(
        f"/api/plans/{plan_b}/apply", json={"valid_from": "2026-06-01"}, headers=planner_a
    )
    assert applied.status_code == 404
    refused = client.post(
        "/api/plans", json={"community_code": COMMUNITY_B, "name": "x"}, headers=planner_a
    )
    assert refused.status_code == 404
    plan_a = client.post(
        "/api/plans", json={"community_code": COMMUNITY_A, "name": "甲社区"}, headers=planner_a
    ).json()["id"]
    taking_b = client.post(
        f"/api/plans/{plan_a}/apply",
        json={
            "valid_from": "2026-06-01",
            "assignments": {GRID_A1: [{"worker_id": "w_b1", "role": "full_time"}]},
        },
        headers=planner_a,
    )
    assert taking_b.status_code == 422 and "w_b1" in taking_b.json()["detail"]


def test_scope_planner_without_an_area_sees_nothing(client: TestClient, world: World) -> None:
    headers = login(client, "planner_nowhere")
    assert client.get("/api/grids", headers=headers).json()["features"] == []
    assert _ids(client.get("/api/workers", headers=headers)) == set()
    assert _ids(client.get("/api/tasks", headers=headers)) == set()


def test_scope_department_sees_only_tasks_it_was_called_to(
    client: TestClient, world: World
) -> None:
    headers = login(client, "fire")
    assert _ids(client.get("/api/tasks", headers=headers)) == set()
    with connect(client.app.state.settings.database_url) as conn:
        conn.execute(
            "INSERT INTO task_notification (task_id, worker_id, role, level) "
            "VALUES (%s, 'fire_1', 'department', 3)",
            (world.tasks["b1"],),
        )
    assert _ids(client.get("/api/tasks", headers=headers)) == {world.tasks["b1"]}


def test_resident_id_numbers_are_masked_in_every_response(client: TestClient, world: World) -> None:
    headers = login(client, "admin")
    responses = [
        client.get("/api/residents", headers=headers),
        client.get("/api/households", headers=headers),
        client.get(f"/api/households/{world.households['a1']}", headers=headers),
    ]
    residents = responses[0].json()["items"] + responses[2].json()["residents"]
    assert len(residents) == 4
    assert all("*" in r["id_number"] for r in residents)
    for response in responses:
        assert response.status_code == 200
        assert not FULL_ID_NUMBER.search(response.text)
        assert "hmac" not in response.text


def test_every_read_of_resident_records_is_audited(
    client: TestClient, world: World, database_url: str
) -> None:
    headers = login(client, "gw_a1")
    client.get("/api/residents", headers=headers)
    client.get(f"/api/households/{world.households['a1']}", headers=headers)
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subject_type, subject_id FROM audit_log "
            "WHERE actor = 'gw_a1' AND action = 'read' ORDER BY id"
        ).fetchall()
    resident = str(world.residents["a1"])
    household = str(world.households["a1"])
    assert rows == [("resident", resident), ("household", household), ("resident", resident)]


def test_pagination_pages_through_without_overlap(client: TestClient, world: World) -> None:
    headers = login(client, "admin")
    first = client.get("/api/tasks?limit=2", headers=headers).json()
    second = client.get("/api/tasks?limit=2&offset=2", headers=headers).json()
    assert (first["total"], second["total"]) == (3, 3)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    seen = {t["id"] for t in first["items"]} | {t["id"] for t in second["items"]}
    assert seen == set(world.tasks.values())
    assert client.get("/api/tasks?limit=501", headers=headers).status_code == 422


def test_task_filters_narrow_the_list(client: TestClient, world: World) -> None:
    headers = login(client, "admin")
    filed = client.get("/api/tasks", params={"state": "filed"}, headers=headers)
    assert _ids(filed) == {world.tasks["a2"]}
    two_states = client.get(
        "/api/tasks", params=[("state", "filed"), ("state", "dispatched")], headers=headers
    )
    assert len(_ids(two_states)) == 3
    by_grid = client.get("/api/tasks", params={"grid_code": GRID_A2}, headers=headers)
    assert _ids(by_grid) == {world.tasks["a2"]}
    assert client.get("/api/tasks?state=bogus", headers=headers).status_code == 422


def test_scope_planner_live_map_carries_only_its_area() -> None:
    planner_a = User(1, "planner_a", "planner", "community", COMMUNITY_A, None, "规划", "zh-CN")
    nowhere = User(2, "planner_nowhere", "planner", None, None, None, "规划", "zh-CN")
    in_a, in_b = {"kind": "task", "grid_code": GRID_A1}, {"kind": "task", "grid_code": GRID_B1}
    area = live_filter(None, planner_a)  # type: ignore[arg-type] - a planner needs no query
    assert area.allows(in_a) and not area.allows(in_b)
    assert not live_filter(None, nowhere).allows(in_a)  # type: ignore[arg-type]
