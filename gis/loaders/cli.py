"""``wangge load KIND PATH …`` and ``wangge load dataset DIR``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gis.loaders.context import LoadRules
from gis.loaders.kinds import KINDS
from gis.loaders.load import load_dataset, load_layer
from gis.loaders.report import LoadReport
from gis.settings import get_settings


def _field(text: str) -> tuple[str, str]:
    canonical, sep, column = text.partition("=")
    if not sep or not canonical or not column:
        raise argparse.ArgumentTypeError(f"expected NAME=COLUMN, got {text!r}")
    return canonical.strip(), column.strip()


def _finish(report: LoadReport, args: argparse.Namespace) -> int:
    if args.report_json:
        Path(args.report_json).write_text(
            json.dumps(report.to_json(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    print(report.format_text())
    return 0 if report.ok else 1


def _load_layer(args: argparse.Namespace) -> int:
    settings = get_settings()
    report = load_layer(
        settings.database_url,
        args.load_kind,
        args.path,
        crs=args.crs,
        layer=args.layer,
        fields=dict(args.field),
        source=args.source,
        where=args.where,
        progress=not args.quiet,
        rules=LoadRules.from_settings(settings),
    )
    return _finish(report, args)


def _load_dataset(args: argparse.Namespace) -> int:
    settings = get_settings()
    report = load_dataset(
        settings.database_url,
        args.folder,
        progress=not args.quiet,
        rules=LoadRules.from_settings(settings),
    )
    return _finish(report, args)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report-json", metavar="FILE", help="错误报告另存为 JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="不显示进度 no progress")


def register(subparsers: argparse._SubParsersAction) -> None:
    load = subparsers.add_parser(
        "load",
        help="导入数据 load boundaries, grids, buildings, roads, households, workers, devices",
        description="校验后整体导入（有任何错误则不写入） — validated, all-or-nothing loads.",
    )
    kinds = load.add_subparsers(dest="load_kind", metavar="KIND", required=True)
    for kind in KINDS.values():
        parser = kinds.add_parser(
            kind.name, aliases=list(kind.cli_aliases), help=f"{kind.label_zh} ({kind.table})"
        )
        parser.add_argument("path", help="GeoJSON / GPKG / SHP / CSV / XLSX")
        parser.add_argument(
            "--crs",
            default="wgs84",
            help="源坐标系 source CRS: wgs84 | gcj02 | EPSG:… (默认 wgs84)",
        )
        parser.add_argument("--layer", help="图层或工作表 layer (GPKG) or sheet (Excel)")
        parser.add_argument("--where", help="矢量要素筛选 OGR SQL filter, e.g. \"level = '区县'\"")
        parser.add_argument(
            "--field",
            action="append",
            type=_field,
            default=[],
            metavar="NAME=COLUMN",
            help="字段映射 map a file column onto a canonical one (repeatable)",
        )
        parser.add_argument("--source", help="数据来源 recorded on every row (默认 file name)")
        _common(parser)
        parser.set_defaults(handler=_load_layer, load_kind=kind.name)
    dataset = kinds.add_parser("dataset", help="数据集目录 a dataset folder (dataset.json …)")
    dataset.add_argument("folder")
    _common(dataset)
    dataset.set_defaults(handler=_load_dataset)
