"""The dataset folder contract that ``wangge load dataset DIR`` reads, and its writer.

DIR/dataset.json      name, source, generated, crs, seed, households, notice
DIR/city.gpkg         layers streets, communities, grids, buildings, devices (EPSG:4326)
DIR/households.csv    DIR/residents.csv    DIR/workers.csv    DIR/grid_assignments.csv

Files are written under a temporary name and renamed, and dataset.json goes last, so a
folder with a dataset.json is always complete. CSVs are byte-identical for the same input.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

DATASET_FILE = "dataset.json"
CITY_FILE = "city.gpkg"
CRS = "EPSG:4326"

LAYER_COLUMNS = {
    "streets": ("code", "district_code", "name"),
    "communities": ("code", "street_code", "name", "kind"),
    "grids": ("code", "community_code", "name", "household_target", "valid_from"),
    "buildings": ("code", "community_code", "name", "floors", "units", "households", "height_m"),
    "devices": ("id", "kind", "model", "height_m", "range_m", "building_code", "household_code"),
}
TABLE_COLUMNS = {
    "households": (
        "code",
        "building_code",
        "unit",
        "room",
        "members",
        "tags",
        "consent",
        "family_contact_name",
        "family_contact_phone",
    ),
    "residents": ("household_code", "name", "birth_year", "id_number", "phone"),
    "workers": ("id", "name", "role", "department", "phone", "community_code", "street_code"),
    "grid_assignments": ("worker_id", "grid_code", "role", "valid_from"),
}


def write_dataset(
    out: Path,
    meta: dict,
    layers: dict[str, gpd.GeoDataFrame],
    tables: dict[str, pd.DataFrame],
) -> None:
    """Write the folder; ``layers`` and ``tables`` may carry extra columns (dropped here)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / DATASET_FILE).unlink(missing_ok=True)

    city = out / f"partial-{CITY_FILE}"
    city.unlink(missing_ok=True)
    for name, columns in LAYER_COLUMNS.items():
        frame = layers[name]
        pyogrio.write_dataframe(
            gpd.GeoDataFrame(frame[list(columns)], geometry=frame.geometry.values, crs=CRS),
            city,
            layer=name,
            driver="GPKG",
        )
    os.replace(city, out / CITY_FILE)

    for name, columns in TABLE_COLUMNS.items():
        partial = out / f"partial-{name}.csv"
        tables[name][list(columns)].to_csv(partial, index=False, lineterminator="\n")
        os.replace(partial, out / f"{name}.csv")

    partial = out / f"partial-{DATASET_FILE}"
    partial.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out / DATASET_FILE)
