"""/api/plans: drafts, optimistic concurrency, validation, apply, roles, history."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from gis.db import connect
from tests.api_world import COMMUNITY_A, GRID_A1, GRID_A2, login
from tests.plan_world import CUT_LON, EAST_POINT, GRID_A3, resplit


def _collection(grids) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(g.geom), "properties": {"code": g.code}}
            for g in grids
        ],
    }


def _draft(client: TestClient, headers: dict, grids=None) -> int:
    body = {"community_code": COMMUNITY_A, "name": "重新划分"}
    if grids is not None:
        body["grids"] = _collection(grids)
    response = client.post("/api/plans", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_plan_lifecycle_and_apply(client: TestClient, database_url: str) -> None:
    planner = login(client, "planner")
    from_current = _draft(client, planner)
    detail = client.get(f"/api/plans/{from_current}", headers=planner).json()
    assert [f["properties"]["code"] for f in detail["grids"]["features"]] == [GRID_A1, GRID_A2]
    assert [f["properties"]["households"] for f in detail["grids"]["features"]] == [1, 1]

    plan_id = _draft(client, planner)
    new_grids = _collection(resplit())
    assert client.put(
        f"/api/plans/{plan_id}", json={"version": 1, "grids": new_grids}, headers=planner
    ).json() == {"id": plan_id, "version": 2}
    stale = client.put(
        f"/api/plans/{plan_id}", json={"version": 1, "grids": new_grids}, headers=planner
    )
    assert stale.status_code == 409 and "version 2" in stale.json()["detail"]

    listed = client.get(f"/api/plans?community_code={COMMUNITY_A}", headers=planner).json()
    assert [p["id"] for p in listed] == [plan_id, from_current]
    assert client.post(f"/api/plans/{plan_id}/validate", headers=planner).json() == {
        "valid": True,
        "problems": [],
    }

    applied = client.post(
        f"/api/plans/{plan_id}/apply", json={"valid_from": "2026-06-01"}, headers=planner
    )
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert result["grids_ended"] == [GRID_A1, GRID_A2]
    assert [g["code"] for g in result["grids_created"]] == [GRID_A1, GRID_A3]
    assert result["valid_from"] == "2026-06-01T00:00:00+08:00"
    assert {"worker_id": "w_a2", "role": "full_time", "from": GRID_A2, "to": GRID_A3} in result[
        "assignments_moved"
    ]
    assert client.get(f"/api/plans/{plan_id}", headers=planner).json()["status"] == "applied"
    again = client.post(
        f"/api/plans/{plan_id}/apply", json={"valid_from": "2026-07-01"}, headers=planner
    )
    assert again.status_code == 409

    point = f"{EAST_POINT[0]},{EAST_POINT[1]}"
    admin = login(client, "admin")
    now = client.get(f"/api/grids?point={point}", headers=admin).json()["features"]
    past = client.get(f"/api/grids?point={point}&at=2026-03-01T00:00:00Z", headers=admin).json()
    assert [f["properties"]["code"] for f in now] == [GRID_A3]
    assert [f["properties"]["code"] for f in past["features"]] == [GRID_A2]

    # roll forward: a second plan supersedes the first
    later = _draft(client, admin)
    rolled = client.post(
        f"/api/plans/{later}/apply", json={"valid_from": "2026-09-01"}, headers=admin
    )
    assert rolled.status_code == 200, rolled.text
    assert client.get(f"/api/plans/{plan_id}", headers=admin).json()["status"] == "superseded"
    with connect(database_url) as conn:
        actions = conn.execute(
            "SELECT action, actor FROM audit_log WHERE action LIKE 'plan.%' ORDER BY id"
        ).fetchall()
    assert actions == [
        ("plan.create", "planner"),
        ("plan.create", "planner"),
        ("plan.update", "planner"),
        ("plan.apply", "planner"),
        ("plan.create", "admin"),
        ("plan.apply", "admin"),
    ]


def test_invalid_plans_and_bad_input_are_refused(client: TestClient) -> None:
    planner = login(client, "planner")
    west, _ = resplit()
    gap = _draft(
        client, planner, [west, type(west)(GRID_A3, box(CUT_LON + 0.001, 40.60, 109.82, 40.62))]
    )
    problems = client.post(f"/api/plans/{gap}/validate", headers=planner).json()["problems"]
    assert [p["reason"] for p in problems] == ["plan_gap"]
    assert problems[0]["zh"] and problems[0]["en"]
    refused = client.post(
        f"/api/plans/{gap}/apply", json={"valid_from": "2026-06-01"}, headers=planner
    )
    assert refused.status_code == 422
    assert [p["reason"] for p in refused.json()["problems"]] == ["plan_gap"]

    good = _draft(client, planner, resplit())
    early = client.post(
        f"/api/plans/{good}/apply", json={"valid_from": "2025-06-01"}, headers=planner
    )
    assert [p["reason"] for p in early.json()["problems"]] == ["valid_from_too_early"]
    ghost = client.post(
        f"/api/plans/{good}/apply",
        json={
            "valid_from": "2026-06-01",
            "assignments": {GRID_A3: [{"worker_id": "nobody", "role": "full_time"}]},
        },
        headers=planner,
    )
    assert ghost.status_code == 422
    assert [p["reason"] for p in ghost.json()["problems"]] == ["worker_unknown"]

    no_code = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(shapely.box(0, 0, 1, 1)), "properties": {}}
        ],
    }
    bad = client.post(
        "/api/plans",
        json={"community_code": COMMUNITY_A, "name": "x", "grids": no_code},
        headers=planner,
    )
    assert bad.status_code == 422 and "code" in bad.json()["detail"]


def test_only_planners_and_admins(client: TestClient) -> None:
    plan_id = _draft(client, login(client, "planner"), resplit())
    for username in ("op_a", "cadre_a", "gw_a1"):
        headers = login(client, username)
        assert (
            client.post(
                "/api/plans", json={"community_code": COMMUNITY_A, "name": "x"}, headers=headers
            ).status_code
            == 403
        )
        applied = client.post(
            f"/api/plans/{plan_id}/apply", json={"valid_from": "2026-06-01"}, headers=headers
        )
        assert applied.status_code == 403
    assert client.get(f"/api/plans/{plan_id}", headers=login(client, "admin")).status_code == 200
