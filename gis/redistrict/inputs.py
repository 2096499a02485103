"""Reading a planner's files: buildings (with or without households), roads, boundary, grids.

Every layer is returned in one metric CRS (the buildings' UTM zone), ready for geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gis.redistrict.estimate import EstimateRules, estimate_households

ID_FIELDS = ("id", "building_id", "osm_id", "code", "fid")
GRID_CODE_FIELDS = ("code", "grid_code", "grid")
CUT_ROAD_CLASSES = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "residential",
        "unclassified", "living_street", "motorway_link", "trunk_link", "primary_link",
        "secondary_link", "tertiary_link", "road", "rail",
    }
)  # fmt: skip
"""Road classes (OSM ``highway`` / ``railway``, Tilezen ``kind_detail``) that are cut lines.
Service roads, footways and paths run inside blocks and are not."""
TUNNEL_VALUES = frozenset({"true", "yes", "1", "t"})
"""Values of ``tunnel`` / ``is_tunnel`` (lower-cased) of a line that runs underground: not a
cut line (``T``: Geofabrik's shapefiles)."""
MIN_ROAD_PIECE_M = 1.0
"""Shorter pieces of road inside a boundary are rounding, not roads."""
NOT_A_BUILDING = frozenset({"building_part", "address", "entrance"})
"""Tilezen ``kind`` values of features that are not whole buildings."""


class InputError(ValueError):
    """A planner's file cannot be used; the message says what is wrong."""


@dataclass
class PlannerInputs:
    """One community's inputs, all in ``crs`` (metres)."""

    crs: CRS
    buildings: gpd.GeoDataFrame
    """Columns building_id (str), households (int), assumption (str), geometry."""
    boundary: BaseGeometry
    roads: np.ndarray
    """Line geometries of the cut roads (may be empty)."""
    current: gpd.GeoDataFrame | None = None
    """Current grids: column code, geometry; None when not given."""


POLYGONS = ("Polygon", "MultiPolygon")
LINES = ("LineString", "MultiLineString")
LAYER_HINTS = {
    "buildings": ("build", "建筑", "房屋", "楼"),
    "roads": ("road", "street", "highway", "道路", "街"),
    "boundary": ("boundary", "community", "社区", "边界", "范围"),
    "grids": ("grid", "网格"),
}
"""Words in a layer's name that say which input it is, when a file has several layers."""


def _pick_layer(path: Path, kinds: tuple[str, ...], role: str) -> str | None:
    """The layer of a multi-layer file (GeoPackage) to read: of those holding ``kinds``
    of geometry, the first whose name hints at ``role``, else the first; None for a
    single-layer file."""
    layers = pyogrio.list_layers(path)
    if len(layers) <= 1:
        return None
    fitting = [
        str(name)
        for name, geometry_type in layers
        if any(str(geometry_type).removeprefix("3D ").removesuffix(" Z") == k for k in kinds)
    ] or [str(name) for name, _ in layers]
    hinted = [name for name in fitting if any(h in name.lower() for h in LAYER_HINTS[role])]
    return (hinted or fitting)[0]


def _shapefile_encoding(path: Path, frame: gpd.GeoDataFrame) -> str | None:
    """The encoding of a Shapefile's attributes when it has no .cpg and GDAL's default
    (Latin-1) gave mojibake: UTF-8 or GBK (Chinese), whichever the bytes decode as."""
    if path.suffix.lower() != ".shp" or path.with_suffix(".cpg").exists():
        return None
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    texts = [
        value for column in attributes.columns if pd.api.types.is_string_dtype(attributes[column])
        for value in attributes[column].dropna().astype(str).head(200)
    ]  # fmt: skip
    raw = [t.encode("latin-1") for t in texts if any("\x80" <= c <= "\xff" for c in t)]
    if not raw or not all(len(t) == len(t.encode("latin-1", "ignore")) for t in texts):
        return None
    for encoding in ("utf-8", "gbk"):
        try:
            [value.decode(encoding) for value in raw]
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Valid polygonal geometries: invalid ones repaired (make_valid), collections reduced
    to their polygons (None where nothing polygonal is left)."""
    geoms = shapely.make_valid(geoms)
    odd = np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (3, 6)))
    for i in odd.tolist():
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        parts = shapely.get_parts(parts)
        geoms[i] = (
            None
            if not len(parts)
            else parts[0]
            if len(parts) == 1
            else shapely.multipolygons(parts)
        )
    return geoms


def _read(
    path: Path, kinds: tuple[str, ...] = POLYGONS, role: str = "buildings", repair: bool = True
) -> gpd.GeoDataFrame:
    """A layer of ``kinds`` of geometry, in 2D (a Z is dropped), polygons made valid unless
    ``repair`` is off (a plan's grids are measured as they are); a file without a CRS is
    taken as WGS84 when its coordinates are degrees."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    layer = _pick_layer(path, kinds, role)
    try:
        frame = gpd.read_file(path, layer=layer)
        encoding = _shapefile_encoding(path, frame)
        if encoding is not None:
            frame = gpd.read_file(path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path}: cannot be read as a GIS file ({exc})") from exc
    frame = frame[frame.geometry.notna()]
    geoms = shapely.force_2d(frame.geometry.to_numpy())
    if kinds == POLYGONS and repair:
        geoms = _polygonal(geoms)
    frame = frame.set_geometry(geoms, crs=frame.crs)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame[frame.geom_type.isin(kinds)]
    if frame.crs is None:
        x0, y0, x1, y1 = frame.total_bounds if len(frame) else (0, 0, 0, 0)
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise InputError(
                f"{path}: no coordinate system given and the coordinates are not degrees "
                f"(x {x0:.0f}..{x1:.0f}): add its .prj, or save it with its CRS"
            )
        frame = frame.set_crs("EPSG:4326")
    return frame


def _id_column(frame: pd.DataFrame) -> str | None:
    return next((name for name in ID_FIELDS if name in frame.columns), None)


def read_buildings(
    path: Path,
    households_field: str | None = None,
    households_csv: Path | None = None,
    rules: EstimateRules | None = None,
) -> gpd.GeoDataFrame:
    """Building footprints (WGS84 or as the file says), one row per building.

    Pieces sharing an id (OSM buildings cut at tile edges) are dissolved into one.
    Without ``households_field`` households are estimated (see :mod:`estimate`); a CSV or
    Excel file of ``id,households`` overrides any of them.
    """
    frame = _read(path, POLYGONS, "buildings")
    if "kind" in frame.columns:
        frame = frame[~frame["kind"].isin(NOT_A_BUILDING)]
    if frame.empty:
        raise InputError(f"{path}: no building polygons")
    id_column = _id_column(frame)
    if id_column is None:
        frame = frame.assign(building_id=[str(i) for i in range(len(frame))])
    else:
        # A feature without an id is a building of its own (row number), not one "nan".
        ids = frame[id_column].astype(str).where(frame[id_column].notna())
        rows = pd.Series([f"row{i}" for i in range(len(frame))], index=frame.index)
        frame = frame.assign(building_id=ids.fillna(rows))
    if frame["building_id"].duplicated().any():
        frame = frame.dissolve(by="building_id", as_index=False, aggfunc="first", sort=True)
    else:
        frame = frame.sort_values("building_id", ignore_index=True)
    metric = frame.estimate_utm_crs()
    areas = frame.to_crs(metric).area.to_numpy()
    if households_field is not None:
        if households_field not in frame.columns:
            raise InputError(f"{path}: no column {households_field!r}")
        values = pd.to_numeric(frame[households_field], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            first = frame.loc[bad, "building_id"].iloc[0]
            raise InputError(
                f"{path}: {int(bad.sum())} buildings without a valid {households_field!r} "
                f"(e.g. building {first})"
            )
        households = values.round().astype(np.int64).to_numpy()
        assumption = [f"{households_field} column"] * len(frame)
    else:
        estimate = estimate_households(frame, areas, rules or EstimateRules())
        households, assumption = estimate.households, estimate.assumption
    out = gpd.GeoDataFrame(
        {"building_id": frame["building_id"], "households": households, "assumption": assumption},
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs,
    )
    if households_csv is not None:
        out = apply_overrides(out, households_csv)
    return out


def read_counts(path: Path) -> pd.Series:
    """Household counts by building id from a CSV or Excel file (columns id, households)."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xls"):
        table = pd.read_excel(path, dtype={0: str})
    else:
        table = pd.read_csv(path, dtype=str)
    id_column = _id_column(table)
    if id_column is None or "households" not in table.columns:
        raise InputError(f"{path}: needs an id column ({', '.join(ID_FIELDS)}) and households")
    counts = pd.to_numeric(table["households"], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        row = int(np.flatnonzero(counts.isna() | (counts < 0))[0]) + 2
        raise InputError(f"{path}: line {row}: households must be a whole number >= 0")
    return pd.Series(counts.round().astype(np.int64).to_numpy(), index=table[id_column].str.strip())


def apply_overrides(buildings: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Buildings with the counts of ``path`` replacing their households (and assumption)."""
    counts = read_counts(path)
    unknown = counts.index.difference(buildings["building_id"])
    if len(unknown):
        raise InputError(f"{path}: {len(unknown)} ids are not buildings (e.g. {unknown[0]})")
    hit = buildings["building_id"].isin(counts.index).to_numpy()
    out = buildings.copy()
    ids = out.loc[hit, "building_id"]
    out.loc[hit, "households"] = counts.loc[ids].to_numpy()
    out.loc[hit, "assumption"] = f"counted ({path.name})"
    return out


def tunnel_flags(values: pd.Series) -> pd.Series:
    """True where a line's tunnel flag is set, written as text (``yes``, ``T``) or as a
    number (Tilezen's ``is_tunnel`` arrives as ``1.0`` from GeoJSON)."""
    text = values.astype(str).str.lower().str.removesuffix(".0")
    return values.notna() & text.isin(TUNNEL_VALUES)


def read_roads(path: Path) -> gpd.GeoDataFrame:
    """The cut-line roads of a file: all lines, or only major classes when classes are given."""
    frame = _read(path, LINES, "roads")
    for column in ("kind_detail", "highway", "railway"):
        if column in frame.columns:
            frame = frame[frame[column].isin(CUT_ROAD_CLASSES)]
            break
    for column in ("is_tunnel", "tunnel"):
        if column in frame.columns:
            frame = frame[~tunnel_flags(frame[column])]
    return frame


def read_boundary(path: Path) -> gpd.GeoDataFrame:
    frame = _read(path, POLYGONS, "boundary")
    if frame.empty:
        raise InputError(f"{path}: no boundary polygon")
    return frame


def read_grids(path: Path) -> gpd.GeoDataFrame:
    """Grid polygons with a code (``code``/``grid_code``/``grid``, else their order)."""
    frame = _read(path, POLYGONS, "grids", repair=False)
    if frame.empty:
        raise InputError(f"{path}: no grid polygons")
    column = next((name for name in GRID_CODE_FIELDS if name in frame.columns), None)
    codes = frame[column].astype(str) if column else pd.Series(range(len(frame))).astype(str)
    return gpd.GeoDataFrame(
        {"code": codes.to_numpy()}, geometry=frame.geometry.to_numpy(), crs=frame.crs
    )


NESTED_SHARE = 0.95
"""A footprint with at least this share of its area inside another's is part of it."""


def _container_of(footprints: np.ndarray) -> np.ndarray:
    """For each footprint, the outermost footprint it lies in (itself when none): identical
    footprints go to the first of them, a tower mapped on its podium to the podium."""
    tree = shapely.STRtree(footprints)
    a, b = tree.query(footprints, predicate="intersects")
    area = shapely.area(footprints)
    larger = (area[b] > area[a]) | ((area[b] == area[a]) & (b < a))
    a, b = a[larger], b[larger]
    inside = shapely.area(shapely.intersection(footprints[a], footprints[b], grid_size=0.01))
    nested = inside >= NESTED_SHARE * area[a]
    a, b = a[nested], b[nested]
    container = np.arange(len(footprints))
    # The largest container of each footprint; following containers up reaches the outermost.
    order = np.lexsort((b, area[b]))
    container[a[order]] = b[order]
    while (moved := container[container] != container).any():
        container[moved] = container[container[moved]]
    return container


def _merge_nested(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per structure: a footprint lying inside another (a duplicate feature, a tower
    mapped on the podium it stands on) is merged into it, which takes its households, so no
    household is lost. No grid boundary can part them without cutting the outer footprint."""
    footprints = buildings.geometry.to_numpy()
    first = _container_of(footprints)
    if (first == np.arange(len(buildings))).all():
        return buildings
    out = buildings[first == np.arange(len(buildings))].copy()
    totals = buildings.groupby(first)["households"].sum()
    merged = buildings.groupby(first)["building_id"].agg(";".join)
    out["households"] = totals.loc[out.index].to_numpy()
    several = merged.loc[out.index].str.contains(";").to_numpy()
    groups = pd.Series(footprints).groupby(first)
    out.loc[several, "geometry"] = [
        shapely.union_all(groups.get_group(g).to_numpy()) for g in out.index[several]
    ]
    out.loc[several, "assumption"] += (
        "; merged footprints lying inside it " + merged.loc[out.index[several]]
    )
    # Every id stays: the plan store assigns each of them (redistrict_apply splits on ";").
    out.loc[several, "building_id"] = merged.loc[out.index[several]].to_numpy()
    return out.reset_index(drop=True)


def assemble(
    buildings: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    current: gpd.GeoDataFrame | None = None,
    hull_buffer_m: float = 30.0,
) -> PlannerInputs:
    """The inputs in the buildings' UTM zone; the boundary defaults to the buffered hull.

    Buildings whose footprint's inner point lies outside the boundary are left out.
    """
    crs = buildings.estimate_utm_crs()
    metric = buildings.to_crs(crs).reset_index(drop=True)
    if boundary is not None:
        outline = shapely.union_all(boundary.to_crs(crs).geometry.to_numpy())
    else:
        corners = shapely.multipoints(shapely.get_coordinates(metric.geometry.to_numpy()))
        outline = shapely.convex_hull(corners).buffer(hull_buffer_m)  # no union: 100k buildings
    outline = shapely.make_valid(outline)
    inside = shapely.contains(outline, shapely.point_on_surface(metric.geometry.to_numpy()))
    metric = _merge_nested(metric[inside].reset_index(drop=True))
    if metric.empty:
        raise InputError("no building lies inside the boundary")
    lines = np.empty(0, dtype=object)
    if roads is not None and not roads.empty:
        clipped = shapely.get_parts(
            shapely.intersection(roads.to_crs(crs).geometry.to_numpy(), outline)
        )
        # A road ending on the outline can reach a hair over it (a projection's rounding):
        # that leaves a point or a sliver of line, which cuts nothing.
        lines = clipped[
            (shapely.get_type_id(clipped) == shapely.GeometryType.LINESTRING)
            & (shapely.length(clipped) >= MIN_ROAD_PIECE_M)
        ]
    grids = current.to_crs(crs).reset_index(drop=True) if current is not None else None
    return PlannerInputs(crs, metric, outline, lines, grids)
