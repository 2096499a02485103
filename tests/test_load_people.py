"""Buildings, households (CSV and Excel), residents, workers, assignments and devices load;
ID numbers are kept only as mask and HMAC."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from shapely import box

from gis.db import connect
from gis.loaders import load_layer
from gis.pii import id_number_hmac
from gis.settings import get_settings
from tests.test_load_grids import BROKEN_GRIDS, COMMUNITY, _write, community  # noqa: F401

ZHANG_ID = "150203195001011234"
WANG_ID = "15020319600101123x"


@pytest.fixture
def buildings(community: str, tmp_path: Path) -> str:  # noqa: F811
    """Grids 001 and 002, building B1 in 001 and B2 (no community code given) in 002."""
    assert load_layer(
        community, "grid", _write(tmp_path / "g.geojson", BROKEN_GRIDS[:2]), progress=False
    ).ok
    rows = [
        {
            "code": "B1",
            "community_code": COMMUNITY,
            "name": "1号楼",
            "floors": 6,
            "units": 2,
            "households": 24,
            "height_m": 18.0,
            "geometry": box(109.802, 40.642, 109.803, 40.643),
        },
        {
            "code": "B2",
            "community_code": None,
            "name": "2号楼",
            "floors": 18,
            "units": 1,
            "households": 72,
            "height_m": 54.0,
            "geometry": box(109.812, 40.642, 109.813, 40.643),
        },
    ]
    report = load_layer(community, "building", _write(tmp_path / "b.geojson", rows), progress=False)
    assert report.ok, report.format_text()
    return community


HOUSEHOLDS = pd.DataFrame(
    {
        "code": ["H1", "H2"],
        "building_code": ["B1", "B2"],
        "unit": ["1", "1"],
        "room": ["101", "1802"],
        "members": ["1", "3"],
        "tags": ["独居老人|低保", ""],
        "consent": ["是", "false"],
        "family_contact_name": ["张小明", ""],
        "family_contact_phone": ["13800000001", ""],
    }
)


def _csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def test_load_people_households_residents_workers_and_assignments(
    buildings: str, tmp_path: Path
) -> None:
    url = buildings
    assert load_layer(url, "household", _csv(tmp_path / "h.csv", HOUSEHOLDS), progress=False).ok
    residents = pd.DataFrame(
        {
            "household_code": ["H1", "H2", "H2"],
            "name": ["张三", "李四", "王五"],
            "birth_year": ["1950", "1985", "1960"],
            "id_number": [ZHANG_ID, "", WANG_ID],
            "phone": ["13900000001", "", ""],
        }
    )
    report = load_layer(url, "resident", _csv(tmp_path / "r.csv", residents), progress=False)
    assert report.ok, report.format_text()
    workers = pd.DataFrame(
        {
            "id": ["w001", "w002"],
            "name": ["赵网格", "钱网格长"],
            "role": ["专职", "网格长"],
            "community_code": [COMMUNITY, COMMUNITY],
        }
    )
    assert load_layer(url, "worker", _csv(tmp_path / "w.csv", workers), progress=False).ok
    assignments = pd.DataFrame(
        {
            "worker_id": ["w001", "w002"],
            "grid_code": [f"{COMMUNITY}001", f"{COMMUNITY}001"],
            "role": ["full_time", "grid_head"],
        }
    )
    report = load_layer(url, "assignment", _csv(tmp_path / "a.csv", assignments), progress=False)
    assert report.counts == {"assignment": 2}

    with connect(url) as conn:
        household = conn.execute(
            "SELECT h.tags, h.consent, h.members, b.code, b.community_code "
            "FROM household h JOIN building b ON b.id = h.building_id WHERE h.code = 'H1'"
        ).fetchone()
        derived = conn.execute("SELECT community_code FROM building WHERE code = 'B2'").fetchone()
        people = conn.execute(
            "SELECT name, id_number_masked, id_number_hmac FROM resident ORDER BY name"
        ).fetchall()
        leaks = conn.execute(
            "SELECT count(*) FROM resident r WHERE upper(r::text) LIKE ANY(%s)",
            ([f"%{ZHANG_ID}%", f"%{WANG_ID.upper()}%"],),
        ).fetchone()[0]
        roles = conn.execute(
            "SELECT w.id, w.role, a.role FROM worker w JOIN grid_assignment a ON a.worker_id = w.id "
            "ORDER BY w.id"
        ).fetchall()
    assert household == (["独居老人", "低保"], True, 1, "B1", COMMUNITY)
    assert derived == (COMMUNITY,)
    assert people == [
        ("张三", "150***********1234", id_number_hmac(ZHANG_ID, get_settings().pii_secret)),
        ("李四", None, None),
        ("王五", "150***********123X", id_number_hmac(WANG_ID.upper(), get_settings().pii_secret)),
    ]
    assert leaks == 0
    assert roles == [("w001", "full_time", "full_time"), ("w002", "grid_head", "grid_head")]


def test_load_households_from_excel(buildings: str, tmp_path: Path) -> None:
    path = tmp_path / "households.xlsx"
    HOUSEHOLDS.to_excel(path, index=False, sheet_name="住户")
    report = load_layer(buildings, "household", path, layer="住户", progress=False)
    assert report.ok, report.format_text()
    assert report.counts == {"household": 2}
    with connect(buildings) as conn:
        rows = conn.execute("SELECT code, room, consent FROM household ORDER BY code").fetchall()
    assert rows == [("H1", "101", True), ("H2", "1802", False)]


def test_load_residents_with_bad_id_numbers_writes_nothing_and_never_echoes_them(
    buildings: str, tmp_path: Path
) -> None:
    assert load_layer(
        buildings, "household", _csv(tmp_path / "h.csv", HOUSEHOLDS), progress=False
    ).ok
    residents = pd.DataFrame(
        {
            "household_code": ["H1", "H2", "H2", "H9"],
            "name": ["甲", "乙", "丙", "丁"],
            "id_number": [ZHANG_ID, "15020319500101", ZHANG_ID, ""],
        }
    )
    report = load_layer(buildings, "resident", _csv(tmp_path / "r.csv", residents), progress=False)
    assert {(e.index, e.reason_code) for e in report.errors} == {
        (0, "value_invalid"),  # same ID number as #2
        (1, "value_invalid"),  # not an ID number
        (2, "value_invalid"),
        (3, "parent_unknown"),
    }
    text = report.format_text()
    assert ZHANG_ID not in text and "15020319500101" not in text
    with connect(buildings) as conn:
        assert conn.execute("SELECT count(*) FROM resident").fetchone()[0] == 0


def test_load_devices_from_csv_points_derive_their_grid(buildings: str, tmp_path: Path) -> None:
    assert load_layer(
        buildings, "household", _csv(tmp_path / "h.csv", HOUSEHOLDS), progress=False
    ).ok
    devices = pd.DataFrame(
        {
            "id": ["cam-1", "wm-1", "em-9"],
            "kind": ["camera", "水表", "电表"],
            "lon": ["109.8025", "109.8125", "109.95"],
            "lat": ["40.6425", "40.6425", "40.70"],
            "height_m": ["30", "", ""],
            "building_code": ["B1", "B2", ""],
            "household_code": ["", "H2", ""],
        }
    )
    report = load_layer(buildings, "device", _csv(tmp_path / "d.csv", devices), progress=False)
    assert report.ok, report.format_text()
    with connect(buildings) as conn:
        rows = conn.execute(
            "SELECT d.id, d.kind, d.grid_code, b.code, h.code FROM device d "
            "LEFT JOIN building b ON b.id = d.building_id "
            "LEFT JOIN household h ON h.id = d.household_id ORDER BY d.id"
        ).fetchall()
    assert rows == [
        ("cam-1", "camera", f"{COMMUNITY}001", "B1", None),
        ("em-9", "electricity_meter", None, None, None),
        ("wm-1", "water_meter", f"{COMMUNITY}002", "B2", "H2"),
    ]
