"""The list routes' optional equality filters (api.scope.Where.equal) select exactly what
they name, and a filter left out selects nothing away."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api_world import COMMUNITY_A, COMMUNITY_B, GRID_A1, GRID_B1, World, login


def _items(client: TestClient, url: str, headers: dict, **params: object) -> list[dict]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["features"] if "features" in body else body["items"]


def test_events_and_incidents_filters(client: TestClient, world: World) -> None:
    headers = login(client, "admin")
    assert [e["event_id"] for e in _items(client, "/api/events", headers)] == ["e-a1"]
    for params in ({"type": "fire.smoke"}, {"device_id": "cam_a1"}, {"grid_code": GRID_A1}):
        assert len(_items(client, "/api/events", headers, **params)) == 1, params
    for params in ({"type": "door.exit"}, {"device_id": "meter_b1"}, {"grid_code": GRID_B1}):
        assert _items(client, "/api/events", headers, **params) == [], params
    incident = {"incident_id": world.incident_a1}
    assert len(_items(client, "/api/events", headers, **incident)) == 1

    def incident_ids(**params: object) -> list[int]:
        return [i["id"] for i in _items(client, "/api/incidents", headers, **params)]

    assert incident_ids() == [world.incident_a1]
    assert incident_ids(status="open", severity="urgent", category="fire") == [world.incident_a1]
    assert incident_ids(status="closed") == incident_ids(severity="normal") == []
    assert incident_ids(type="fire.flame") == incident_ids(grid_code=GRID_B1) == []


def test_devices_workers_households_filters(client: TestClient, world: World) -> None:
    headers = login(client, "admin")

    def device_ids(**params: object) -> set[str]:
        return {f["properties"]["id"] for f in _items(client, "/api/devices", headers, **params)}

    assert device_ids() == {"cam_a1", "meter_b1"}
    assert device_ids(kind="camera") == device_ids(online="true") == {"cam_a1"}
    assert device_ids(online="false") == device_ids(grid_code=GRID_B1) == {"meter_b1"}
    assert device_ids(kind="door", grid_code=GRID_A1) == set()

    def worker_ids(**params: object) -> set[str]:
        return {w["id"] for w in _items(client, "/api/workers", headers, **params)}

    assert worker_ids(role="grid_head") == {"head_a"}
    assert worker_ids(community_code=COMMUNITY_B) == {"w_b1"}
    assert worker_ids(role="full_time", community_code=COMMUNITY_A) == {"w_a1", "w_a2"}
    assert worker_ids(role="") == worker_ids()  # an empty role filters nothing

    def household_ids(**params: object) -> set[int]:
        return {h["id"] for h in _items(client, "/api/households", headers, **params)}

    assert household_ids(community_code=COMMUNITY_A) == {
        world.households["a1"],
        world.households["a2"],
    }
    assert household_ids(building_id=world.buildings["b1"]) == {world.households["b1"]}
    assert household_ids(building_id=world.buildings["b1"], community_code=COMMUNITY_A) == set()
