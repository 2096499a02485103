"""Checks a plan's grids against its community before anything is written.

Every problem names its grid and says what is wrong in Chinese and English. The rules are
the loaders' (gis.loaders.context.LoadRules): a grid may stick out of the community by
``containment_tolerance_m``; two grids may overlap, and the grids may miss part of the
community, by ``overlap_tolerance_m2`` each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.crs import WGS84
from gis.loaders.context import LoadRules

GRID_CODE_DIGITS = 15


@dataclass(frozen=True)
class PlanGrid:
    """One grid of a plan: its 15-digit code, WGS84 polygon and optional worker override
    (a list of ``{"worker_id", "role"}``; None means "follow the households")."""

    code: str
    geom: BaseGeometry
    assignments: list[dict] | None = None


@dataclass(frozen=True)
class PlanProblem:
    code: str | None
    reason: str
    zh: str
    en: str

    def as_dict(self) -> dict:
        return asdict(self)


def validate_plan(
    community_code: str,
    community: BaseGeometry,
    grids: Sequence[PlanGrid],
    rules: LoadRules,
) -> list[PlanProblem]:
    """All problems of ``grids`` as a tiling of ``community`` (empty: the plan may be applied)."""
    problems = _code_problems(community_code, grids)
    if not grids:
        return [*problems, PlanProblem(None, "plan_empty", "方案没有网格", "the plan has no grids")]
    codes = [g.code for g in grids]
    geoms = np.array([g.geom for g in grids], dtype=object)
    valid = shapely.is_valid(geoms) & ~shapely.is_empty(geoms)
    problems += [
        PlanProblem(
            codes[i],
            "grid_geometry_invalid",
            f"网格 {codes[i]} 的多边形无效: {shapely.is_valid_reason(geoms[i])}",
            f"grid {codes[i]} polygon is invalid: {shapely.is_valid_reason(geoms[i])}",
        )
        for i in np.flatnonzero(~valid)
    ]
    polygonal = np.array([g.geom_type in ("Polygon", "MultiPolygon") for g in geoms])
    problems += [
        PlanProblem(
            codes[i],
            "grid_geometry_type",
            f"网格 {codes[i]} 不是多边形 ({geoms[i].geom_type})",
            f"grid {codes[i]} is not a polygon ({geoms[i].geom_type})",
        )
        for i in np.flatnonzero(~polygonal)
    ]
    sound = valid & polygonal
    if not sound.any():
        return problems
    crs = gpd.GeoSeries([community], crs=WGS84).estimate_utm_crs()
    community_m = gpd.GeoSeries([community], crs=WGS84).to_crs(crs).iloc[0]
    grid_m = gpd.GeoSeries(list(geoms[sound]), crs=WGS84).to_crs(crs).to_numpy()
    sound_codes = [c for c, ok in zip(codes, sound, strict=True) if ok]
    problems += _outside(sound_codes, grid_m, community_m, rules.containment_tolerance_m)
    problems += _overlaps(sound_codes, grid_m, rules.overlap_tolerance_m2)
    if sound.all():
        problems += _gaps(geoms, community, crs, rules.overlap_tolerance_m2)
    return problems


def _code_problems(community_code: str, grids: Sequence[PlanGrid]) -> list[PlanProblem]:
    problems = []
    seen: set[str] = set()
    for grid in grids:
        code = grid.code
        if not (len(code) == GRID_CODE_DIGITS and code.isdigit()):
            problems.append(
                PlanProblem(
                    code,
                    "grid_code_format",
                    f"网格编码 {code} 应为 15 位数字",
                    f"grid code {code} must be 15 digits",
                )
            )
        elif not code.startswith(community_code):
            problems.append(
                PlanProblem(
                    code,
                    "grid_code_prefix",
                    f"网格编码 {code} 应以社区编码 {community_code} 开头",
                    f"grid code {code} must start with the community code {community_code}",
                )
            )
        if code in seen:
            problems.append(
                PlanProblem(
                    code,
                    "grid_code_duplicate",
                    f"网格编码 {code} 重复",
                    f"grid code {code} appears twice",
                )
            )
        seen.add(code)
    return problems


def _outside(
    codes: list[str], grid_m: np.ndarray, community_m: BaseGeometry, tolerance_m: float
) -> list[PlanProblem]:
    covered = shapely.covers(shapely.buffer(community_m, tolerance_m), grid_m)
    problems = []
    for i in np.flatnonzero(~covered):
        area = shapely.area(shapely.difference(grid_m[i], community_m))
        problems.append(
            PlanProblem(
                codes[i],
                "grid_outside_community",
                f"网格 {codes[i]} 超出社区 {area:,.0f} 平方米 (容差 {tolerance_m:g} 米)",
                f"grid {codes[i]} lies {area:,.0f} m² outside the community "
                f"(tolerance {tolerance_m:g} m)",
            )
        )
    return problems


def _overlaps(codes: list[str], grid_m: np.ndarray, tolerance_m2: float) -> list[PlanProblem]:
    left, right = shapely.STRtree(grid_m).query(grid_m, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(grid_m[left], grid_m[right]))
    problems = []
    for a, b, area in zip(left, right, areas, strict=True):
        if area <= tolerance_m2:
            continue
        for one, other in ((a, b), (b, a)):
            problems.append(
                PlanProblem(
                    codes[one],
                    "grid_overlap",
                    f"网格 {codes[one]} 与 {codes[other]} 重叠 {area:,.1f} 平方米",
                    f"grid {codes[one]} overlaps {codes[other]} by {area:,.1f} m²",
                )
            )
    return problems


def _gaps(
    geoms: np.ndarray, community: BaseGeometry, crs: object, tolerance_m2: float
) -> list[PlanProblem]:
    """The grids must cover the community: what of it no grid covers is a gap.

    The difference is taken in WGS84, as stored (edges straight in lon/lat); only its area is
    measured in metres: projecting first bends the community's long edges away from the
    grids' extra vertices on them, and would report slivers that do not exist.
    """
    uncovered = shapely.difference(community, shapely.union_all(geoms))
    gap = float(gpd.GeoSeries([uncovered], crs=WGS84).to_crs(crs).area.iloc[0])
    if gap <= tolerance_m2:
        return []
    return [
        PlanProblem(
            None,
            "plan_gap",
            f"网格未覆盖整个社区: 缺口 {gap:,.0f} 平方米 (容差 {tolerance_m2:g} 平方米)",
            f"the grids leave {gap:,.0f} m² of the community uncovered "
            f"(tolerance {tolerance_m2:g} m²)",
        )
    ]
