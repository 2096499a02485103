"""``wangge load …``: boundaries, grids, buildings, roads, households, workers and devices from
GeoJSON/GeoPackage/Shapefile/CSV/Excel, any source CRS incl. GCJ-02, validated per feature,
written whole or not at all."""

from gis.loaders.kinds import KINDS
from gis.loaders.load import load_dataset, load_layer
from gis.loaders.report import REASONS_ZH, FeatureError, LoadReport

__all__ = ["KINDS", "REASONS_ZH", "FeatureError", "LoadReport", "load_dataset", "load_layer"]
