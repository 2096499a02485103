"""DB-mode proposals cut along the road table's roads: ``community_inputs`` reads the cut
roads crossing a community (one GiST probe, major classes only, no tunnels), and a propose
job on community A split by a road puts a boundary between grids along it."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import LineString

from gis.db import connect
from gis.redistrict.metrics import cut_lengths
from gis.redistrict_apply.community import (
    CUT_ROAD_CLASSES,
    CUT_ROADS_OF_COMMUNITY,
    community_inputs,
)
from tests.api_world import COMMUNITY_A, COMMUNITY_B, login
from tests.editor_world import add_houses

ROAD_LON = 109.806
"""Between the third and fourth columns of houses (tests/editor_world.py): 960 households
west of it, 2,242 east."""
ROAD = LineString([(ROAD_LON, 40.599), (ROAD_LON, 40.621)])
"""Crosses A from south to north (a little beyond its outline)."""
DEADLINE_S = 120


def add_road(database_url: str, code: str, line: LineString, road_class: str, tunnel=False):
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO road (code, class, tunnel, geom, source) "
            "VALUES (%s, %s, %s, ST_Multi(ST_GeomFromText(%s, 4326)), 'test')",
            (code, road_class, tunnel, line.wkt),
        )


@pytest.fixture
def houses(database_url: str, world) -> None:
    add_houses(database_url)


def test_community_inputs_reads_the_cut_roads_crossing_the_community(
    database_url: str, houses
) -> None:
    add_road(database_url, "main", ROAD, "primary")
    add_road(database_url, "path", LineString([(109.803, 40.60), (109.803, 40.62)]), "footway")
    add_road(database_url, "tunnel", LineString([(109.81, 40.60), (109.81, 40.62)]), "trunk", True)
    add_road(database_url, "edge", LineString([(109.82, 40.60), (109.82, 40.62)]), "primary")
    with connect(database_url) as conn:
        a = community_inputs(conn, COMMUNITY_A)
        b = community_inputs(conn, COMMUNITY_B)
    [line] = a.roads
    assert line.length == pytest.approx(2_220, rel=0.01)  # clipped to A's 0.02° of latitude
    assert len(b.roads) == 0  # the A–B edge road lies along B's outline and cuts nothing


def test_the_roads_of_a_community_come_from_the_gist_index(database_url: str, world) -> None:
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO road (code, class, geom, source) SELECT 'r' || i, 'residential', "
            "ST_Multi(ST_MakeLine(ST_MakePoint(110 + i * 0.001, 41), "
            "ST_MakePoint(110 + i * 0.001, 41.001))), 'test' FROM generate_series(1, 5000) i"
        )
        conn.execute("ANALYZE road")
        plan = conn.execute(
            f"EXPLAIN SELECT r.id {CUT_ROADS_OF_COMMUNITY}",
            (COMMUNITY_A, sorted(CUT_ROAD_CLASSES)),
        ).fetchall()
    text = "\n".join(row[0] for row in plan)
    assert "idx_road_geom" in text, text


def _propose(client: TestClient, headers: dict) -> list:
    response = client.post(
        "/api/plans/propose", json={"community_code": COMMUNITY_A, "seed": 3}, headers=headers
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + DEADLINE_S
    while (job := client.get(f"/api/plans/propose/{response.json()['id']}", headers=headers)
           .json())["status"] not in {"done", "failed"}:  # fmt: skip
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "done", job
    [made] = job["result"]["plans"]
    plan = client.get(f"/api/plans/{made['plan_id']}", headers=headers).json()
    grids = [shapely.geometry.shape(f["geometry"]) for f in plan["grids"]["features"]]
    return [made["metrics"], grids]


def _road_share(grids: list) -> float:
    """Share of the cut between grids (metres, UTM 49N) lying along ROAD."""
    import geopandas as gpd

    metric = gpd.GeoSeries(grids, crs=4326).to_crs(32649)
    # united before projecting: a valid polygon can pinch into an invalid one on the way
    community = gpd.GeoSeries([shapely.union_all(grids)], crs=4326).to_crs(32649).iloc[0]
    road = gpd.GeoSeries([ROAD], crs=4326).to_crs(32649).to_numpy()
    total, along = cut_lengths(metric.to_numpy(), community, np.asarray(road))
    return along / total


def test_a_propose_job_cuts_along_a_road_of_the_database(
    client: TestClient, houses, database_url: str
) -> None:
    planner = login(client, "planner")
    metrics_without, grids_without = _propose(client, planner)
    assert metrics_without["cut_along_roads_m"] == 0
    add_road(database_url, "main", ROAD, "primary")
    metrics_with, grids_with = _propose(client, planner)
    assert metrics_with["in_range_share"] == 1.0
    # A boundary runs along the road for a good part of its 2.2 km through A (seed 3: half;
    # the other half would leave the west side's 960 households out of two grids' range).
    assert metrics_with["cut_along_roads_m"] > 0.4 * 2_220, metrics_with
    # Measured the same way on both plans: the road's share of the cut rises (seed 3: from
    # 16% where the plan without roads happens to cross it, to 31%).
    share_with, share_without = _road_share(grids_with), _road_share(grids_without)
    assert share_with > share_without + 0.08, (share_with, share_without)
