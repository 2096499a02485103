"""Devices of the demo city, in metres (the writer converts to WGS84).

- tower cameras (铁塔, smoke and fire watch over 3–5 km) on a ~4 km lattice over the whole
  district, the hills included: ``CAM-T-0001`` …
- roof cameras (~500 m) on the tallest building of every compound: ``CAM-R-0001`` …
- water and electricity meters in every household of an elderly person living alone, for
  the elderly watch: ``WM-<household code>``, ``EM-<household code>``
- an access-control controller at every unit door: ``DOOR-<building code>-<unit>``
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon

TOWER_SPACING_M = 4_000.0
TOWER_BOUNDARY_MARGIN_M = 300.0
TOWER_HEIGHT_M = (30.0, 50.0)
TOWER_RANGE_M = (3_000.0, 5_000.0)
ROOF_RANGE_M = 500.0
ROOF_MAST_M = 3.0
DOOR_HEIGHT_M = 1.5
METER_HEIGHT_ABOVE_FLOOR_M = 1.0
FLOOR_HEIGHT_M = 2.9
MODELS = {
    "tower": "tower",
    "roof": "roof",
    "water_meter": "NB-IoT water meter",
    "electricity_meter": "NB-IoT smart electricity meter",
    "door": "access-control door controller",
}
COLUMNS = (
    "id",
    "kind",
    "model",
    "height_m",
    "range_m",
    "building_code",
    "household_code",
    "x",
    "y",
)


def make_devices(
    district: Polygon,
    buildings: pd.DataFrame,
    households: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """All devices; ``buildings`` needs code, x0, y0, x1, y1, units, height_m, community_code
    and compound; ``households`` needs code, building, unit, floor and elderly_alone."""
    return pd.concat(
        [
            _tower_cameras(district, rng),
            _roof_cameras(buildings),
            _unit_doors(buildings),
            *_elderly_meters(buildings, households),
        ],
        ignore_index=True,
    )[list(COLUMNS)]


def _frame(ids, kind: str, model: str, height_m, x, y, **columns) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ids,
            "kind": kind,
            "model": model,
            "height_m": np.round(np.asarray(height_m, dtype=float), 1),
            "range_m": columns.get("range_m", np.nan),
            "building_code": columns.get("building_code", ""),
            "household_code": columns.get("household_code", ""),
            "x": x,
            "y": y,
        }
    )


def _tower_cameras(district: Polygon, rng: np.random.Generator) -> pd.DataFrame:
    """Towers in reading order over a jittered lattice, kept well inside the district."""
    minx, miny, maxx, maxy = district.bounds
    xs = np.arange(minx + TOWER_SPACING_M / 2, maxx, TOWER_SPACING_M)
    ys = np.arange(maxy - TOWER_SPACING_M / 2, miny, -TOWER_SPACING_M)
    x, y = (a.ravel() for a in np.meshgrid(xs, ys))
    x = x + rng.uniform(-0.2, 0.2, len(x)) * TOWER_SPACING_M
    y = y + rng.uniform(-0.2, 0.2, len(y)) * TOWER_SPACING_M
    inside = shapely.contains_xy(district.buffer(-TOWER_BOUNDARY_MARGIN_M), x, y)
    n = int(inside.sum())
    return _frame(
        [f"CAM-T-{i:04d}" for i in range(1, n + 1)],
        "camera",
        MODELS["tower"],
        rng.uniform(*TOWER_HEIGHT_M, n),
        x[inside],
        y[inside],
        range_m=np.round(rng.uniform(*TOWER_RANGE_M, n), -2),
    )


def _roof_cameras(buildings: pd.DataFrame) -> pd.DataFrame:
    tallest = buildings.loc[
        buildings.groupby(["community_code", "compound"], sort=False)["height_m"].idxmax()
    ]
    return _frame(
        [f"CAM-R-{i:04d}" for i in range(1, len(tallest) + 1)],
        "camera",
        MODELS["roof"],
        tallest["height_m"].to_numpy() + ROOF_MAST_M,
        ((tallest["x0"] + tallest["x1"]) / 2).to_numpy(),
        ((tallest["y0"] + tallest["y1"]) / 2).to_numpy(),
        range_m=ROOF_RANGE_M,
        building_code=tallest["code"].to_numpy(),
    )


def _unit_centre_x(buildings: pd.DataFrame, building: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """East–west middle of a unit (units run west to east along the building)."""
    x0 = buildings["x0"].to_numpy()[building]
    length = buildings["x1"].to_numpy()[building] - x0
    return x0 + (unit - 0.5) * length / buildings["units"].to_numpy()[building]


def _unit_doors(buildings: pd.DataFrame) -> pd.DataFrame:
    """A door on the south face of each unit, just inside the footprint."""
    units = buildings["units"].to_numpy()
    building = np.repeat(np.arange(len(buildings)), units)
    unit = np.arange(len(building)) - np.repeat(np.cumsum(units) - units, units) + 1
    code = buildings["code"].to_numpy()[building]
    return _frame(
        [f"DOOR-{c}-{u}" for c, u in zip(code, unit, strict=True)],
        "door",
        MODELS["door"],
        np.full(len(building), DOOR_HEIGHT_M),
        _unit_centre_x(buildings, building, unit),
        buildings["y0"].to_numpy()[building] + 0.5,
        building_code=code,
    )


def _elderly_meters(buildings: pd.DataFrame, households: pd.DataFrame) -> list[pd.DataFrame]:
    """Water and electricity meters of every elderly person living alone, inside the flat."""
    alone = households[households["elderly_alone"].to_numpy()]
    building = alone["building"].to_numpy()
    x = _unit_centre_x(buildings, building, alone["unit"].to_numpy())
    y = ((buildings["y0"] + buildings["y1"]) / 2).to_numpy()[building]
    height = (alone["floor"].to_numpy() - 1) * FLOOR_HEIGHT_M + METER_HEIGHT_ABOVE_FLOOR_M
    return [
        _frame(
            (prefix + alone["code"]).to_numpy(),
            kind,
            MODELS[kind],
            height,
            x,
            y,
            building_code=alone["building_code"].to_numpy(),
            household_code=alone["code"].to_numpy(),
        )
        for prefix, kind in (("WM-", "water_meter"), ("EM-", "electricity_meter"))
    ]
