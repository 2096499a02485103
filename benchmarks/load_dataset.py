"""Dataset load benchmark: ``load_dataset`` on a generated city of ~1M households.

Builds its own database (wangge_bench_load_*), loads the real district file, then writes a
clearly generated dataset folder — communities in a lattice inside 昆都仑区's bounding box,
3×3 grids per community, 10 buildings of 45 households per grid, 2.5 residents per
household (every one with a well-formed, fake ID number), a worker and an assignment per
grid, a camera per building — and loads it in one transaction. Prints the stage lines and a
summary, then one JSON line.

    .venv/bin/python benchmarks/load_dataset.py [--households 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import admin, migrate
from gis.db import connect
from gis.loaders import load_dataset, load_layer
from gis.settings import get_settings

BOUNDARIES = Path(__file__).resolve().parent.parent / "data" / "boundaries"
STREETS = ["150203001000", "150203003000", "150203004000", "150203005000", "150203006000"]
ORIGIN = (109.70, 40.62)
COMMUNITY_DEG = 0.006
GRIDS_SIDE = 3
BUILDINGS_PER_GRID = 10
HOUSEHOLDS_PER_BUILDING = 45
RESIDENTS_PER_HOUSEHOLD = 2.5


def _box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(x, y, x + w, y + h)


def make_dataset(folder: Path, households: int) -> dict[str, int]:
    """Write the generated dataset; returns the row count of each part."""
    per_grid = BUILDINGS_PER_GRID * HOUSEHOLDS_PER_BUILDING
    n_grids = -(-households // per_grid)
    n_communities = -(-n_grids // GRIDS_SIDE**2)
    side = int(np.ceil(np.sqrt(n_communities)))
    communities, grids, buildings, devices = [], [], [], []
    for c in range(n_communities):
        street = STREETS[c % len(STREETS)]
        code = f"{street[:9]}{c // len(STREETS) + 1:03d}"
        x0 = ORIGIN[0] + (c % side) * COMMUNITY_DEG
        y0 = ORIGIN[1] + (c // side) * COMMUNITY_DEG
        communities.append(
            {
                "code": code,
                "street_code": street,
                "name": f"生成社区{c + 1}",
                "geometry": _box(x0, y0, COMMUNITY_DEG, COMMUNITY_DEG),
            }
        )
        cell = COMMUNITY_DEG / GRIDS_SIDE
        for g in range(GRIDS_SIDE**2):
            if len(grids) == n_grids:
                break
            gx, gy = x0 + (g % GRIDS_SIDE) * cell, y0 + (g // GRIDS_SIDE) * cell
            grid_code = f"{code}{g + 1:03d}"
            grids.append(
                {
                    "code": grid_code,
                    "community_code": code,
                    "name": f"网格{g + 1}",
                    "geometry": _box(gx, gy, cell, cell),
                }
            )
            for b in range(BUILDINGS_PER_GRID):
                bx, by = gx + (b % 5 + 0.2) * cell / 5, gy + (b // 5 + 0.2) * cell / 2
                building = f"{grid_code}-B{b + 1:02d}"
                buildings.append(
                    {
                        "code": building,
                        "community_code": code,
                        "floors": 6,
                        "units": 3,
                        "households": HOUSEHOLDS_PER_BUILDING,
                        "geometry": _box(bx, by, cell / 10, cell / 6),
                    }
                )
                devices.append(
                    {"id": f"cam-{building}", "kind": "camera", "geometry": shapely.Point(bx, by)}
                )
    gpkg = folder / "city.gpkg"
    streets = [{"code": s, "district_code": "150203", "name": f"街道{s[6:9]}"} for s in STREETS]
    pd.DataFrame(streets).pipe(
        gpd.GeoDataFrame, geometry=[None] * len(streets), crs="EPSG:4326"
    ).to_file(gpkg, layer="streets")
    for layer, rows in (
        ("communities", communities),
        ("grids", grids),
        ("buildings", buildings),
        ("devices", devices),
    ):
        gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_file(gpkg, layer=layer)

    building_codes = np.array([b["code"] for b in buildings])
    h = np.arange(households)
    pd.DataFrame(
        {
            "code": [f"H{i:08d}" for i in h],
            "building_code": building_codes[h // HOUSEHOLDS_PER_BUILDING],
            "unit": h % HOUSEHOLDS_PER_BUILDING // 15 + 1,
            "room": [f"{i % 15 // 3 + 1}0{i % 3 + 1}" for i in h],
            "members": 2,
            "tags": np.where(h % 20 == 0, "独居老人", ""),
            "consent": np.where(h % 20 == 0, "true", "false"),
        }
    ).to_csv(folder / "households.csv", index=False)
    n_residents = int(households * RESIDENTS_PER_HOUSEHOLD)
    r = np.arange(n_residents)
    pd.DataFrame(
        {
            "household_code": [f"H{i:08d}" for i in (r / RESIDENTS_PER_HOUSEHOLD).astype(int)],
            "name": "居民",
            "birth_year": 1940 + r % 70,
            "id_number": [f"150203{i:011d}X" for i in r],
        }
    ).to_csv(folder / "residents.csv", index=False)
    pd.DataFrame(
        {"id": [f"w{i:05d}" for i in range(len(grids))], "name": "网格员", "role": "专职"}
    ).to_csv(folder / "workers.csv", index=False)
    pd.DataFrame(
        {
            "worker_id": [f"w{i:05d}" for i in range(len(grids))],
            "grid_code": [g["code"] for g in grids],
            "role": "full_time",
        }
    ).to_csv(folder / "grid_assignments.csv", index=False)
    meta = {
        "name": "bench-city",
        "source": "benchmarks/load_dataset.py",
        "generated": True,
        "crs": "wgs84",
    }
    (folder / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    return {
        "community": len(communities),
        "grid": len(grids),
        "building": len(buildings),
        "household": households,
        "resident": n_residents,
        "device": len(devices),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    args = parser.parse_args()
    url = admin.with_database(get_settings().database_url, f"wangge_bench_load_{os.getpid()}")
    admin.create_database(url)
    try:
        migrate.upgrade(url)
        districts = BOUNDARIES / "inner_mongolia_districts_wgs84.geojson"
        assert load_layer(url, "district", districts, progress=False).ok
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            sizes = make_dataset(Path(tmp), args.households)
            generated_s = time.perf_counter() - started
            started = time.perf_counter()
            report = load_dataset(url, tmp)
            load_s = time.perf_counter() - started
        if not report.ok:
            raise SystemExit(report.format_text())
        with connect(url) as conn:
            stored = conn.execute("SELECT count(*) FROM resident").fetchone()[0]
        rows = sum(report.counts.values())
        print(f"generated {sizes} in {generated_s:.1f} s")
        print(
            f"loaded {rows:,} rows in {load_s:.1f} s ({rows / load_s:,.0f} rows/s); "
            f"residents in DB: {stored:,}"
        )
        print(
            json.dumps(
                {
                    "households": sizes["household"],
                    "residents": sizes["resident"],
                    "grids": sizes["grid"],
                    "buildings": sizes["building"],
                    "rows": rows,
                    "load_s": round(load_s, 1),
                    "rows_per_s": round(rows / load_s),
                }
            )
        )
    finally:
        admin.drop_database(url)


if __name__ == "__main__":
    main()
