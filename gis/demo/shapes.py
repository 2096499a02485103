"""Small geometry helpers: every area layer of the dataset is written as MultiPolygon, the
road layer as MultiLineString."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons in ``geom`` (clipping can leave stray lines and points)."""
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]


def as_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    return MultiPolygon(polygon_parts(geom))


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Vectorised: single polygons promoted, collections reduced to their polygons."""
    out = np.empty(len(geoms), dtype=object)
    single = shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON
    out[single] = shapely.multipolygons(geoms[single, np.newaxis])
    out[~single] = [as_multipolygon(g) for g in geoms[~single]]
    return out


def line_parts(geom: BaseGeometry) -> list[LineString]:
    """The non-empty lines in ``geom`` (clipping a line can leave points where it touches)."""
    return [p for p in shapely.get_parts(geom) if isinstance(p, LineString) and not p.is_empty]


def as_multilinestrings(geoms: np.ndarray) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    out[:] = [MultiLineString(line_parts(g)) for g in geoms]
    return out
