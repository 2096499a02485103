"""A dataset folder (dataset.json, city.gpkg, CSV tables) loads in one transaction, in
dependency order, with its source on every row — or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box

from gis.crs import wgs84_to_gcj02
from gis.db import connect
from gis.loaders import load_dataset, load_layer
from tests.conftest import BOUNDARIES

STREET = "150203001000"
COMMUNITY = "150203001001"
COMMUNITY_BOX = box(109.80, 40.64, 109.84, 40.66)
TABLES = (
    "street",
    "community",
    "grid",
    "building",
    "household",
    "resident",
    "worker",
    "grid_assignment",
    "device",
)


def _layer(path: Path, layer: str, rows: list[dict], crs: str) -> None:
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    if crs == "gcj02":
        frame = frame.set_geometry(
            frame.geometry.map(lambda g: shapely.transform(g, wgs84_to_gcj02))
        )
    frame.to_file(path, layer=layer)


def make_dataset(folder: Path, *, crs: str = "wgs84", household_building: str = "B1") -> Path:
    folder.mkdir()
    meta = {"name": "test-city", "source": "wangge generate (test)", "generated": True, "crs": crs}
    (folder / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    gpkg = folder / "city.gpkg"
    _layer(
        gpkg,
        "streets",
        [
            {
                "code": STREET,
                "district_code": "150203",
                "name": "少先路街道",
                "geometry": box(109.79, 40.63, 109.85, 40.67),
            }
        ],
        crs,
    )
    _layer(
        gpkg,
        "communities",
        [
            {
                "code": COMMUNITY,
                "street_code": STREET,
                "name": "测试社区",
                "kind": "社区",
                "geometry": COMMUNITY_BOX,
            }
        ],
        crs,
    )
    _layer(
        gpkg,
        "grids",
        [
            {
                "code": f"{COMMUNITY}001",
                "community_code": COMMUNITY,
                "name": "一网格",
                "household_target": 450,
                "geometry": box(109.80, 40.64, 109.82, 40.66),
            },
            {
                "code": f"{COMMUNITY}002",
                "community_code": COMMUNITY,
                "name": "二网格",
                "household_target": 450,
                "geometry": box(109.82, 40.64, 109.84, 40.66),
            },
        ],
        crs,
    )
    _layer(
        gpkg,
        "buildings",
        [
            {
                "code": "B1",
                "community_code": COMMUNITY,
                "name": "1号楼",
                "floors": 6,
                "units": 2,
                "households": 1,
                "height_m": 18.0,
                "geometry": box(109.805, 40.645, 109.806, 40.646),
            },
        ],
        crs,
    )
    _layer(
        gpkg,
        "devices",
        [
            {
                "id": "cam-1",
                "kind": "camera",
                "model": "X1",
                "height_m": 40.0,
                "range_m": 3000.0,
                "building_code": "B1",
                "household_code": None,
                "geometry": shapely.Point(109.8055, 40.6455),
            },
        ],
        crs,
    )
    pd.DataFrame(
        {
            "code": ["H1"],
            "building_code": [household_building],
            "unit": [1],
            "room": ["101"],
            "members": [1],
            "tags": ["独居老人"],
            "consent": ["true"],
        }
    ).to_csv(folder / "households.csv", index=False)
    pd.DataFrame(
        {
            "household_code": ["H1"],
            "name": ["张三"],
            "birth_year": [1950],
            "id_number": ["150203195001011234"],
        }
    ).to_csv(folder / "residents.csv", index=False)
    pd.DataFrame(
        {"id": ["w001"], "name": ["赵网格"], "role": ["full_time"], "community_code": [COMMUNITY]}
    ).to_csv(folder / "workers.csv", index=False)
    pd.DataFrame(
        {"worker_id": ["w001"], "grid_code": [f"{COMMUNITY}001"], "role": ["full_time"]}
    ).to_csv(folder / "grid_assignments.csv", index=False)
    return folder


@pytest.fixture
def districts(database_url: str) -> str:
    path = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
    assert load_layer(database_url, "district", path, progress=False).ok
    return database_url


def _counts(database_url: str) -> dict[str, int]:
    with connect(database_url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_load_dataset_writes_every_part_with_its_source(districts: str, tmp_path: Path) -> None:
    report = load_dataset(districts, make_dataset(tmp_path / "city"), progress=False)
    assert report.ok, report.format_text()
    assert report.counts == {
        "street": 1,
        "community": 1,
        "grid": 2,
        "building": 1,
        "household": 1,
        "resident": 1,
        "worker": 1,
        "assignment": 1,
        "device": 1,
    }
    assert _counts(districts) == dict.fromkeys(TABLES, 1) | {"grid": 2}
    with connect(districts) as conn:
        sources = conn.execute(
            "SELECT source FROM street UNION SELECT source FROM grid UNION "
            "SELECT source FROM resident UNION SELECT source FROM device"
        ).fetchall()
        device_grid = conn.execute("SELECT grid_code FROM device").fetchone()[0]
    assert sources == [("generated: wangge generate (test)",)]
    assert device_grid == f"{COMMUNITY}001"


def test_load_dataset_with_one_bad_row_writes_nothing(districts: str, tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "city", household_building="B404")
    report = load_dataset(districts, folder, progress=False)
    assert [(e.kind, e.index, e.reason_code) for e in report.errors] == [
        ("household", 0, "parent_unknown")
    ]
    assert _counts(districts) == dict.fromkeys(TABLES, 0)


def test_load_dataset_in_gcj02_is_stored_in_wgs84(districts: str, tmp_path: Path) -> None:
    report = load_dataset(districts, make_dataset(tmp_path / "city", crs="gcj02"), progress=False)
    assert report.ok, report.format_text()
    with connect(districts) as conn:
        wkb = conn.execute("SELECT ST_AsBinary(geom) FROM community").fetchone()[0]
    stored = shapely.get_coordinates(shapely.from_wkb(wkb))
    expected = shapely.get_coordinates(shapely.MultiPolygon([COMMUNITY_BOX]))
    assert np.abs(stored - expected).max() < 1e-7  # ~1 cm
