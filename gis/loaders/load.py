"""Loading a layer or a whole dataset folder: read, validate everything, then write it all in
one transaction — or, if anything is wrong, write nothing and report every bad feature."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import psycopg
import pyogrio

from gis.db import connect
from gis.loaders.context import DEFAULT_RULES, LoadContext, LoadRules
from gis.loaders.kinds import KINDS, Kind
from gis.loaders.progress import Progress
from gis.loaders.read import Source, SourceError, read_source
from gis.loaders.report import FeatureError, LoadReport
from gis.loaders.validate import validate_layer
from gis.loaders.write import WriteMismatch, write_layer

DATASET_META = "dataset.json"
DATASET_GPKG = "city.gpkg"
DATASET_LAYERS: dict[str, str] = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "building": "buildings",
    "road": "roads",
    "device": "devices",
}
"""Kind → layer name in city.gpkg."""
DATASET_TABLES: dict[str, str] = {
    "household": "households.csv",
    "resident": "residents.csv",
    "worker": "workers.csv",
    "assignment": "grid_assignments.csv",
}
"""Kind → CSV file in the dataset folder."""


@dataclass
class _Layer:
    kind: Kind
    source: Source
    label: str


def load_layer(
    database_url: str,
    kind: str,
    path: str | Path,
    *,
    crs: str = "wgs84",
    layer: str | None = None,
    fields: Mapping[str, str] | None = None,
    source: str | None = None,
    where: str | None = None,
    progress: bool = True,
    rules: LoadRules = DEFAULT_RULES,
) -> LoadReport:
    """Load one file of one kind (see ``gis.loaders.kinds.KINDS``).

    ``crs``: "wgs84", "gcj02" or any pyproj CRS string the coordinates are in; ``fields``:
    canonical column → column in the file; ``source``: recorded on every row (default: the
    file name); ``where``: an OGR SQL filter for vector files; ``rules``: tolerances and the
    zone of naive times (LoadRules.from_settings). Never raises for bad input:
    the report says what is wrong, and then nothing was written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    path = Path(path)
    steps = Progress(progress)
    steps.stage(f"读取 read {path.name} as {kind} ({crs})")
    try:
        read = read_source(path, spec, crs=crs, layer=layer, where=where, fields=fields)
    except SourceError as exc:
        return LoadReport([FeatureError(kind, None, None, exc.reason_code, exc.message)])
    return _load(database_url, [_Layer(spec, read, source or path.name)], steps, rules)


def load_dataset(
    database_url: str,
    folder: str | Path,
    *,
    progress: bool = True,
    rules: LoadRules = DEFAULT_RULES,
) -> LoadReport:
    """Load a dataset folder (``dataset.json``, ``city.gpkg`` layers, CSV tables) in one
    transaction, parents before children. ``dataset.json``: {"name", "source", "generated",
    "crs"}; every row's source is the dataset's, marked when the data is generated."""
    folder = Path(folder)
    steps = Progress(progress)
    try:
        meta = json.loads((folder / DATASET_META).read_text(encoding="utf-8"))
        label = dataset_source_label(meta)
        layers = _dataset_layers(folder, meta.get("crs", "wgs84"), label, steps)
    except (OSError, ValueError, KeyError) as exc:
        return LoadReport([FeatureError("dataset", None, None, "file_unreadable", str(exc))])
    except SourceError as exc:
        return LoadReport([FeatureError("dataset", None, None, exc.reason_code, exc.message)])
    return _load(database_url, layers, steps, rules)


def dataset_source_label(meta: Mapping) -> str:
    """The ``source`` of a dataset's rows; generated data says so."""
    label = str(meta.get("source") or meta["name"])
    if meta.get("generated") and "generated" not in label.lower():
        label = f"generated: {label}"
    return label


def _dataset_layers(folder: Path, crs: str, label: str, steps: Progress) -> list[_Layer]:
    gpkg = folder / DATASET_GPKG
    present = {name for name, _ in pyogrio.list_layers(gpkg)} if gpkg.exists() else set()
    layers = []
    for kind in KINDS.values():
        if DATASET_LAYERS.get(kind.name) in present:
            path, layer = gpkg, DATASET_LAYERS[kind.name]
        elif kind.name in DATASET_TABLES and (folder / DATASET_TABLES[kind.name]).exists():
            path, layer = folder / DATASET_TABLES[kind.name], None
        else:
            continue
        steps.stage(f"读取 read {path.name}{f':{layer}' if layer else ''} as {kind.name}")
        source = read_source(path, kind, crs=crs, layer=layer)
        steps.stage(f"  {len(source.frame):,} 条 rows")
        layers.append(_Layer(kind, source, label))
    return layers


def _load(
    database_url: str, layers: Sequence[_Layer], steps: Progress, rules: LoadRules
) -> LoadReport:
    started_at = datetime.now(UTC)
    with connect(database_url) as conn:
        if any(layer.kind.name == "grid" for layer in layers):
            # Two concurrent grid loads must not both pass the overlap check.
            conn.execute("LOCK TABLE grid IN SHARE ROW EXCLUSIVE MODE")
        ctx = LoadContext(conn, rules)
        errors: list[FeatureError] = []
        ready: list[tuple[Kind, pd.DataFrame]] = []
        for layer in layers:
            steps.stage(f"校验 validate {layer.kind.name}: {len(layer.source.frame):,} 条 rows")
            frame, layer_errors = validate_layer(
                layer.kind, layer.source, ctx, source_label=layer.label, started_at=started_at
            )
            errors += layer_errors
            if frame is not None:
                ctx.add_pending(layer.kind, frame)
                ready.append((layer.kind, frame))
        if errors:
            conn.rollback()
            steps.stage(f"校验失败 rejected: {len(errors):,} 个错误 errors, nothing written")
            return LoadReport(errors)
        return _write(conn, ready, steps)


def _write(
    conn: psycopg.Connection, ready: Sequence[tuple[Kind, pd.DataFrame]], steps: Progress
) -> LoadReport:
    counts: dict[str, int] = {}
    writing = "load"
    try:
        for kind, frame in ready:
            writing = kind.name
            steps.stage(f"写入 write {kind.name}: {len(frame):,} 条 rows")
            counts[kind.name] = write_layer(conn, kind.name, frame, steps)
        conn.commit()
    except (psycopg.Error, WriteMismatch) as exc:
        conn.rollback()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return LoadReport([FeatureError(writing, None, None, "database_rejected", message)])
    steps.stage("提交 committed: " + ", ".join(f"{k} {n:,}" for k, n in counts.items()))
    return LoadReport(counts=counts)
