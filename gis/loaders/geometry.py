"""Geometry checks of a layer: shape and CRS sanity per feature, grids against their
community and against each other (in metres, in the layer's UTM zone)."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiLineString, MultiPolygon
from shapely.geometry.base import BaseGeometry

from gis.crs import CHINA_BBOX, WGS84
from gis.loaders.columns import Problem
from gis.loaders.kinds import GeometryRule

_POLYGON_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
_POINT_TYPES = (shapely.GeometryType.POINT,)
_LINE_TYPES = (shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING)
_ALLOWED = {"point": _POINT_TYPES, "line": _LINE_TYPES}
_EXPECTED = {"point": "Point", "line": "LineString/MultiLineString"}
LINES_ONLY_HINT = "; 只导入线要素 lines only: --where \"OGR_GEOMETRY LIKE '%LINESTRING'\""
"""OSM exports hold nodes and areas too (crossings, squares)."""


def check_geometries(
    geometry: gpd.GeoSeries, rule: GeometryRule, declared_crs: str, file_crs: str | None
) -> tuple[np.ndarray, list[Problem]]:
    """Rows whose geometry is usable, and a problem for every other row.

    Expects WGS84 (after conversion from the declared CRS): anything outside China's box,
    or not finite, means the declared CRS is wrong or lon/lat are swapped.
    """
    geoms = geometry.to_numpy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    present = ~missing & ~empty
    allowed = _ALLOWED.get(rule, _POLYGON_TYPES)
    wrong_type = present & ~np.isin(shapely.get_type_id(geoms), allowed)
    bounds = shapely.bounds(geoms)
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    in_range = (
        np.isfinite(bounds).all(axis=1)
        & (bounds[:, 0] >= min_lon)
        & (bounds[:, 1] >= min_lat)
        & (bounds[:, 2] <= max_lon)
        & (bounds[:, 3] <= max_lat)
    )
    out_of_range = present & ~wrong_type & ~in_range
    checkable = present & ~wrong_type & in_range
    invalid = np.zeros(len(geoms), dtype=bool)
    invalid[checkable] = ~shapely.is_valid(geoms[checkable])

    problems: list[Problem] = []
    if rule != "optional_polygon":
        problems += [
            Problem(int(i), "geometry_missing", "无几何 no geometry") for i in _at(missing)
        ]
    problems += [Problem(int(i), "geometry_empty", "几何为空 empty geometry") for i in _at(empty)]
    expected = _EXPECTED.get(rule, "Polygon/MultiPolygon")
    hint = LINES_ONLY_HINT if rule == "line" else ""
    problems += [
        Problem(int(i), "geometry_type", f"{geoms[i].geom_type}, 应为 expected {expected}{hint}")
        for i in _at(wrong_type)
    ]
    hint = _crs_hint(declared_crs, file_crs)
    problems += [
        Problem(int(i), "coordinates_out_of_range", _range_message(bounds[i], hint))
        for i in _at(out_of_range)
    ]
    problems += [
        Problem(int(i), "geometry_invalid", f"{shapely.is_valid_reason(geoms[i])}")
        for i in _at(invalid)
    ]
    usable = checkable & ~invalid
    if rule == "optional_polygon":
        usable |= missing
    return usable, problems


def _at(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _crs_hint(declared_crs: str, file_crs: str | None) -> str:
    hint = f"按 {declared_crs} 读取 read as {declared_crs}"
    if file_crs is not None and file_crs != WGS84 and declared_crs != file_crs:
        hint += f"; 文件声明 file declares {file_crs} (--crs {file_crs}?)"
    return hint


def _range_message(bounds: np.ndarray, hint: str) -> str:
    x0, y0, x1, y1 = (float(v) for v in bounds)
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    message = (
        f"范围 bounds ({x0:.6g}, {y0:.6g}, {x1:.6g}, {y1:.6g}) 不在中国境内 outside China; {hint}"
    )
    if min_lat <= x0 and x1 <= max_lat and min_lon <= y0 and y1 <= max_lon:
        message += "; 经纬度可能颠倒 lon/lat look swapped"
    return message


def as_multi(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons and lines promoted to MultiPolygons and MultiLineStrings (the tables store
    MULTIPOLYGON and MULTILINESTRING); others unchanged."""
    promoted = [
        MultiPolygon([g])
        if g is not None and g.geom_type == "Polygon"
        else MultiLineString([g])
        if g is not None and g.geom_type == "LineString"
        else g
        for g in geometry.to_numpy()
    ]
    return gpd.GeoSeries(promoted, index=geometry.index, crs=geometry.crs)


def _metric(geoms: list[BaseGeometry] | np.ndarray, crs) -> np.ndarray:
    return gpd.GeoSeries(list(geoms), crs=WGS84).to_crs(crs).to_numpy()


def grids_outside_communities(
    grids: gpd.GeoDataFrame, communities: Mapping[str, BaseGeometry], tolerance_m: float
) -> list[Problem]:
    """Grids (``community_code``, geometry; indexed by feature) not covered by their community
    grown by ``tolerance_m`` metres. Grids of communities not in ``communities`` are skipped."""
    grids = grids[grids["community_code"].isin(communities.keys())]
    if grids.empty:
        return []
    crs = grids.geometry.estimate_utm_crs()
    grid_m = _metric(grids.geometry.to_numpy(), crs)
    community_m = _metric([communities[code] for code in grids["community_code"]], crs)
    covered = shapely.covers(shapely.buffer(community_m, tolerance_m), grid_m)
    problems = []
    for k in np.flatnonzero(~covered):
        outside = shapely.difference(grid_m[k], community_m[k])
        reach = shapely.distance(shapely.points(shapely.get_coordinates(outside)), community_m[k])
        problems.append(
            Problem(
                int(grids.index[k]),
                "grid_outside_community",
                f"超出社区 {grids['community_code'].iloc[k]} outside its community: "
                f"{shapely.area(outside):,.0f} m², up to {np.max(reach, initial=0):,.1f} m "
                f"(tolerance {tolerance_m:g} m)",
            )
        )
    return problems


def overlapping_grids(
    grids: gpd.GeoDataFrame, current: gpd.GeoDataFrame, tolerance_m2: float
) -> list[Problem]:
    """Grids (indexed by feature) overlapping another grid of the same community, in the file
    or current in the DB, by more than ``tolerance_m2``. Both frames have ``code`` and
    ``community_code``; every grid of an overlapping pair in the file gets a problem."""
    if grids.empty:
        return []
    n = len(grids)
    features = grids.index.to_numpy()
    codes = np.concatenate([grids["code"].to_numpy(object), current["code"].to_numpy(object)])
    communities = np.concatenate(
        [grids["community_code"].to_numpy(object), current["community_code"].to_numpy(object)]
    )
    crs = grids.geometry.estimate_utm_crs()
    geoms = _metric(np.concatenate([grids.geometry.to_numpy(), current.geometry.to_numpy()]), crs)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (left < right) & (left < n) & (communities[left] == communities[right])
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    problems = []
    for a, b, area in zip(left, right, areas, strict=True):
        if area <= tolerance_m2:
            continue
        other = f"#{features[b]}" if b < n else "现行 current in DB"
        problems.append(
            Problem(
                int(features[a]),
                "grid_overlap",
                f"与 overlaps {codes[b]} ({other}): {area:,.1f} m²",
            )
        )
        if b < n:
            problems.append(
                Problem(
                    int(features[b]),
                    "grid_overlap",
                    f"与 overlaps {codes[a]} (#{features[a]}): {area:,.1f} m²",
                )
            )
    return problems
