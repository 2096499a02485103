"""GeoJSON layers: bbox filter, simplification by zoom, grid state from open tasks."""

from __future__ import annotations

import gzip
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from api.geojson import BBox, coordinate_decimals, simplify_tolerance
from api.grid_layer import GridLayerCache, tiles_of
from api.layer_cache import LayerBody, LayerCache
from gis.db import connect
from tests.api_world import GRID_A1, GRID_A2, GRID_B1, World, login
from tests.mqtt_helpers import wait_until

STALE_S = 30.0
"""A generous deadline for a change committed elsewhere to show (LISTEN/NOTIFY, then the
layer cache); it is a deadline, not a speed claim."""


def _vertices(feature: dict) -> int:
    return sum(len(ring) for polygon in feature["geometry"]["coordinates"] for ring in polygon)


def _grids(client: TestClient, headers: dict, **params) -> dict:
    response = client.get("/api/grids", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return {f["id"]: f for f in response.json()["features"]}


def test_grids_bbox_returns_only_grids_it_touches(client: TestClient) -> None:
    headers = login(client, "admin")
    east = _grids(client, headers, bbox="109.825,40.605,109.835,40.615")
    assert set(east) == {GRID_B1}
    west = _grids(client, headers, bbox="109.801,40.601,109.809,40.609")
    assert set(west) == {GRID_A1}


def test_grids_low_zoom_has_fewer_vertices_and_decimals(client: TestClient) -> None:
    headers = login(client, "admin")
    full = _grids(client, headers)[GRID_A1]
    district_view = _grids(client, headers, zoom=11)[GRID_A1]
    street_view = _grids(client, headers, zoom=19)[GRID_A1]
    assert _vertices(full) > 400  # the saw-toothed edge
    assert _vertices(district_view) < 20
    assert _vertices(street_view) == _vertices(full)
    x = district_view["geometry"]["coordinates"][0][0][0][0]
    assert len(str(x).split(".")[1]) <= coordinate_decimals(11) < coordinate_decimals(None)
    assert simplify_tolerance(11) > simplify_tolerance(15) > simplify_tolerance(None) == 0


def test_grid_state_follows_open_tasks(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    states = {code: f["properties"]["state"] for code, f in _grids(client, admin).items()}
    assert states == {GRID_A1: "urgent", GRID_A2: "urgent", GRID_B1: "urgent"}
    b1 = f"/api/tasks/{world.tasks['b1']}"
    client.post(f"{b1}/return", headers=login(client, "gw_b1"), json={"note": "误报"})
    client.post(f"{b1}/invalid", headers=admin, json={"note": "误报"})
    after = _grids(client, admin)[GRID_B1]["properties"]
    assert (after["state"], after["open_tasks"]) == ("ok", 0)


def test_grid_detail_lists_workers_households_and_open_tasks(
    client: TestClient, world: World
) -> None:
    detail = client.get(f"/api/grids/{GRID_A1}", headers=login(client, "op_a")).json()
    props = detail["properties"]
    assert {(w["id"], w["role"]) for w in props["workers"]} == {
        ("w_a1", "full_time"),
        ("head_a", "grid_head"),
    }
    assert (props["buildings"], props["households"]) == (1, 1)
    assert [t["id"] for t in props["open_task_list"]] == [world.tasks["a1"]]
    hidden = client.get(f"/api/grids/{GRID_B1}", headers=login(client, "op_a"))
    assert hidden.status_code == 404


def test_grids_point_query_and_history(client: TestClient) -> None:
    headers = login(client, "planner")
    assert set(_grids(client, headers, point="109.815,40.61")) == {GRID_A2}
    assert _grids(client, headers, at="2025-06-01T00:00:00+08:00") == {}


@pytest.mark.parametrize("bbox", ["1,2,3", "109.9,40.6,109.8,40.7", "a,b,c,d", "0,0,200,10"])
def test_layers_refuse_malformed_bbox(client: TestClient, bbox: str) -> None:
    response = client.get("/api/grids", params={"bbox": bbox}, headers=login(client, "admin"))
    assert response.status_code == 422
    assert "bbox" in response.json()["detail"]


def test_other_layers_are_geojson_in_scope(client: TestClient, world: World) -> None:
    headers = login(client, "op_b")
    for layer in ("districts", "streets", "communities", "buildings", "devices"):
        response = client.get(f"/api/{layer}", headers=headers)
        assert response.status_code == 200
        assert response.json()["type"] == "FeatureCollection"
    communities = client.get("/api/communities", headers=headers).json()["features"]
    assert [c["id"] for c in communities] == ["150203001002"]
    buildings = client.get(f"/api/buildings?grid_code={GRID_B1}", headers=headers).json()
    assert [b["id"] for b in buildings["features"]] == [world.buildings["b1"]]


def test_openapi_documents_the_resources(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/grids",
        "/api/tasks",
        "/api/tasks/{task_id}/handled",
        "/api/open311/v2/requests.json",
        "/api/stream",
        "/api/auth/login",
    ):
        assert path in paths
    assert "TaskOut" in str(paths["/api/tasks"]["get"]["responses"]["200"])


def test_grid_layer_cache_follows_changes_committed_elsewhere(
    client: TestClient, world: World, database_url: str
) -> None:
    headers = login(client, "admin")
    assert _grids(client, headers)[GRID_B1]["properties"]["state"] == "urgent"
    with connect(database_url) as conn:  # e.g. an ingest worker closing the task
        conn.execute("UPDATE task SET state = 'closed' WHERE id = %s", (world.tasks["b1"],))
    assert wait_until(
        lambda: _grids(client, headers)[GRID_B1]["properties"]["state"] == "ok", STALE_S
    ), "grid layer still stale"


def test_layer_cache_never_stores_what_a_change_overtook() -> None:
    cache = LayerCache(ttl_s=60)

    def overtaken() -> bytes:
        cache.invalidate()  # a change lands while the query runs
        return b"old"

    assert cache.get("k", overtaken) == b"old"
    assert cache.get("k", lambda: b"new") == b"new"
    assert cache.get("k", lambda: b"newer") == b"new"
    expired = LayerCache(ttl_s=0)
    expired.get("k", lambda: b"x")
    time.sleep(0.01)
    assert expired.get("k", lambda: b"y") == b"y"


def test_layer_cache_fifty_concurrent_misses_build_once() -> None:
    cache = LayerCache()
    builds = 0
    started = threading.Barrier(50)

    def build() -> LayerBody:
        nonlocal builds
        builds += 1
        time.sleep(0.3)  # the query; everyone else arrives meanwhile
        return LayerBody.of(b'{"type": "FeatureCollection", "features": []}')

    def request() -> bytes:
        started.wait()
        return cache.get("district", build).raw

    with ThreadPoolExecutor(50) as pool:
        bodies = list(pool.map(lambda _: request(), range(50)))
    assert builds == cache.builds == 1
    assert set(bodies) == {b'{"type": "FeatureCollection", "features": []}'}
    assert gzip.decompress(cache.get("district", build).gzipped) == bodies[0]


def test_layer_cache_failed_build_fails_its_waiters_and_is_not_kept() -> None:
    cache = LayerCache()

    def failing() -> bytes:
        time.sleep(0.1)
        raise RuntimeError("database gone")

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(lambda _: _outcome(cache, failing), range(5)))
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert cache.get("k", lambda: b"ok") == b"ok"


def _outcome(cache: LayerCache, build) -> bytes | Exception:
    try:
        return cache.get("k", build)
    except RuntimeError as exc:
        return exc


def test_grids_are_gzipped_and_slim(client: TestClient, world: World) -> None:
    headers = login(client, "admin")
    response = client.get("/api/grids", headers=headers | {"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content) / 3
    properties = {f["id"]: f["properties"] for f in response.json()["features"]}
    assert set(properties[GRID_B1]) == {
        "code", "name", "community_code", "version",
        "open_tasks", "urgent_tasks", "overdue_tasks", "state",
    }  # fmt: skip
    plain = client.get("/api/grids", headers=headers | {"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == response.json()


def test_grids_count_overdue_open_tasks(
    client: TestClient, world: World, database_url: str
) -> None:
    headers = login(client, "admin")
    before = _grids(client, headers)[GRID_B1]["properties"]
    with connect(database_url) as conn:
        conn.execute(
            "UPDATE task SET due_at = now() - interval '1 hour' WHERE id = %s",
            (world.tasks["b1"],),
        )
    assert wait_until(
        lambda: (
            _grids(client, headers)[GRID_B1]["properties"]["overdue_tasks"]
            == before["overdue_tasks"] + 1
        ),
        STALE_S,
    ), "overdue count not updated"


def _tile_cache(client: TestClient) -> GridLayerCache:
    return client.app.state.layer_cache


def test_task_change_recolours_grids_without_rebuilding_geometry(
    client: TestClient, world: World, database_url: str
) -> None:
    headers = login(client, "admin")
    view = {"bbox": "109.79,40.59,109.84,40.62", "zoom": 15}
    assert _grids(client, headers, **view)[GRID_B1]["properties"]["state"] == "urgent"
    tiles = _tile_cache(client).tiles
    geometry_builds = tiles.builds
    assert geometry_builds > 0
    with connect(database_url) as conn:  # e.g. an ingest worker closing the task
        conn.execute("UPDATE task SET state = 'closed' WHERE id = %s", (world.tasks["b1"],))
    assert wait_until(
        lambda: _grids(client, headers, **view)[GRID_B1]["properties"]["state"] == "ok", STALE_S
    ), "grid layer still stale"
    after = _grids(client, headers, **view)
    assert after[GRID_B1]["properties"]["open_tasks"] == 0
    assert after[GRID_A1]["properties"]["state"] == "urgent"
    assert tiles.builds == geometry_builds
    nearby = {"bbox": "109.795,40.595,109.845,40.625", "zoom": 15}  # same size: same tiles
    assert set(_grids(client, headers, **nearby)) == {GRID_A1, GRID_A2, GRID_B1}
    assert tiles.builds == geometry_builds


def test_grid_change_rebuilds_geometry(client: TestClient, database_url: str) -> None:
    headers = login(client, "admin")
    before = _grids(client, headers, zoom=15)[GRID_A1]["properties"]["name"]
    with connect(database_url) as conn:
        conn.execute("UPDATE grid SET name = name || '改' WHERE code = %s", (GRID_A1,))
    assert wait_until(
        lambda: _grids(client, headers, zoom=15)[GRID_A1]["properties"]["name"] == before + "改",
        STALE_S,
    ), "grid geometry cache still stale"


def test_viewers_with_different_scopes_never_share_grid_entries(client: TestClient) -> None:
    view = {"bbox": "109.79,40.59,109.84,40.62", "zoom": 15}
    tiles = _tile_cache(client).tiles
    assert set(_grids(client, login(client, "op_a"), **view)) == {GRID_A1, GRID_A2}
    builds_for_a = tiles.builds
    assert set(_grids(client, login(client, "op_b"), **view)) == {GRID_B1}
    assert tiles.builds == 2 * builds_for_a  # op_b's tiles are its own, not op_a's
    assert set(_grids(client, login(client, "op_a"), **view)) == {GRID_A1, GRID_A2}
    assert tiles.builds == 2 * builds_for_a


def test_nearby_views_share_tiles() -> None:
    view = BBox(109.80, 40.60, 109.87, 40.644)
    moved = BBox(109.81, 40.601, 109.88, 40.645)
    assert len(tiles_of(view)) <= 4
    assert set(tiles_of(view)) & set(tiles_of(moved))
    for tile in tiles_of(view):
        assert tile.maxx - tile.minx >= view.maxx - view.minx
    covered = BBox(
        min(t.minx for t in tiles_of(view)),
        min(t.miny for t in tiles_of(view)),
        max(t.maxx for t in tiles_of(view)),
        max(t.maxy for t in tiles_of(view)),
    )
    assert covered.minx <= view.minx and covered.maxx >= view.maxx
    assert covered.miny <= view.miny and covered.maxy >= view.maxy
