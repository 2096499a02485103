"""A generated dataset loads into PostGIS as is (`wangge load dataset`), marked as generated,
PostGIS agrees that its grids tile their communities, and its lanes are the roads a DB-mode
proposal cuts along."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis.db import connect
from gis.demo.generate import generate
from gis.loaders import load_dataset, load_layer
from gis.redistrict_apply.community import community_inputs
from tests.conftest import BOUNDARIES

HOUSEHOLDS = 8_000
SEED = 2026


@pytest.fixture
def loaded(database_url: str, tmp_path: Path) -> tuple[str, Path]:
    out = tmp_path / "demo"
    generate(HOUSEHOLDS, SEED, out, BOUNDARIES)
    districts = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
    assert load_layer(database_url, "district", districts, progress=False).ok
    report = load_dataset(database_url, out, progress=False)
    assert report.ok, report
    return database_url, out


def test_generated_dataset_loads_with_every_row_marked_generated(loaded: tuple[str, Path]) -> None:
    url, out = loaded
    source = json.loads((out / "dataset.json").read_text(encoding="utf-8"))["source"]
    with connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM household").fetchone()[0] == HOUSEHOLDS
        for table in ("street", "community", "grid", "building", "road", "household",
                      "resident", "worker", "device"):  # fmt: skip
            sources = conn.execute(f"SELECT DISTINCT source FROM {table}").fetchall()
            assert sources == [(source,)], table
        full_ids = conn.execute(
            "SELECT count(*) FROM resident WHERE id_number_masked !~ '\\*'"
        ).fetchone()[0]
        assert full_ids == 0


def test_postgis_sees_grids_tiling_their_communities(loaded: tuple[str, Path]) -> None:
    url, _ = loaded
    with connect(url) as conn:
        mismatches = conn.execute(
            """
            SELECT c.code,
                   abs(sum(ST_Area(g.geom::geography)) - ST_Area(c.geom::geography)) AS gap_or_overlap,
                   ST_Area(ST_SymDifference(ST_Union(g.geom), c.geom)::geography) AS difference
            FROM community c JOIN grid g ON g.community_code = c.code
            GROUP BY c.code, c.geom
            HAVING abs(sum(ST_Area(g.geom::geography)) - ST_Area(c.geom::geography)) > 1
                OR ST_Area(ST_SymDifference(ST_Union(g.geom), c.geom)::geography) > 1
            """
        ).fetchall()
        assert mismatches == []
        homeless = conn.execute(
            """
            SELECT b.code, count(g.id)
            FROM building b LEFT JOIN grid g ON ST_Within(b.geom, g.geom)
            GROUP BY b.code HAVING count(g.id) <> 1
            """
        ).fetchall()
        assert homeless == []
        out_of_range = conn.execute(
            """
            SELECT g.code, sum(b.households)
            FROM grid g JOIN building b ON ST_Within(b.geom, g.geom)
            GROUP BY g.code HAVING sum(b.households) NOT BETWEEN 300 AND 500
            """
        ).fetchall()
        assert out_of_range == []


def test_each_demo_community_is_crossed_by_its_lanes_as_cut_roads(
    loaded: tuple[str, Path],
) -> None:
    url, out = loaded
    with connect(url) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM community ORDER BY code")]
        lanes = dict(
            conn.execute(
                "SELECT left(code, 12), sum(ST_NumGeometries(geom)) FROM road "
                "WHERE class = 'residential' GROUP BY 1"
            ).fetchall()
        )
        for code in codes:
            inputs = community_inputs(conn, code)
            assert len(inputs.roads) == lanes[code] > 0, code
    # Loading the roads layer again updates its roads, adds none.
    again = load_layer(url, "road", out / "city.gpkg", layer="roads", progress=False)
    assert again.ok, again
    with connect(url) as conn:
        total = conn.execute(
            "SELECT sum(ST_NumGeometries(geom)) FROM road WHERE class = %s", ("residential",)
        )
        assert total.fetchone()[0] == sum(lanes.values())
