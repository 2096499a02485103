"""``wangge generate``: write the demo city dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from gis.settings import get_settings


def _generate(args: argparse.Namespace) -> int:
    # Imported here: every `wangge` command builds this parser, few need geopandas loaded.
    from gis.demo.generate import generate
    from gis.demo.summary import summarize

    settings = get_settings()
    households = args.households if args.households is not None else settings.demo_households
    seed = args.seed if args.seed is not None else settings.demo_seed
    out = args.out if args.out is not None else settings.data_dir / "generated" / "demo"
    city = generate(households, seed, out, settings.data_dir / "boundaries")
    print(summarize(city))
    print(f"数据集已写入 dataset written to: {out}")
    return 0


def _demo_ensure(args: argparse.Namespace) -> int:
    from gis.demo.ensure import DemoLoadFailed, ensure_demo

    try:
        done = ensure_demo(get_settings())
    except DemoLoadFailed as exc:
        print(f"演示数据导入失败 demo load failed: {exc}")
        return 1
    for line in done or ["演示数据已就绪 demo data already in place — nothing to do"]:
        print(line)
    return 0


def _demo_status(args: argparse.Namespace) -> int:
    from gis.demo.ensure import demo_status

    for table, rows in demo_status(get_settings()).items():
        print(f"{table:>16}: {rows:,}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="演示数据库 the demo database (ensure, status)")
    demo_sub = demo.add_subparsers(dest="demo_command", metavar="ACTION", required=True)
    demo_sub.add_parser(
        "ensure", help="load real boundaries and the generated demo city if missing"
    ).set_defaults(handler=_demo_ensure)
    demo_sub.add_parser("status", help="row counts of the demo database").set_defaults(
        handler=_demo_status
    )

    parser = subparsers.add_parser(
        "generate",
        help="生成昆都仑区演示城市数据集 / generate the demo city dataset",
        description="在真实的昆都仑区边界内生成演示城市：街道、社区、网格、楼栋、住户、居民、"
        "网格员、设备；数据中明确标注为生成数据，相同种子与规模得到相同文件。 / "
        "Generate a demo city inside the real Kundulun boundary, marked as generated; "
        "the same seed and size give the same files.",
    )
    parser.add_argument(
        "--households", type=int, help="总户数 total households (default: WANGGE_DEMO_HOUSEHOLDS)"
    )
    parser.add_argument("--seed", type=int, help="随机种子 random seed (default: WANGGE_DEMO_SEED)")
    parser.add_argument(
        "--out", type=Path, help="数据集目录 dataset folder (default: <data_dir>/generated/demo)"
    )
    parser.set_defaults(handler=_generate)
