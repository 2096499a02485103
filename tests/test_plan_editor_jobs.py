"""POST /api/plans/propose: a job with progress, a draft with the engine's metrics, cancel,
idempotent start, planners only, and a job left open by a restart reported failed."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api import plan_jobs
from gis.db import connect
from gis.redistrict.search import Cancelled
from tests.api_world import COMMUNITY_A, COMMUNITY_B, STREET, api_client, login
from tests.editor_world import HOUSEHOLDS, add_houses

DEADLINE_S = 60


def wait_job(client: TestClient, headers: dict, job_id: int, until: set[str]) -> dict:
    deadline = time.monotonic() + DEADLINE_S
    seen_stages = []
    while True:
        job = client.get(f"/api/plans/propose/{job_id}", headers=headers).json()
        seen_stages.append(job["stage"])
        if job["status"] in until:
            job["seen_stages"] = seen_stages
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def propose(client: TestClient, headers: dict, **body: object) -> dict:
    response = client.post(
        "/api/plans/propose", json={"community_code": COMMUNITY_A} | body, headers=headers
    )
    assert response.status_code == 202, response.text
    return wait_job(client, headers, response.json()["id"], {"done", "failed", "cancelled"})


@pytest.fixture
def houses(database_url: str, world) -> None:
    add_houses(database_url)


def test_propose_job_makes_a_draft_in_band(client: TestClient, houses) -> None:
    planner = login(client, "planner")
    job = propose(client, planner, seed=3)
    assert job["status"] == "done", job
    assert job["fraction"] == 1.0 and job["stage_text"] == {"zh": "完成", "en": "done"}
    [made] = job["result"]["plans"]
    assert made["community_code"] == COMMUNITY_A
    assert made["metrics"]["in_range_share"] == 1.0
    plan = client.get(f"/api/plans/{made['plan_id']}", headers=planner).json()
    assert plan["status"] == "draft" and plan["params"]["seed"] == 3
    assert plan["metrics"]["engine"]["households"] == HOUSEHOLDS
    households = [f["properties"]["households"] for f in plan["grids"]["features"]]
    assert sum(households) == HOUSEHOLDS and all(300 <= h <= 500 for h in households)
    valid = client.post(f"/api/plans/{made['plan_id']}/validate", headers=planner).json()
    assert valid == {"valid": True, "problems": []}


def test_stay_close_reports_the_share_of_households_changed(client: TestClient, houses) -> None:
    planner = login(client, "planner")
    job = propose(client, planner, stay_close=True)
    assert job["status"] == "done", job
    [made] = job["result"]["plans"]
    # The two current grids hold 3,202 households: they must be split, not kept.
    assert made["metrics"]["changed_share"] is not None
    assert made["metrics"]["in_range_share"] == 1.0
    plan = client.get(f"/api/plans/{made['plan_id']}", headers=planner).json()
    assert plan["params"]["stay_close"] is True


def test_propose_for_a_street_solves_each_community(client: TestClient, houses) -> None:
    planner = login(client, "planner")
    response = client.post("/api/plans/propose", json={"street_code": STREET}, headers=planner)
    assert response.status_code == 202, response.text
    job = wait_job(client, planner, response.json()["id"], {"done", "failed"})
    assert job["status"] == "done", job
    assert job["params"]["communities"] == [COMMUNITY_A, COMMUNITY_B]
    made, small = job["result"]["plans"]
    assert made["community_code"] == COMMUNITY_A and made["metrics"]["grids"] >= 7
    # B has one household: below the minimum, one grid (explained, not hidden).
    assert small["community_code"] == COMMUNITY_B and small["metrics"]["grids"] == 1


def test_propose_is_idempotent_and_for_planners_only(client: TestClient, houses) -> None:
    planner = login(client, "planner")
    key = {"Idempotency-Key": "propose-once-0001"}
    body = {"community_code": COMMUNITY_A}
    first = client.post("/api/plans/propose", json=body, headers=planner | key)
    again = client.post("/api/plans/propose", json=body, headers=planner | key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    wait_job(client, planner, first.json()["id"], {"done"})
    for user in ("op_a", "gw_a1"):
        headers = login(client, user)
        assert client.post("/api/plans/propose", json=body, headers=headers).status_code == 403
        assert (
            client.get(f"/api/plans/propose/{first.json()['id']}", headers=headers).status_code
            == 403
        )
    bad = client.post("/api/plans/propose", json={"community_code": "x"}, headers=planner)
    assert bad.status_code == 422
    both = client.post(
        "/api/plans/propose",
        json={"community_code": COMMUNITY_A, "street_code": STREET},
        headers=planner,
    )
    assert both.status_code == 422


def test_cancel_stops_a_job(client: TestClient, houses, database_url: str) -> None:
    planner = login(client, "planner")
    started = client.post(
        "/api/plans/propose", json={"community_code": COMMUNITY_A}, headers=planner
    ).json()
    cancelled = client.delete(f"/api/plans/propose/{started['id']}", headers=planner)
    assert cancelled.status_code == 200, cancelled.text
    job = wait_job(client, planner, started["id"], {"cancelled", "done"})
    assert job["status"] == "cancelled", job
    assert job["result"] == {"plans": []}
    with connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM grid_plan").fetchone()[0] == 0
    finished = client.delete(f"/api/plans/propose/{started['id']}", headers=planner)
    assert finished.status_code == 409


def test_progress_is_reported_and_cancel_stops_a_running_job(
    client: TestClient, houses, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine replaced by one that reports half its partition done, then waits for
    the cancel check to say stop (as the real search loops do)."""

    def waiting_engine(inputs, options, progress, cancel):  # noqa: ANN001, ANN202
        progress("partition", 0.5)
        deadline = time.monotonic() + DEADLINE_S
        while not cancel():
            assert time.monotonic() < deadline, "never cancelled"
            time.sleep(0.01)
        raise Cancelled

    monkeypatch.setattr(plan_jobs, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(plan_jobs, "propose", waiting_engine)
    planner = login(client, "planner")
    started = client.post(
        "/api/plans/propose", json={"community_code": COMMUNITY_A}, headers=planner
    ).json()
    running = wait_job(client, planner, started["id"], {"running"})
    deadline = time.monotonic() + DEADLINE_S
    while running["stage"] != "partition":
        assert time.monotonic() < deadline, running
        running = client.get(f"/api/plans/propose/{started['id']}", headers=planner).json()
    assert running["fraction"] == 0.5
    assert running["stage_text"] == {"zh": "划分网格", "en": "partitioning"}
    assert client.delete(f"/api/plans/propose/{started['id']}", headers=planner).status_code == 200
    job = wait_job(client, planner, started["id"], {"cancelled", "failed", "done"})
    assert job["status"] == "cancelled", job


def test_a_job_open_at_restart_is_reported_failed(database_url: str, world, tmp_path) -> None:
    with connect(database_url) as conn:
        job_id = conn.execute(
            "INSERT INTO plan_job (area_code, created_by, params, status, stage, fraction) "
            "VALUES (%s, 'planner', %s, 'running', 'partition', 0.4) RETURNING id",
            (COMMUNITY_A, f'{{"communities": ["{COMMUNITY_A}"]}}'),
        ).fetchone()[0]
    with api_client(database_url, tmp_path) as client:
        job = client.get(f"/api/plans/propose/{job_id}", headers=login(client, "planner")).json()
    assert job["status"] == "failed"
    assert "restarted" in job["error"]
