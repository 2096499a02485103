"""`wangge generate` writes the dataset contract: marked as generated, reproducible by seed,
real streets, everything inside the real 昆都仑区 polygon."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from gis.cli import main
from gis.demo.generate import generate
from tests.conftest import BOUNDARIES

HOUSEHOLDS = 12_000
SEED = 4242
TABLES = ("households.csv", "residents.csv", "workers.csv", "grid_assignments.csv")
LAYERS = {
    "streets": {"code", "district_code", "name"},
    "communities": {"code", "street_code", "name", "kind"},
    "grids": {"code", "community_code", "name", "household_target", "valid_from"},
    "buildings": {"code", "community_code", "name", "floors", "units", "households", "height_m"},
    "devices": {"id", "kind", "model", "height_m", "range_m", "building_code", "household_code"},
    "roads": {"id", "class"},
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "demo"
    generate(HOUSEHOLDS, SEED, out, BOUNDARIES)
    return out


def _layer(folder: Path, name: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(folder / "city.gpkg", layer=name)


def test_generate_marks_the_dataset_as_generated(city: Path) -> None:
    meta = json.loads((city / "dataset.json").read_text(encoding="utf-8"))
    assert meta["generated"] is True
    assert meta["source"] == f"generated:wangge-demo seed={SEED} households={HOUSEHOLDS}"
    assert meta["crs"] == "wgs84"
    assert (meta["seed"], meta["households"]) == (SEED, HOUSEHOLDS)
    assert "生成" in meta["notice"] and "generated" in meta["notice"]
    assert "生成" in meta["name"]


def test_generate_writes_every_layer_with_the_contract_columns(city: Path) -> None:
    assert {name for name, _ in pyogrio.list_layers(city / "city.gpkg")} == set(LAYERS)
    for name, columns in LAYERS.items():
        layer = _layer(city, name)
        assert layer.crs.to_epsg() == 4326, name
        assert set(layer.columns) - {"geometry"} == columns, name
        expected = {"devices": {"Point"}, "roads": {"MultiLineString"}}.get(name, {"MultiPolygon"})
        assert set(layer.geom_type) == expected, name
        assert layer.is_valid.all(), name


def test_generate_writes_exactly_the_requested_households(city: Path) -> None:
    with open(city / "households.csv", encoding="utf-8") as f:
        households = list(csv.DictReader(f))
    buildings = _layer(city, "buildings")
    assert len(households) == HOUSEHOLDS == buildings["households"].sum()
    per_building: dict[str, int] = {}
    for row in households:
        per_building[row["building_code"]] = per_building.get(row["building_code"], 0) + 1
    assert per_building == dict(zip(buildings["code"], buildings["households"], strict=True))


def test_generate_uses_the_real_streets_of_kundulun(city: Path) -> None:
    with open(BOUNDARIES / "subdistricts_baotou_hohhot_ulanhot.csv", encoding="utf-8") as f:
        real = {
            r["town_code_12"]: r["name"]
            for r in csv.DictReader(f)
            if r["district_adcode"] == "150203"
        }
    streets = _layer(city, "streets")
    assert dict(zip(streets["code"], streets["name"], strict=True)) == real
    assert set(streets["district_code"]) == {"150203"}

    communities = _layer(city, "communities")
    assert communities["code"].str.fullmatch(r"[0-9]{12}").all()
    assert (communities["code"].str[:9] == communities["street_code"].str[:9]).all()
    assert communities["name"].is_unique
    assert communities["name"].str.endswith(("社区", "村")).all()


def test_generate_keeps_everything_inside_kundulun(city: Path) -> None:
    districts = pyogrio.read_dataframe(BOUNDARIES / "inner_mongolia_districts_wgs84.geojson")
    kundulun = districts[districts["district_adcode"].astype(str) == "150203"].geometry.iloc[0]
    tolerant = kundulun.buffer(1e-7)  # ~1 cm: the metric round trip of boundary vertices
    for name in LAYERS:
        geoms = _layer(city, name).geometry.values
        outside = ~shapely.within(geoms, tolerant)
        assert not outside.any(), f"{name}: {outside.sum()} features outside 昆都仑区"
    streets = shapely.union_all(_layer(city, "streets").geometry.values)
    assert abs(streets.area - kundulun.area) < 1e-6 * kundulun.area  # streets cover it


def test_generate_gives_identical_files_for_the_same_seed(city: Path, tmp_path: Path) -> None:
    """Run again in another process, with another string-hash seed: nothing may depend on it."""
    again = tmp_path / "again"
    command = [sys.executable, "-m", "gis.cli", "generate", "--households", str(HOUSEHOLDS)]
    command += ["--seed", str(SEED), "--out", str(again)]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "WANGGE_DATA_DIR": str(BOUNDARIES.parent)}
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=120)
    for name in (*TABLES, "dataset.json"):
        assert (again / name).read_bytes() == (city / name).read_bytes(), name
    for name in LAYERS:
        first, second = _layer(city, name), _layer(again, name)
        assert first.drop(columns="geometry").equals(second.drop(columns="geometry")), name
        assert shapely.equals_exact(first.geometry.values, second.geometry.values, 0).all(), name


def test_generate_gives_another_city_for_another_seed(city: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(HOUSEHOLDS, SEED + 1, other, BOUNDARIES)
    assert (other / "households.csv").read_bytes() != (city / "households.csv").read_bytes()
    assert not _layer(other, "buildings").geometry.equals(_layer(city, "buildings").geometry)


def test_generate_command_writes_the_folder_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert main(["generate", "--households", "3000", "--seed", "5", "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert json.loads((out / "dataset.json").read_text(encoding="utf-8"))["households"] == 3000
    assert re.search(r"households per grid: +min \d+ / mean \d+ / max \d+", summary)
    assert "water_meter" in summary and "electricity_meter" in summary
