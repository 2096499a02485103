"""Road loads: OSM exports and Chinese classes go in as OSM classes, bad features are named
and nothing is written, and loading the same file again adds no road."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shapely import LineString, MultiLineString, Point

from gis.db import connect
from gis.loaders import load_layer
from tests.conftest import REPO_ROOT

LUJIAZUI_ROADS = REPO_ROOT / "data" / "osm" / "shanghai_lujiazui_roads.geojson"


def _write(path: Path, features: list[dict]) -> Path:
    """A GeoJSON file as Overpass/osmtogeojson writes it (properties with ``@id``)."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": geometry.__geo_interface__}
            for props, geometry in features
        ],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


OSM_EXPORT = [
    ({"@id": "way/1", "highway": "primary", "name": "钢铁大街"}, LineString([(109.80, 40.65), (109.84, 40.65)])),
    ({"@id": "way/2", "highway": "footway"}, LineString([(109.81, 40.64), (109.81, 40.66)])),
    ({"@id": "way/3", "highway": "secondary", "tunnel": "yes"}, LineString([(109.82, 40.64), (109.82, 40.66)])),
    ({"highway": "主干路", "name": "阿尔丁大街"}, MultiLineString([[(109.80, 40.655), (109.84, 40.655)]])),
]  # fmt: skip


def _roads(database_url: str) -> list[tuple]:
    with connect(database_url) as conn:
        return conn.execute(
            "SELECT code, class, name, tunnel, ST_GeometryType(geom), source FROM road ORDER BY code"
        ).fetchall()


def test_load_osm_roads_then_the_same_file_again_adds_nothing(
    database_url: str, tmp_path: Path
) -> None:
    path = _write(tmp_path / "roads.geojson", OSM_EXPORT)
    report = load_layer(database_url, "road", path, progress=False)
    assert report.ok, report.format_text()
    assert report.counts == {"road": 4}
    first = _roads(database_url)
    unnamed = [r for r in first if r[0].startswith("line:")]
    assert [(r[1], r[2]) for r in unnamed] == [("primary", "阿尔丁大街")]
    named = {r[0]: r[1:4] for r in first if not r[0].startswith("line:")}
    assert named == {
        "way/1": ("primary", "钢铁大街", False),
        "way/2": ("footway", None, False),
        "way/3": ("secondary", None, True),
    }
    assert {r[4] for r in first} == {"ST_MultiLineString"}
    assert {r[5] for r in first} == {"roads.geojson"}

    again = load_layer(database_url, "road", path, progress=False)
    assert again.ok, again.format_text()
    assert _roads(database_url) == first


def test_pieces_of_one_road_and_the_same_line_twice_load_as_one_road(
    database_url: str, tmp_path: Path
) -> None:
    west, east = (
        LineString([(109.80, 40.65), (109.82, 40.65)]),
        LineString([(109.82, 40.65), (109.84, 40.65)]),
    )
    twice = LineString([(109.81, 40.64), (109.81, 40.66)])
    path = _write(
        tmp_path / "tiles.geojson",
        [
            ({"id": 7, "kind_detail": "primary", "name": "钢铁大街"}, west),
            ({"id": 7, "kind_detail": "primary", "name": "钢铁大街"}, east),
            ({"id": 7, "kind_detail": "primary", "name": "钢铁大街"}, east),
            ({"kind_detail": "tertiary"}, twice),
            ({"kind_detail": "tertiary"}, twice),
        ],
    )  # fmt: skip
    report = load_layer(database_url, "road", path, progress=False)
    assert report.ok, report.format_text()
    assert report.counts == {"road": 2}
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT code, ST_NumGeometries(geom), ST_Length(geom::geography) FROM road ORDER BY code"
        ).fetchall()
    assert [(code.startswith("line:"), parts) for code, parts, _ in rows] == [(False, 2), (True, 1)]
    assert rows[0][0] == "7" and 3_300 < rows[0][2] < 3_400  # 0.04° of longitude at 40.65°N


def test_a_geofabrik_shapefile_keys_roads_by_osm_id_not_by_its_class_code(
    database_url: str, tmp_path: Path
) -> None:
    """Geofabrik's ``code`` is the class (5113 = primary): two primaries stay two roads."""
    import geopandas as gpd

    path = tmp_path / "gis_osm_roads_free_1.shp"
    gpd.GeoDataFrame(
        {
            "osm_id": ["101", "102", "103"],
            "code": [5113, 5113, 5114],
            "fclass": ["primary", "primary", "secondary"],
            "name": ["钢铁大街", "阿尔丁大街", None],
            "tunnel": ["F", "F", "T"],
        },
        geometry=[line for _, line in OSM_EXPORT[:3]],
        crs="EPSG:4326",
    ).to_file(path, encoding="utf-8")
    report = load_layer(database_url, "road", path, progress=False)
    assert report.ok, report.format_text()
    assert [r[:4] for r in _roads(database_url)] == [
        ("101", "primary", "钢铁大街", False),
        ("102", "primary", "阿尔丁大街", False),
        ("103", "secondary", None, True),
    ]


def test_the_real_lujiazui_roads_load_with_their_tunnels_flagged(database_url: str) -> None:
    """Tilezen tiles (pieces sharing an id, ``kind_detail``, ``is_tunnel`` = 1)."""
    report = load_layer(database_url, "road", LUJIAZUI_ROADS, progress=False)
    assert report.ok, report.format_text()
    with connect(database_url) as conn:
        roads, tunnels, primary = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE tunnel), "
            "count(*) FILTER (WHERE class = 'primary') FROM road"
        ).fetchone()
    assert roads == report.counts["road"] < 1_778  # pieces merged
    assert tunnels > 0 and primary > 0


def test_load_roads_rejects_points_and_off_map_lines_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "bad.geojson",
        [
            *OSM_EXPORT[:1],
            ({"@id": "node/9", "highway": "traffic_signals"}, Point(109.81, 40.65)),
            ({"@id": "way/4", "highway": "primary"}, LineString([(40.65, 109.80), (40.66, 109.81)])),
            ({"@id": "way/" + "9" * 70, "highway": "primary"}, LineString([(109.80, 40.66), (109.84, 40.66)])),
        ],
    )  # fmt: skip
    report = load_layer(database_url, "road", path, progress=False)
    assert not report.ok
    reasons = {(e.index, e.code, e.reason_code) for e in report.errors}
    assert reasons == {
        (1, "node/9", "geometry_type"),
        (2, "way/4", "coordinates_out_of_range"),
        (3, "way/" + "9" * 70, "code_malformed"),
    }
    point = next(e for e in report.errors if e.reason_code == "geometry_type")
    assert "LineString" in point.message and "OGR_GEOMETRY" in point.message
    assert _roads(database_url) == []


def test_load_roads_cli_takes_the_lines_of_a_mixed_osm_export(
    database_url: str, tmp_path: Path
) -> None:
    """``wangge load roads``, with the filter the geometry error suggests."""
    path = _write(
        tmp_path / "osm.geojson",
        [*OSM_EXPORT, ({"@id": "node/9", "highway": "crossing"}, Point(109.81, 40.65))],
    )
    command = [sys.executable, "-m", "gis.cli", "load", "roads", str(path), "-q"]
    env = {**os.environ, "WANGGE_DATABASE_URL": database_url}
    rejected = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert rejected.returncode == 1
    assert "geometry_type" in rejected.stdout
    where = ["--where", "OGR_GEOMETRY LIKE '%LINESTRING'"]
    loaded = subprocess.run(command + where, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "road 4" in loaded.stdout
    assert len(_roads(database_url)) == 4
