"""The calibration summary printed after generating: compare with the real communities
(5,981 households in 13 grids; 3,931 in 7; 4,408 households in 128 buildings and 10 grids)."""

from __future__ import annotations

import pandas as pd

from gis.demo.generate import City


def _spread(values: pd.Series) -> str:
    return f"min {values.min():,.0f} / mean {values.mean():,.0f} / max {values.max():,.0f}"


def summarize(city: City) -> str:
    layers, tables = city.layers, city.tables
    communities = layers["communities"]
    grids = layers["grids"]
    buildings = layers["buildings"]
    households = tables["households"]
    per_community = buildings.groupby("community_code")["households"].sum()
    grids_per_community = grids.groupby("community_code").size()
    buildings_per_community = buildings.groupby("community_code").size()
    alone = households["tags"].str.contains("独居老人")
    devices = layers["devices"]
    device_counts = devices.groupby(["kind", "model"]).size()
    roles = tables["workers"]["role"].value_counts()
    lines = [
        f"演示城市 demo city — {city.meta['source']}",
        f"  {city.meta['notice']}",
        f"街道 streets: {len(layers['streets'])}, with communities: "
        f"{communities['street_code'].nunique()}",
        f"社区 communities: {len(communities)} (村 villages: {(communities['kind'] == '村').sum()})",
        f"  户/社区 households per community: {_spread(per_community)}",
        f"  网格/社区 grids per community:    {_spread(grids_per_community)}",
        f"  楼栋/社区 buildings per community: {_spread(buildings_per_community)}",
        f"网格 grids: {len(grids)}",
        f"  户/网格 households per grid:      {_spread(city.grid_households)}",
        f"楼栋 buildings: {len(buildings):,}",
        f"  户/楼栋 households per building:  {_spread(buildings['households'])}",
        f"户 households: {len(households):,}; 居民 residents: {len(tables['residents']):,}",
        f"  独居老人 elderly living alone: {alone.sum():,} ({alone.mean():.1%})",
        "网格员等 workers: " + ", ".join(f"{role} {n}" for role, n in roles.items()),
        f"  grid assignments: {len(tables['grid_assignments']):,}",
        "设备 devices: "
        + ", ".join(f"{kind}/{model} {n:,}" for (kind, model), n in device_counts.items()),
        "用时 seconds: " + ", ".join(f"{stage} {s:.1f}" for stage, s in city.seconds.items()),
    ]
    return "\n".join(lines)
