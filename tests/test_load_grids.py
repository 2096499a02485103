"""Grid loads: every bad feature is named and nothing is written; reloads add versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely import Polygon, box

from gis.db import connect
from gis.loaders import load_layer
from tests.conftest import BOUNDARIES, REPO_ROOT

COMMUNITY = "150203001001"
STREET = "150203001000"
COMMUNITY_BOX = box(109.80, 40.64, 109.84, 40.66)


def _write(path: Path, rows: list[dict]) -> Path:
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_file(path)
    return path


def _grid(seq: str | None, geometry, name: str | None = None) -> dict:
    code = f"{COMMUNITY}{seq}" if seq else None
    return {
        "code": code,
        "community_code": COMMUNITY,
        "name": name or f"网格{seq}",
        "geometry": geometry,
    }


@pytest.fixture
def community(database_url: str, tmp_path: Path) -> str:
    """Real districts and streets, plus one generated community in 少先路街道."""
    districts = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
    assert load_layer(database_url, "district", districts, progress=False).ok
    streets = BOUNDARIES / "subdistricts_baotou_hohhot_ulanhot.csv"
    assert load_layer(database_url, "street", streets, progress=False).ok
    path = _write(
        tmp_path / "community.geojson",
        [{"code": COMMUNITY, "street_code": STREET, "name": "测试社区", "geometry": COMMUNITY_BOX}],
    )
    report = load_layer(database_url, "community", path, source="generated: test", progress=False)
    assert report.ok, report.format_text()
    return database_url


BOWTIE = Polygon([(109.82, 40.64), (109.83, 40.65), (109.83, 40.64), (109.82, 40.65)])
BROKEN_GRIDS = [
    _grid("001", box(109.800, 40.64, 109.810, 40.65)),
    _grid("002", box(109.810, 40.64, 109.820, 40.65)),  # shares an edge with 001: fine
    _grid("003", BOWTIE, "蝴蝶结"),
    _grid(None, box(109.830, 40.64, 109.840, 40.65), "无编码"),
    _grid("005", box(109.835, 40.655, 109.845, 40.665), "出界"),
    _grid("006", box(109.800, 40.65, 109.812, 40.66), "重叠甲"),
    _grid("007", box(109.810, 40.65, 109.822, 40.66), "重叠乙"),
    _grid("001", box(109.830, 40.65, 109.835, 40.655), "重号"),
    {**_grid("008", box(109.822, 40.65, 109.826, 40.655)), "code": "150203001002008"},
    {**_grid("009", box(109.826, 40.65, 109.830, 40.655)), "code": "15020300100100X"},
]
EXPECTED_ERRORS = {
    (2, "geometry_invalid"),
    (3, "code_missing"),
    (4, "grid_outside_community"),
    (5, "grid_overlap"),
    (6, "grid_overlap"),
    (0, "code_duplicate"),
    (7, "code_duplicate"),
    (8, "code_parent_mismatch"),
    (9, "code_malformed"),
}


def _grid_rows(database_url: str) -> list[tuple]:
    with connect(database_url) as conn:
        return conn.execute(
            "SELECT code, version, valid_from, valid_to FROM grid ORDER BY code, version"
        ).fetchall()


def test_load_grids_rejects_the_whole_file_and_names_each_bad_feature(
    community: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "grids.geojson", BROKEN_GRIDS)
    report = load_layer(community, "grid", path, progress=False)

    assert not report.ok
    assert {(e.index, e.reason_code) for e in report.errors} == EXPECTED_ERRORS
    by_index = {e.index: e for e in report.errors}
    assert by_index[2].name == "蝴蝶结" and "Self-intersection" in by_index[2].message
    assert by_index[3].name == "无编码" and by_index[3].code is None
    assert by_index[4].code == f"{COMMUNITY}005" and "m²" in by_index[4].message
    assert f"{COMMUNITY}007" in by_index[5].message and f"{COMMUNITY}006" in by_index[6].message
    assert report.counts == {}
    assert _grid_rows(community) == []


def test_load_cli_exits_non_zero_with_a_report(community: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "grids.geojson", BROKEN_GRIDS)
    report_path = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gis.cli",
            "load",
            "grid",
            str(path),
            "--report-json",
            str(report_path),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "WANGGE_DATABASE_URL": community},
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "网格超出所属社区 [grid_outside_community]" in result.stdout
    saved = json.loads(report_path.read_text(encoding="utf-8"))
    assert saved["ok"] is False
    assert {(e["index"], e["reason_code"]) for e in saved["errors"]} == EXPECTED_ERRORS
    assert _grid_rows(community) == []


def test_load_grid_reload_creates_version_2_and_closes_version_1(
    community: str, tmp_path: Path
) -> None:
    first = _write(tmp_path / "v1.geojson", BROKEN_GRIDS[:2])
    assert load_layer(community, "grid", first, progress=False).counts == {"grid": 2}

    redrawn = [_grid("001", box(109.800, 40.64, 109.809, 40.65), "网格001（调整）")]
    report = load_layer(community, "grid", _write(tmp_path / "v2.geojson", redrawn), progress=False)
    assert report.ok, report.format_text()

    rows = _grid_rows(community)
    assert [(code[-3:], version) for code, version, _, _ in rows] == [
        ("001", 1),
        ("001", 2),
        ("002", 1),
    ]
    (_, _, v1_from, v1_to), (_, _, v2_from, v2_to), (_, _, _, other_to) = rows
    assert v1_to == v2_from and v1_from < v2_from
    assert v2_to is None and other_to is None


def test_load_grid_overlapping_a_current_grid_in_the_db_is_rejected(
    community: str, tmp_path: Path
) -> None:
    assert load_layer(
        community, "grid", _write(tmp_path / "a.geojson", BROKEN_GRIDS[:2]), progress=False
    ).ok
    intruder = [_grid("009", box(109.815, 40.645, 109.825, 40.65))]
    report = load_layer(community, "grid", _write(tmp_path / "b.geojson", intruder), progress=False)
    assert [(e.index, e.reason_code) for e in report.errors] == [(0, "grid_overlap")]
    assert f"{COMMUNITY}002" in report.errors[0].message
    assert len(_grid_rows(community)) == 2


def test_load_grids_from_a_shapefile_with_mapped_fields(community: str, tmp_path: Path) -> None:
    rows = [
        {
            "GRID_CODE": f"{COMMUNITY}001",
            "COMM": COMMUNITY,
            "MC": "一网格",
            "HH_TARGET": 400,
            "geometry": box(109.80, 40.64, 109.82, 40.66),
        },
        {
            "GRID_CODE": f"{COMMUNITY}002",
            "COMM": COMMUNITY,
            "MC": "二网格",
            "HH_TARGET": 500,
            "geometry": box(109.82, 40.64, 109.84, 40.66),
        },
    ]
    path = _write(tmp_path / "grids.shp", rows)
    fields = {
        "code": "GRID_CODE",
        "community_code": "COMM",
        "name": "MC",
        "household_target": "HH_TARGET",
    }
    report = load_layer(community, "grid", path, fields=fields, progress=False)
    assert report.ok, report.format_text()
    with connect(community) as conn:
        targets = conn.execute("SELECT name, household_target FROM grid ORDER BY code").fetchall()
    assert targets == [("一网格", 400), ("二网格", 500)]
