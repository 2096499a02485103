"""The editor's API: a draft as buildings with the adjacency graph, saving a building
assignment (polygons derived, 409 on a stale version), "fix this grid", and exports that
round-trip through import (GeoJSON, Shapefile zip, Excel) plus an offline HTML map."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from tests.api_world import COMMUNITY_A, login
from tests.editor_world import HOUSEHOLDS, add_houses
from tests.test_plan_editor_jobs import propose


@pytest.fixture
def draft(client: TestClient, database_url: str, world) -> tuple[dict, int]:
    add_houses(database_url)
    planner = login(client, "planner")
    job = propose(client, planner, seed=1)
    assert job["status"] == "done", job
    return planner, job["result"]["plans"][0]["plan_id"]


def _editor(client: TestClient, headers: dict, plan_id: int) -> dict:
    response = client.get(f"/api/plans/{plan_id}/editor", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _assignment(data: dict) -> dict[str, str]:
    return {str(b["id"]): b["grid"] for b in data["buildings"]}


def test_editor_data_has_buildings_grids_and_adjacency(client: TestClient, draft) -> None:
    planner, plan_id = draft
    data = _editor(client, planner, plan_id)
    buildings = data["buildings"]
    assert len(buildings) == 82 and sum(b["households"] for b in buildings) == HOUSEHOLDS
    assert all(
        b["grid"] and b["geometry"]["type"] in ("Polygon", "MultiPolygon") for b in buildings
    )
    assert data["targets"] == {"min": 300, "max": 500, "ideal": 450}
    assert {f["properties"]["code"] for f in data["current"]["features"]} == {
        f"{COMMUNITY_A}001",
        f"{COMMUNITY_A}002",
    }
    pairs = data["adjacency"]
    assert pairs and all(0 <= a < b < len(buildings) for a, b in pairs)
    # Every building has a neighbour; the graph of the lattice is connected.
    seen, stack = {0}, [0]
    neighbours: dict[int, set[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    while stack:
        for v in neighbours.get(stack.pop(), ()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    assert len(seen) == len(buildings)
    assert (
        client.get(f"/api/plans/{plan_id}/editor", headers=login(client, "op_a")).status_code == 403
    )


def test_save_assignment_derives_polygons_and_refuses_a_stale_version(
    client: TestClient, draft
) -> None:
    planner, plan_id = draft
    data = _editor(client, planner, plan_id)
    assignment = _assignment(data)
    moved = data["buildings"][0]
    target = next(b["grid"] for b in data["buildings"] if b["grid"] != moved["grid"])
    assignment[str(moved["id"])] = target
    version = data["plan"]["version"]
    saved = client.put(
        f"/api/plans/{plan_id}/assignment",
        json={"version": version, "assignment": assignment, "locked": [target]},
        headers=planner,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == version + 1
    again = _editor(client, planner, plan_id)
    assert _assignment(again) == assignment
    assert all(b["locked"] == (b["grid"] == target) for b in again["buildings"])
    households = {
        f["properties"]["code"]: f["properties"]["households"] for f in again["grids"]["features"]
    }
    assert sum(households.values()) == HOUSEHOLDS
    valid = client.post(f"/api/plans/{plan_id}/validate", headers=planner).json()
    assert valid["valid"], valid
    stale = client.put(
        f"/api/plans/{plan_id}/assignment",
        json={"version": version, "assignment": assignment},
        headers=planner,
    )
    assert stale.status_code == 409 and "someone else saved" in stale.json()["detail"]
    foreign = dict(assignment, **{str(moved["id"]): "150203001002001"})
    wrong = client.put(
        f"/api/plans/{plan_id}/assignment",
        json={"version": version + 1, "assignment": foreign},
        headers=planner,
    )
    assert wrong.status_code == 422


def test_fix_this_grid_rebalances_it_with_its_neighbours(client: TestClient, draft) -> None:
    planner, plan_id = draft
    data = _editor(client, planner, plan_id)
    assignment = _assignment(data)
    grids = sorted(set(assignment.values()))
    # Pile six buildings of the neighbours into the first grid: it goes above 500.
    first = grids[0]
    neighbours = {}
    for a, b in data["adjacency"]:
        ga, gb = data["buildings"][a]["grid"], data["buildings"][b]["grid"]
        if ga == first and gb != first:
            neighbours[data["buildings"][b]["id"]] = gb
        elif gb == first and ga != first:
            neighbours[data["buildings"][a]["id"]] = ga
    for building_id in list(neighbours)[:6]:
        assignment[str(building_id)] = first
    heavy = sum(b["households"] for b in data["buildings"] if assignment[str(b["id"])] == first)
    assert heavy > 500
    started = time.perf_counter()
    response = client.post(
        f"/api/plans/{plan_id}/fix", json={"grid": first, "assignment": assignment}, headers=planner
    )
    took = time.perf_counter() - started
    assert response.status_code == 200, response.text
    fixed = response.json()
    print(f"fix this grid: {fixed['elapsed_ms']} ms on the server, {took * 1000:.0f} ms round trip")
    assert fixed["changed"]
    assert all(300 <= h <= 500 for h in fixed["households"].values()), fixed["households"]
    assert sum(fixed["households"].values()) == HOUSEHOLDS


def _replace_roundtrip(client: TestClient, headers: dict, plan_id: int, fmt: str) -> None:
    before = _assignment(_editor(client, headers, plan_id))
    exported = client.get(f"/api/plans/{plan_id}/export.{fmt}", headers=headers)
    assert exported.status_code == 200, exported.text
    version = client.get(f"/api/plans/{plan_id}", headers=headers).json()["version"]
    name = {"geojson": "plan.geojson", "zip": "plan.zip", "xlsx": "plan.xlsx"}[fmt]
    imported = client.post(
        f"/api/plans/{plan_id}/import?version={version}",
        files={"file": (name, exported.content)},
        headers=headers,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["version"] == version + 1
    assert _assignment(_editor(client, headers, plan_id)) == before
    valid = client.post(f"/api/plans/{plan_id}/validate", headers=headers).json()
    assert valid["valid"], (fmt, valid)


@pytest.mark.parametrize("fmt", ["geojson", "zip", "xlsx"])
def test_exports_round_trip_through_import(client: TestClient, draft, fmt: str) -> None:
    planner, plan_id = draft
    _replace_roundtrip(client, planner, plan_id, fmt)


def test_import_refuses_bad_files_and_stale_versions(client: TestClient, draft) -> None:
    planner, plan_id = draft
    version = client.get(f"/api/plans/{plan_id}", headers=planner).json()["version"]
    for name, content in (("x.txt", b"hello"), ("x.geojson", b"{not json"), ("x.xlsx", b"no")):
        bad = client.post(
            f"/api/plans/{plan_id}/import?version={version}",
            files={"file": (name, content)},
            headers=planner,
        )
        assert bad.status_code == 422, (name, bad.text)
    exported = client.get(f"/api/plans/{plan_id}/export.geojson", headers=planner).content
    stale = client.post(
        f"/api/plans/{plan_id}/import?version={version - 1}",
        files={"file": ("plan.geojson", exported)},
        headers=planner,
    )
    assert stale.status_code == 409


def test_html_export_opens_offline(client: TestClient, draft) -> None:
    planner, plan_id = draft
    page = client.get(f"/api/plans/{plan_id}/export.html", headers=planner)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "L.map" in text and f"{COMMUNITY_A}001" in text
    assert re.findall(r"<script[^>]+src=", text) == []
    assert re.findall(r"<link[^>]+href=[\"']?https?://", text) == []
    assert re.findall(r"@import\s+url\([\"']?https?://", text) == []


def test_workers_preview_follows_households_and_overrides_apply(client: TestClient, draft) -> None:
    planner, plan_id = draft
    moves = client.get(f"/api/plans/{plan_id}/workers", headers=planner).json()
    assert {(m["worker_id"], m["role"], m["from"]) for m in moves} == {
        ("w_a1", "full_time", f"{COMMUNITY_A}001"),
        ("head_a", "grid_head", f"{COMMUNITY_A}001"),
        ("w_a2", "full_time", f"{COMMUNITY_A}002"),
    }
    assert all(m["to"] and m["name"] for m in moves)
    plan = client.get(f"/api/plans/{plan_id}", headers=planner).json()
    assert plan["version"] == 1  # the preview wrote nothing
    # The planner sends every worker to the last grid instead.
    last = plan["grids"]["features"][-1]["properties"]["code"]
    chosen = {last: [{"worker_id": m["worker_id"], "role": m["role"]} for m in moves]}
    applied = client.post(
        f"/api/plans/{plan_id}/apply",
        json={"valid_from": "2026-06-01", "assignments": chosen},
        headers=planner,
    )
    assert applied.status_code == 200, applied.text
    assert {m["to"] for m in applied.json()["assignments_moved"]} == {last}
