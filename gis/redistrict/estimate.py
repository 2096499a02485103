"""Households of buildings that come without counts (OSM): floors × households per floor.

Only residential (or untyped) buildings get households. Floors come from the number of
levels when known, else from the height, else a low-rise default; households per floor
from the footprint area at a typical flat size. Every building records the assumption it
was estimated with, so a planner sees it and can override it with real counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

NON_RESIDENTIAL = frozenset(
    {
        "commercial", "office", "retail", "industrial", "warehouse", "hotel", "bank",
        "restaurant", "fast_food", "cafe", "attraction", "transportation", "tower",
        "communications_tower", "place_of_worship", "church", "temple", "school",
        "university", "college", "kindergarten", "hospital", "embassy", "arts_centre",
        "construction", "shed", "gate", "mall", "public", "civic", "government", "parking",
        "garage", "garages", "roof", "service", "train_station", "stadium", "sports_centre",
        "museum", "theatre", "cinema", "supermarket", "kiosk", "toilets", "bridge",
        "商业", "办公", "工业", "厂房", "仓库", "学校", "医院", "酒店", "商场", "公建",
    }
)  # fmt: skip
"""Building types (OSM ``building`` / Tilezen ``kind_detail``, common Chinese survey
types) that hold no households."""

TYPE_FIELDS = ("building", "kind_detail", "building_type")
LEVEL_FIELDS = ("building:levels", "levels", "floors")
HEIGHT_FIELDS = ("height",)
HOUSEHOLD_FIELDS = ("households", "building:flats", "flats")


@dataclass(frozen=True)
class EstimateRules:
    """How floors and households per floor are assumed."""

    storey_height_m: float = 3.0
    flat_area_m2: float = 90.0
    """Gross floor area per household, circulation and walls included."""
    usable_share: float = 0.8
    default_floors: int = 3
    min_footprint_m2: float = 30.0
    """Smaller footprints (kiosks, sheds, gatehouses) hold no households."""


@dataclass(frozen=True)
class Estimate:
    households: np.ndarray
    assumption: list[str]


def _first_column(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip().split(";")[0].removesuffix("m").strip())
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def estimate_households(
    attributes: pd.DataFrame, footprint_m2: np.ndarray, rules: EstimateRules
) -> Estimate:
    """Households of each building (row of ``attributes``) and the assumption behind it."""
    types = _first_column(attributes, TYPE_FIELDS)
    levels = _first_column(attributes, LEVEL_FIELDS)
    heights = _first_column(attributes, HEIGHT_FIELDS)
    known = _first_column(attributes, HOUSEHOLD_FIELDS)
    households = np.zeros(len(attributes), dtype=np.int64)
    assumptions: list[str] = []
    for i, (kind, level, height, count, area) in enumerate(
        zip(types, levels, heights, known, footprint_m2, strict=True)
    ):
        kind_text = str(kind).strip().lower() if isinstance(kind, str) else ""
        if (flats := _number(count)) is not None:
            households[i] = round(flats)
            assumptions.append(f"{round(flats)} households given in the data")
            continue
        if kind_text in NON_RESIDENTIAL:
            assumptions.append(f"non-residential ({kind_text}): 0")
            continue
        if area < rules.min_footprint_m2:
            assumptions.append(f"footprint {area:.0f} m² < {rules.min_footprint_m2:.0f} m²: 0")
            continue
        if (floors := _number(level)) is not None:
            source = f"{floors:g} levels"
        elif (metres := _number(height)) is not None:
            floors = max(1.0, round(metres / rules.storey_height_m))
            source = f"height {metres:g} m / {rules.storey_height_m:g} m = {floors:g} floors"
        else:
            floors = float(rules.default_floors)
            source = f"no levels or height: {rules.default_floors} floors assumed"
        per_floor = max(1, round(area * rules.usable_share / rules.flat_area_m2))
        households[i] = round(floors * per_floor)
        assumptions.append(
            f"{source} × {per_floor} per floor "
            f"({area:.0f} m² × {rules.usable_share:g} / {rules.flat_area_m2:g} m²)"
        )
    return Estimate(households, assumptions)
