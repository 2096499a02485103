"""Coordinate reference systems at the edges: GCJ-02 ⇄ WGS84, BD-09 ⇄ GCJ-02, and any
source CRS → WGS84.

Chinese web maps (AMap/高德, Tencent, DataV) publish GCJ-02, an obfuscated datum that is
500–650 m off WGS84 around Baotou. The forward formula below is the public one (as in
eviltransform/coordtransform); its inverse has no closed form and is solved iteratively to
well below a centimetre. Outside mainland China's rough box GCJ-02 equals WGS84.

Baidu maps (百度) use BD-09, a further public transform of GCJ-02; the field app's
"navigate with Baidu" link needs it (maps/static/js/bd09.js is the same formula).

Everything works on whole numpy arrays, so ``shapely.transform`` converts a layer in one call.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

WGS84 = "EPSG:4326"

# Where GCJ-02 applies (the box the public formula uses).
_GCJ_LON_RANGE = (72.004, 137.8347)
_GCJ_LAT_RANGE = (0.8293, 55.8271)

CHINA_BBOX = (73.0, 3.0, 136.0, 54.0)
"""(min lon, min lat, max lon, max lat) in degrees: data of this platform lies inside it, so a
feature outside it after conversion means a wrongly declared CRS (or swapped lon/lat)."""

# Krasovsky 1940 ellipsoid, as the GCJ-02 formula uses it.
_A = 6378245.0
_EE = 0.00669342162296594323

_INVERSE_TOLERANCE_DEG = 1e-10  # ≈ 0.01 mm
_INVERSE_MAX_ITERATIONS = 30


def _inside_gcj_area(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (
        (lon >= _GCJ_LON_RANGE[0])
        & (lon <= _GCJ_LON_RANGE[1])
        & (lat >= _GCJ_LAT_RANGE[0])
        & (lat <= _GCJ_LAT_RANGE[1])
    )


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (degrees) to add to WGS84 lon/lat; zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = _inside_gcj_area(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def wgs84_to_gcj02(coords: np.ndarray) -> np.ndarray:
    """WGS84 → GCJ-02 for an (n, 2) array of lon/lat degrees."""
    coords = np.asarray(coords, dtype=float)
    d_lon, d_lat = _gcj_offset(coords[:, 0], coords[:, 1])
    return np.column_stack((coords[:, 0] + d_lon, coords[:, 1] + d_lat))


def gcj02_to_wgs84(coords: np.ndarray) -> np.ndarray:
    """GCJ-02 → WGS84 for an (n, 2) array of lon/lat degrees.

    Fixed-point iteration on ``w = g - offset(w)``: the offset changes by well under 1e-3
    of itself per metre, so each step gains about three digits; a few steps reach 1e-10°.
    """
    gcj = np.asarray(coords, dtype=float)
    wgs = gcj.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        error = wgs84_to_gcj02(wgs) - gcj
        wgs -= error
        if not np.nanmax(np.abs(error), initial=0.0) > _INVERSE_TOLERANCE_DEG:
            break
    return wgs


_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_OFFSET = (0.0065, 0.006)


def gcj02_to_bd09(coords: np.ndarray) -> np.ndarray:
    """GCJ-02 → BD-09 (Baidu) for an (n, 2) array of lon/lat degrees: the public formula."""
    gcj = np.asarray(coords, dtype=float)
    x, y = gcj[:, 0], gcj[:, 1]
    radius = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return np.column_stack(
        (radius * np.cos(theta) + _BD_OFFSET[0], radius * np.sin(theta) + _BD_OFFSET[1])
    )


def bd09_to_gcj02(coords: np.ndarray) -> np.ndarray:
    """BD-09 → GCJ-02: the public inverse (good to about a metre; Baidu's own is the same)."""
    bd = np.asarray(coords, dtype=float)
    x, y = bd[:, 0] - _BD_OFFSET[0], bd[:, 1] - _BD_OFFSET[1]
    radius = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return np.column_stack((radius * np.cos(theta), radius * np.sin(theta)))


def wgs84_to_bd09(coords: np.ndarray) -> np.ndarray:
    return gcj02_to_bd09(wgs84_to_gcj02(coords))


def normalize_crs_name(source_crs: str) -> str:
    """ "gcj02" / "wgs84" (any case, with or without a dash) or a pyproj CRS string as given."""
    compact = source_crs.strip().lower().replace("-", "").replace("_", "")
    if compact in ("gcj02", "gcj"):
        return "gcj02"
    if compact in ("wgs84", "epsg:4326", "4326"):
        return "wgs84"
    CRS.from_user_input(source_crs)  # raises pyproj.exceptions.CRSError if unknown
    return source_crs.strip()


def to_wgs84(gdf: gpd.GeoDataFrame, source_crs: str) -> gpd.GeoDataFrame:
    """The layer in WGS84 (EPSG:4326), 2D, its coordinates read as ``source_crs``.

    ``source_crs`` is "gcj02", "wgs84" or any pyproj CRS string ("EPSG:4490", "EPSG:32649").
    It is authoritative: whatever CRS the file itself declares is overridden, because
    GeoJSON always claims EPSG:4326 even for GCJ-02 data.
    """
    name = normalize_crs_name(source_crs)
    geometry = shapely.force_2d(gdf.geometry.to_numpy())
    if name == "gcj02":
        geometry = shapely.transform(geometry, gcj02_to_wgs84)
    out = gdf.set_geometry(gpd.GeoSeries(geometry, index=gdf.index), crs=None)
    if name in ("gcj02", "wgs84"):
        return out.set_crs(WGS84, allow_override=True)
    return out.set_crs(name, allow_override=True).to_crs(WGS84)
