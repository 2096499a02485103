"""Small synthetic communities for the redistricting tests (WGS84 near Baotou).

A community is a lattice of blocks separated by streets; each block holds a few
rectangular buildings with given households. Coordinates are laid out in metres and
converted with a local equirectangular scaling (exact enough for tests of a few hundred m).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

LON0, LAT0 = 109.84, 40.65
KX = 111_320.0 * math.cos(math.radians(LAT0))
KY = 110_574.0
BLOCK_M = 100.0
STREET_M = 20.0


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(
        geoms, lambda xy: np.column_stack((LON0 + xy[:, 0] / KX, LAT0 + xy[:, 1] / KY))
    )


def lattice(
    blocks_x: int, blocks_y: int, per_block: int, households: np.ndarray | int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(buildings with id/households, street lines, boundary) of a blocks_x × blocks_y city.

    Each block holds ``per_block`` buildings in a row; ``households`` per building (one
    number for all, or one per building in block-row order).
    """
    pitch = BLOCK_M + STREET_M
    footprints = []
    width = BLOCK_M / per_block
    for by in range(blocks_y):
        for bx in range(blocks_x):
            x0, y0 = bx * pitch, by * pitch
            for i in range(per_block):
                footprints.append(
                    shapely.box(x0 + i * width + 5, y0 + 20, x0 + (i + 1) * width - 5, y0 + 80)
                )
    count = len(footprints)
    counts = np.broadcast_to(np.asarray(households), (count,)).astype(int)
    buildings = gpd.GeoDataFrame(
        {"id": [f"b{i:04d}" for i in range(count)], "households": counts},
        geometry=to_wgs84(np.asarray(footprints, dtype=object)),
        crs="EPSG:4326",
    )
    extent_x, extent_y = blocks_x * pitch - STREET_M, blocks_y * pitch - STREET_M
    lines = [
        shapely.LineString(
            [(bx * pitch - STREET_M / 2, -10), (bx * pitch - STREET_M / 2, extent_y + 10)]
        )
        for bx in range(1, blocks_x)
    ] + [
        shapely.LineString(
            [(-10, by * pitch - STREET_M / 2), (extent_x + 10, by * pitch - STREET_M / 2)]
        )
        for by in range(1, blocks_y)
    ]
    roads = gpd.GeoDataFrame(
        {"highway": ["residential"] * len(lines)},
        geometry=to_wgs84(np.asarray(lines, dtype=object)),
        crs="EPSG:4326",
    )
    outline = shapely.box(-10, -10, extent_x + 10, extent_y + 10)
    boundary = gpd.GeoDataFrame(
        {"name": ["test community"]}, geometry=to_wgs84(np.asarray([outline])), crs="EPSG:4326"
    )
    return buildings, roads, boundary


def write_lattice(folder: Path, *args, **kwargs) -> dict[str, Path]:
    """The lattice's layers as GeoJSON files in ``folder``."""
    layers = dict(zip(("buildings", "roads", "boundary"), lattice(*args, **kwargs), strict=True))
    paths = {}
    for name, layer in layers.items():
        paths[name] = folder / f"{name}.geojson"
        layer.to_file(paths[name])
    return paths
