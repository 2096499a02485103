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


def register(subparsers: argparse._SubParsersAction) -> None:
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
