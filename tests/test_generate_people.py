"""Generated households, residents, workers and devices: fake but well-formed ID numbers,
meters for every elderly person living alone, a worker for every responsibility."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.demo.generate import generate
from gis.demo.idcard import check_character, fake_id_numbers, is_valid
from tests.conftest import BOUNDARIES

HOUSEHOLDS = 10_000
SEED = 31337
IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "demo"
    generate(HOUSEHOLDS, SEED, out, BOUNDARIES)
    return out


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


def _layer(folder: Path, name: str) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(folder / "city.gpkg", layer=name)


def test_check_character_matches_a_published_example() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert check_character("11010519491231002") == "X"
    assert is_valid("11010519491231002X")
    assert not is_valid("110105194912310021")  # wrong check character
    assert not is_valid("11010519490231002X")  # 31 February


def test_fake_id_numbers_stay_distinct_when_many_share_a_birthday() -> None:
    birthdays = np.full(900, np.datetime64("1960-05-04"))
    numbers = fake_id_numbers("150203", birthdays, np.random.default_rng(1))
    assert len(set(numbers)) == 900
    assert all(n.startswith("15020319600504") and is_valid(n) for n in numbers)


def test_residents_carry_valid_fake_id_numbers_of_kundulun(city: Path) -> None:
    residents = _csv(city, "residents")
    ids = residents["id_number"]
    assert ids.is_unique
    assert ids.str.startswith("150203").all()
    assert (ids.str[6:10] == residents["birth_year"]).all()
    assert all(is_valid(n) for n in ids)


def test_households_have_residents_and_a_realistic_share_of_elderly_alone(city: Path) -> None:
    households = _csv(city, "households")
    residents = _csv(city, "residents")
    members = residents.groupby("household_code").size()
    assert (
        members.reindex(households["code"]).to_numpy() == households["members"].astype(int)
    ).all()
    alone = households["tags"].str.split("|").apply(lambda tags: "独居老人" in tags)
    assert 0.03 <= alone.mean() <= 0.06
    assert (households.loc[alone, "members"] == "1").all()
    elderly_residents = residents.set_index("household_code").loc[households.loc[alone, "code"]]
    assert (2026 - elderly_residents["birth_year"].astype(int) >= 65).all()
    assert (households.loc[alone, "family_contact_phone"] != "").all()
    assert set(households["consent"]) == {"true", "false"}


def test_every_elderly_person_living_alone_has_water_and_electricity_meters(city: Path) -> None:
    households = _csv(city, "households")
    alone = households[households["tags"].str.split("|").apply(lambda t: "独居老人" in t)]
    devices = _layer(city, "devices")
    for kind, prefix in (("water_meter", "WM-"), ("electricity_meter", "EM-")):
        meters = devices[devices["kind"] == kind].set_index("household_code")
        assert set(meters.index) == set(alone["code"]), kind
        assert (meters["id"] == prefix + meters.index).all()
        assert (
            meters.loc[alone["code"], "building_code"].to_numpy() == alone["building_code"]
        ).all()

    buildings = _layer(city, "buildings").set_index("code")
    meters = devices[devices["kind"] == "water_meter"]
    footprints = buildings.geometry[meters["building_code"]].to_numpy()
    assert shapely.within(meters.geometry.values, footprints).all()  # inside the flat's building


def test_devices_are_well_formed(city: Path) -> None:
    devices = _layer(city, "devices")
    assert devices["id"].is_unique
    assert devices["id"].map(lambda i: bool(IDENTIFIER.match(i))).all()
    cameras = devices[devices["kind"] == "camera"]
    towers = cameras[cameras["model"] == "tower"]
    roofs = cameras[cameras["model"] == "roof"]
    assert len(towers) > 0 and towers["range_m"].between(3_000, 5_000).all()
    assert len(roofs) > 0 and (roofs["range_m"] == 500).all()
    assert roofs["building_code"].notna().all()
    buildings = _layer(city, "buildings")
    doors = devices[devices["kind"] == "door"]
    assert len(doors) == buildings["units"].sum()  # one per unit entrance


def test_every_responsibility_has_a_worker(city: Path) -> None:
    workers = _csv(city, "workers").set_index("id")
    assignments = _csv(city, "grid_assignments")
    grids = _layer(city, "grids")
    communities = _layer(city, "communities")
    assert workers.index.is_unique
    assert all(IDENTIFIER.match(i) for i in workers.index)
    assert set(assignments["worker_id"]) <= set(workers.index)
    assert set(assignments["grid_code"]) <= set(grids["code"])

    per_grid = assignments.groupby(["grid_code", "role"]).size().unstack(fill_value=0)
    for role in ("full_time", "part_time", "grid_head", "cadre", "duty_desk"):
        assert (per_grid.reindex(grids["code"])[role] == 1).all(), role
    assert (per_grid.reindex(grids["code"])["department"] >= 7).all()
    assert set(workers.loc[[f"W-{g}" for g in grids["code"]], "role"]) == {"full_time"}

    for role in ("grid_head", "cadre", "duty_desk"):
        assert sorted(workers.loc[workers["role"] == role, "community_code"]) == sorted(
            communities["code"]
        )
    departments = workers[workers["role"] == "department"]
    for street in communities["street_code"].unique():
        assert "消防" in set(departments.loc[departments["street_code"] == street, "department"])
