"""The dataset folder contract that ``wangge load dataset DIR`` reads, and its writer.

DIR/dataset.json      name, source, generated, crs, seed, households, notice
DIR/city.gpkg         layers streets, communities, grids, buildings, roads, devices (EPSG:4326)
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

from gis.loaders.kinds import KINDS
from gis.loaders.load import DATASET_LAYERS, DATASET_TABLES

DATASET_FILE = "dataset.json"
CITY_FILE = "city.gpkg"
CRS = "EPSG:4326"


def contract_columns(kind: str, frame: pd.DataFrame) -> list[str]:
    """The loader's columns of ``kind`` (gis.loaders.kinds, the one contract) that the frame
    has, in the loader's order; a required one that is missing raises KeyError on selection."""
    return [c.name for c in KINDS[kind].columns if c.required or c.name in frame.columns]


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
    for kind, name in DATASET_LAYERS.items():
        if name not in layers:  # the generator writes no district layer: they are real data
            continue
        frame = layers[name]
        columns = contract_columns(kind, frame)
        pyogrio.write_dataframe(
            gpd.GeoDataFrame(frame[columns], geometry=frame.geometry.values, crs=CRS),
            city,
            layer=name,
            driver="GPKG",
        )
    os.replace(city, out / CITY_FILE)

    for kind, file_name in DATASET_TABLES.items():
        frame = tables[file_name.removesuffix(".csv")]
        partial = out / f"partial-{file_name}"
        frame[contract_columns(kind, frame)].to_csv(partial, index=False, lineterminator="\n")
        os.replace(partial, out / file_name)

    partial = out / f"partial-{DATASET_FILE}"
    partial.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out / DATASET_FILE)
