"""Validating one layer before anything is written: every bad feature, and why.

The result is the layer ready to write (typed columns, MultiPolygon/Point geometry, source,
ID numbers replaced by mask and HMAC) and the list of errors; any error stops the load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.loaders import geometry as geometry_checks
from gis.loaders.columns import MissingColumns, Problem, as_text, parse_columns
from gis.loaders.context import LoadContext
from gis.loaders.kinds import KINDS, ROAD_CLASS_SPELLINGS, Kind
from gis.loaders.read import Source
from gis.loaders.report import FeatureError
from gis.pii import ID_NUMBER_PATTERN, id_number_hmac, mask_id_number
from gis.redistrict.inputs import tunnel_flags


def validate_layer(
    kind: Kind, source: Source, ctx: LoadContext, *, source_label: str, started_at: datetime
) -> tuple[pd.DataFrame | None, list[FeatureError]]:
    """The layer ready to write, or None when a column is missing, and all its errors.

    ``started_at`` is the default ``valid_from`` of grids and assignments in this load.
    """
    try:
        frame, problems = parse_columns(source.frame, kind, ctx.rules.timezone)
    except MissingColumns as exc:
        return None, [FeatureError(kind.name, None, None, "column_missing", str(exc))]
    usable = np.ones(len(frame), dtype=bool)
    if kind.geometry is not None:
        geometry = source.frame.geometry.reset_index(drop=True)
        usable, geometry_problems = geometry_checks.check_geometries(
            geometry, kind.geometry, source.declared_crs, source.file_crs
        )
        problems += geometry_problems
        if kind.geometry != "point":
            geometry = geometry_checks.as_multi(geometry)
        frame = gpd.GeoDataFrame(frame, geometry=geometry)
    frame["source"] = source_label
    problems += _duplicate_keys(frame, kind)
    problems += _prefix_mismatches(frame, kind)
    problems += _unknown_parents(frame, kind, ctx)
    check = KIND_CHECKS.get(kind.name)
    if check is not None:
        frame, kind_problems = check(frame, usable, ctx, started_at)
        problems += kind_problems
    return frame, _feature_errors(kind, source.frame, problems)


def _feature_errors(
    kind: Kind, source: pd.DataFrame, problems: list[Problem]
) -> list[FeatureError]:
    """Errors naming each feature by the code and name as written in the file."""
    code_column = kind.key or kind.parents[0].column
    codes = as_text(source[code_column]) if code_column in source.columns else None
    names = as_text(source["name"]) if "name" in source.columns else None

    def text(values: pd.Series | None, i: int) -> str | None:
        return None if values is None or pd.isna(values.iloc[i]) else str(values.iloc[i])

    return [
        FeatureError(
            kind.name, p.index, text(codes, p.index), p.reason_code, p.message, text(names, p.index)
        )
        for p in sorted(problems, key=lambda p: p.index)
    ]


def _duplicate_rows(keys: pd.DataFrame | pd.Series) -> list[tuple[int, int]]:
    """(row, another row with the same key) for every row whose complete key repeats."""
    frame = keys.to_frame() if isinstance(keys, pd.Series) else keys
    repeated = frame[frame.notna().all(axis=1) & frame.duplicated(keep=False)]
    pairs = []
    for positions in repeated.groupby(list(frame.columns), sort=False).indices.values():
        rows = [int(r) for r in repeated.index[positions]]
        pairs.append((rows[0], rows[1]))
        pairs += [(row, rows[0]) for row in rows[1:]]
    return pairs


def _duplicate_keys(frame: pd.DataFrame, kind: Kind) -> list[Problem]:
    if kind.key is None or kind.pieces_share_key:
        return []
    return [
        Problem(row, "code_duplicate", f"{kind.key} 与 #{other} 重复 same as feature #{other}")
        for row, other in _duplicate_rows(frame[kind.key])
    ]


def _prefix_mismatches(frame: pd.DataFrame, kind: Kind) -> list[Problem]:
    problems = []
    for column, parent_column, n in kind.prefix_rules:
        both = frame[column].notna() & frame[parent_column].notna()
        differ = both & (frame[column].str[:n] != frame[parent_column].str[:n])
        problems += [
            Problem(
                int(i),
                "code_parent_mismatch",
                f"{column} 前 {n} 位应等于 first {n} digits must equal {parent_column} "
                f"{frame[parent_column].iloc[i]}",
            )
            for i in np.flatnonzero(differ.to_numpy())
        ]
    return problems


def _unknown_parents(frame: pd.DataFrame, kind: Kind, ctx: LoadContext) -> list[Problem]:
    problems = []
    for parent in kind.parents:
        parent_kind = KINDS[parent.kind]
        values = frame[parent.column]
        known = ctx.known_keys(parent_kind, values.dropna().unique())
        unknown = values.notna() & ~values.isin(known)
        problems += [
            Problem(
                int(i),
                "parent_unknown",
                f"{parent.column}={values.iloc[i]}: 无此{parent_kind.label_zh} "
                f"no such {parent_kind.name} in this load or the database",
            )
            for i in np.flatnonzero(unknown.to_numpy())
        ]
    return problems


KindCheck = Callable[
    [pd.DataFrame, np.ndarray, LoadContext, datetime], tuple[pd.DataFrame, list[Problem]]
]


def _check_grids(
    frame: gpd.GeoDataFrame, usable: np.ndarray, ctx: LoadContext, started_at: datetime
) -> tuple[pd.DataFrame, list[Problem]]:
    """Inside the community, no overlap within it, and later than the version it replaces."""
    frame["valid_from"] = frame["valid_from"].fillna(pd.Timestamp(started_at))
    identified = frame[["code", "community_code"]].notna().all(axis=1).to_numpy()
    sound = frame[usable & identified]
    communities = ctx.community_geometries(sound["community_code"].unique())
    problems = geometry_checks.grids_outside_communities(
        sound, communities, ctx.rules.containment_tolerance_m
    )
    current = ctx.current_grids(sound["community_code"].unique())
    replaced = current["code"].isin(frame["code"])
    problems += geometry_checks.overlapping_grids(
        sound, current[~replaced], ctx.rules.overlap_tolerance_m2
    )
    problems += _version_order(frame, current[replaced])
    return frame, problems


def _version_order(frame: pd.DataFrame, current: pd.DataFrame) -> list[Problem]:
    since = dict(zip(current["code"], current["valid_from"], strict=True))
    problems = []
    for i, (code, valid_from) in enumerate(zip(frame["code"], frame["valid_from"], strict=True)):
        if code in since and valid_from <= since[code]:
            problems.append(
                Problem(
                    i,
                    "grid_version_order",
                    f"valid_from {valid_from.isoformat()} ≤ 现行版本 current version's "
                    f"{since[code].isoformat()}",
                )
            )
    return problems


def _check_households(
    frame: pd.DataFrame, usable: np.ndarray, ctx: LoadContext, started_at: datetime
) -> tuple[pd.DataFrame, list[Problem]]:
    address = frame[["building_code", "unit", "room"]]
    return frame, [
        Problem(row, "address_duplicate", f"楼栋/单元/室 与 #{other} 相同 same address as #{other}")
        for row, other in _duplicate_rows(address)
    ]


def _check_residents(
    frame: pd.DataFrame, usable: np.ndarray, ctx: LoadContext, started_at: datetime
) -> tuple[pd.DataFrame, list[Problem]]:
    """ID numbers: well formed and unique; then only their mask and HMAC go on.

    Messages never repeat an ID number.
    """
    numbers = frame.pop("id_number").str.upper()
    malformed = numbers.notna() & ~numbers.str.fullmatch(ID_NUMBER_PATTERN.pattern).fillna(False)
    problems = [
        Problem(int(i), "value_invalid", "id_number 不是身份证号 is not a 15/18-digit ID number")
        for i in np.flatnonzero(malformed.to_numpy())
    ]
    problems += [
        Problem(row, "value_invalid", f"id_number 与 #{other} 重复 same ID number as #{other}")
        for row, other in _duplicate_rows(numbers.mask(malformed))
    ]
    usable_numbers = numbers.mask(malformed)
    present = usable_numbers.notna()
    masked = pd.Series(pd.NA, index=frame.index, dtype="string")
    hashed = pd.Series(pd.NA, index=frame.index, dtype="string")
    masked[present] = usable_numbers[present].map(mask_id_number)
    secret = ctx.rules.pii_secret
    hashed[present] = usable_numbers[present].map(lambda number: id_number_hmac(number, secret))
    frame["id_number_masked"] = masked
    frame["id_number_hmac"] = hashed
    return frame, problems


def _check_assignments(
    frame: pd.DataFrame, usable: np.ndarray, ctx: LoadContext, started_at: datetime
) -> tuple[pd.DataFrame, list[Problem]]:
    frame["valid_from"] = frame["valid_from"].fillna(pd.Timestamp(started_at))
    backwards = frame["valid_to"].notna() & (frame["valid_to"] <= frame["valid_from"])
    return frame, [
        Problem(int(i), "value_invalid", "valid_to 应晚于 must be after valid_from")
        for i in np.flatnonzero(backwards.to_numpy())
    ]


def _check_roads(
    frame: gpd.GeoDataFrame, usable: np.ndarray, ctx: LoadContext, started_at: datetime
) -> tuple[pd.DataFrame, list[Problem]]:
    """Classes in OSM terms, tunnels as a flag, and an id for every road: a line without
    one is named by a digest of its (WGS84) coordinates, so reloading the same file
    updates its roads instead of adding them again. Pieces sharing an id (a road cut at
    tile edges, the same line twice) become one road with the first piece's attributes."""
    frame["class"] = frame["class"].map(lambda v: ROAD_CLASS_SPELLINGS.get(v, v.lower()))
    frame["tunnel"] = tunnel_flags(frame["tunnel"]).astype(bool)
    unnamed = frame["id"].isna().to_numpy() & usable
    digests = [
        "line:" + hashlib.sha1(shapely.to_wkb(shapely.normalize(g))).hexdigest()[:32]
        for g in frame.geometry.to_numpy()[unnamed]
    ]
    frame.loc[unnamed, "id"] = digests
    return _merge_pieces(frame[usable]), []


def _merge_pieces(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One row per id: its pieces' distinct lines as one MultiLineString."""
    repeated = frame["id"].duplicated(keep=False).to_numpy()
    if not repeated.any():
        return frame
    merged = frame[~frame["id"].duplicated()].copy()
    lines = {}
    for code, pieces in frame[repeated].groupby("id", sort=False)[frame.geometry.name]:
        parts = shapely.normalize(shapely.get_parts(pieces.to_numpy()))
        _, first = np.unique(shapely.to_wkb(parts), return_index=True)
        lines[code] = shapely.multilinestrings(parts[np.sort(first)])
    joined = merged["id"].isin(lines.keys()).to_numpy()
    geometry = merged.geometry.to_numpy().copy()
    geometry[joined] = [lines[code] for code in merged["id"][joined]]
    return merged.set_geometry(gpd.GeoSeries(geometry, index=merged.index, crs=merged.crs))


KIND_CHECKS: dict[str, KindCheck] = {
    "grid": _check_grids,
    "road": _check_roads,
    "household": _check_households,
    "resident": _check_residents,
    "assignment": _check_assignments,
}
