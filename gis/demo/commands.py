"""``wangge generate``: write the demo city dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from gis.settings import get_settings


def _generate(args: argparse.Namespace) -> int:
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
        description="Generate a demo city inside the real 昆都仑区 boundary: streets, "
        "communities, grids, buildings, households, residents, workers, devices. "
        "Clearly marked as generated; the same seed and size give the same files.",
    )
    parser.add_argument(
        "--households", type=int, help="total households (default: WANGGE_DEMO_HOUSEHOLDS)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: WANGGE_DEMO_SEED)")
    parser.add_argument(
        "--out", type=Path, help="dataset folder (default: <data_dir>/generated/demo)"
    )
    parser.set_defaults(handler=_generate)
