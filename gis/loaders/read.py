"""Reading one source (GeoJSON, GeoPackage, Shapefile, CSV, Excel) into canonical columns.

Vector files go through pyogrio; tables through pandas with every column as text, so codes
keep their leading zeros. Point kinds also accept tables with lon/lat columns. Geometry
comes out in WGS84, read as the declared CRS (see ``gis.crs.to_wgs84``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj.exceptions import CRSError

from gis.crs import normalize_crs_name, to_wgs84
from gis.loaders.kinds import Kind

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
EXCEL_SUFFIXES = (".xlsx", ".xls")
LON_COLUMNS = ("lon", "lng", "longitude", "x", "经度")
LAT_COLUMNS = ("lat", "latitude", "y", "纬度")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Chinese office software often writes CSV in GB18030/GBK rather than UTF-8."""


class SourceError(Exception):
    """The source as a whole cannot be read; ``reason_code`` is one of report.REASONS_ZH."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass
class Source:
    """A read layer: canonical column names, geometry (if any) in WGS84."""

    frame: pd.DataFrame
    declared_crs: str
    file_crs: str | None
    """What the file itself says (for the hint when the declared CRS looks wrong)."""


def read_source(
    path: Path,
    kind: Kind,
    *,
    crs: str = "wgs84",
    layer: str | None = None,
    where: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Source:
    path = Path(path)
    try:
        declared = normalize_crs_name(crs)
    except CRSError as exc:
        raise SourceError("crs_unknown", f"{crs!r}: {exc}") from exc
    if not path.exists():
        raise SourceError("file_unreadable", f"{path} 不存在 does not exist")
    try:
        if path.suffix.lower() in TABLE_SUFFIXES:
            if where:
                raise SourceError("file_unreadable", "--where 只适用于矢量文件 vector files only")
            frame, file_crs = _read_table(path, layer), None
        else:
            frame = pyogrio.read_dataframe(path, layer=layer, where=where)
            file_crs = frame.crs.to_string() if frame.crs is not None else None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise SourceError("file_unreadable", f"{path.name}: {exc}") from exc
    frame = _rename(frame, kind, fields or {})
    if kind.geometry is not None and not isinstance(frame, gpd.GeoDataFrame):
        frame = (
            _points_from_lon_lat(frame)
            if kind.geometry == "point"
            else gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
        )
    if isinstance(frame, gpd.GeoDataFrame):
        frame = to_wgs84(frame, declared)
    return Source(frame.reset_index(drop=True), declared, file_crs)


def _read_table(path: Path, sheet: str | None) -> pd.DataFrame:
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
    for encoding in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
        except UnicodeDecodeError:
            continue
    raise SourceError("file_unreadable", f"{path.name}: 编码无法识别 unknown text encoding")


def _rename(frame: pd.DataFrame, kind: Kind, fields: Mapping[str, str]) -> pd.DataFrame:
    """Canonical names: ``fields`` (canonical → source) first, then the kind's aliases."""
    missing = [source for source in fields.values() if source not in frame.columns]
    if missing:
        raise SourceError(
            "column_missing",
            f"--field 指定的字段不存在 mapped columns not in file: {', '.join(missing)}; "
            f"file has {', '.join(map(str, frame.columns))}",
        )
    renames = {source: canonical for canonical, source in fields.items()}
    for canonical, candidates in kind.aliases.items():
        if canonical in fields or canonical in frame.columns:
            continue
        found = next((c for c in candidates if c in frame.columns), None)
        if found is not None and found not in renames:
            renames[found] = canonical
    kept = [c for c in frame.columns if c not in renames.values() or c in renames]
    return frame[kept].rename(columns=renames)


def _points_from_lon_lat(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    lowered = {str(c).lower(): c for c in frame.columns}
    lon = next((lowered[c] for c in LON_COLUMNS if c in lowered), None)
    lat = next((lowered[c] for c in LAT_COLUMNS if c in lowered), None)
    if lon is None or lat is None:
        raise SourceError(
            "column_missing",
            f"点位表需要经纬度列 a point table needs lon and lat columns: {LON_COLUMNS} / {LAT_COLUMNS}",
        )
    x = pd.to_numeric(frame[lon], errors="coerce")
    y = pd.to_numeric(frame[lat], errors="coerce")
    points = gpd.points_from_xy(x, y)
    points[(x.isna() | y.isna()).to_numpy()] = None
    return gpd.GeoDataFrame(frame.drop(columns=[lon, lat]), geometry=points)
