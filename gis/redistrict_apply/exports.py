"""A plan as files for people outside the editor, and those files read back (import).

* GeoJSON and Shapefile (zip): the grid polygons with ``code``, ``households``, ``buildings``;
* Excel: one row per building (``building_id``, ``building_code``, ``grid_code``,
  ``households``) — the grid polygons are derived again from it on import;
* HTML: a standalone folium map of the grids for the community's staff, with Leaflet's
  script and style inlined (no tiles, no CDN), so that it opens offline.

Every export reads back into the same plan: GeoJSON/Shapefile as grid polygons, Excel as
a building assignment.
"""

from __future__ import annotations

import html
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import shapely

from gis.crs import WGS84
from gis.redistrict_apply.geojson import BadPlanGeoJSON, plan_grids_from_geojson
from gis.redistrict_apply.validate import PlanGrid

SHAPEFILE_NAME = "grids"
EXCEL_COLUMNS = ("building_id", "building_code", "grid_code", "households")


class BadPlanFile(ValueError):
    """An uploaded plan file cannot be read; the message says why (zh and en)."""


@dataclass(frozen=True)
class ExportGrid:
    code: str
    geom: shapely.Geometry
    households: int
    buildings: int


def grids_frame(grids: list[ExportGrid]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [g.code for g in grids],
            "households": [g.households for g in grids],
            "buildings": [g.buildings for g in grids],
        },
        geometry=[g.geom for g in grids],
        crs=WGS84,
    )


def to_geojson(grids: list[ExportGrid]) -> bytes:
    return grids_frame(grids).to_json(drop_id=True, ensure_ascii=False).encode()


def to_shapefile_zip(grids: list[ExportGrid]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{SHAPEFILE_NAME}.shp"
        grids_frame(grids).to_file(path, driver="ESRI Shapefile", encoding="utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(folder).iterdir()):
                archive.write(part, part.name)
    return buffer.getvalue()


def to_excel(rows: list[tuple[int, str, str, int]]) -> bytes:
    """``rows``: (building_id, building_code, grid_code, households) per building."""
    buffer = io.BytesIO()
    frame = pd.DataFrame(rows, columns=list(EXCEL_COLUMNS))
    frame.to_excel(buffer, index=False, sheet_name="buildings")
    return buffer.getvalue()


def to_html(grids: list[ExportGrid], title: str, leaflet_dir: Path) -> str:
    """A standalone map: grids coloured, code and households on hover; Leaflet's script
    and style (from ``leaflet_dir``, the copy the pages vendor) inlined."""
    frame = grids_frame(grids)
    minx, miny, maxx, maxy = frame.total_bounds
    page = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    page.default_js, page.default_css = [], []
    root = page.get_root()
    root.title = title
    style = (leaflet_dir / "leaflet.css").read_text(encoding="utf-8")
    script = (leaflet_dir / "leaflet.js").read_text(encoding="utf-8")
    root.header.add_child(
        folium.Element(f"<style>{style}</style>\n<script>{script}</script>"), name="leaflet"
    )
    root.html.add_child(
        folium.Element(
            '<div style="position:fixed;top:8px;left:50px;z-index:1000;background:#fff;'
            f'padding:4px 8px;font:14px sans-serif">{html.escape(title)}</div>'
        )
    )
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
    colours = {code: palette[i % len(palette)] for i, code in enumerate(frame["code"])}
    folium.GeoJson(
        json.loads(frame.to_json(drop_id=True)),
        style_function=lambda f: {
            "color": "#333",
            "weight": 1,
            "fillColor": colours[f["properties"]["code"]],
            "fillOpacity": 0.45,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["code", "households", "buildings"], aliases=["网格", "户数", "楼栋"]
        ),
    ).add_to(page)
    page.fit_bounds([[miny, minx], [maxy, maxx]])
    return page.get_root().render()


def read_grid_file(name: str, content: bytes) -> list[PlanGrid]:
    """Grid polygons of an uploaded GeoJSON or zipped Shapefile (``code``/``grid_code``)."""
    lower = name.lower()
    if lower.endswith((".geojson", ".json")):
        try:
            document = json.loads(content)
            return plan_grids_from_geojson(document)
        except (ValueError, BadPlanGeoJSON) as exc:
            raise BadPlanFile(f"GeoJSON 无法读取 (unreadable GeoJSON): {exc}") from exc
    if lower.endswith(".zip"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload.zip"
            path.write_bytes(content)
            try:
                frame = gpd.read_file(f"zip://{path}")
            except Exception as exc:  # pyogrio raises its own DataSourceError family
                raise BadPlanFile(f"Shapefile 无法读取 (unreadable Shapefile zip): {exc}") from exc
        if frame.crs is not None:
            frame = frame.to_crs(WGS84)
        column = next((c for c in ("code", "grid_code") if c in frame.columns), None)
        if column is None:
            raise BadPlanFile("Shapefile 缺少 code 字段 (the Shapefile has no code field)")
        return [
            PlanGrid(str(code), geom)
            for code, geom in zip(frame[column], frame.geometry, strict=True)
        ]
    raise BadPlanFile(f"不支持的文件类型 {name} (unsupported file: .geojson, .json, .zip, .xlsx)")


def read_assignment_excel(content: bytes) -> dict[int, str]:
    """building id → grid code from an Excel sheet with building_id and grid_code columns."""
    try:
        frame = pd.read_excel(io.BytesIO(content), dtype={"grid_code": str})
    except Exception as exc:  # openpyxl's errors for a file that is no workbook vary
        raise BadPlanFile(f"Excel 无法读取 (unreadable Excel file): {exc}") from exc
    missing = [c for c in ("building_id", "grid_code") if c not in frame.columns]
    if missing:
        raise BadPlanFile(f"Excel 缺少列 {missing} (missing columns {missing})")
    ids = pd.to_numeric(frame["building_id"], errors="coerce")
    if ids.isna().any():
        line = int(ids.isna().to_numpy().argmax()) + 2
        raise BadPlanFile(f"第 {line} 行 building_id 不是整数 (line {line}: not an integer id)")
    codes = frame["grid_code"].astype(str).str.strip()
    return dict(zip(ids.astype(int).tolist(), codes.tolist(), strict=True))
