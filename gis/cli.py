"""The ``wangge`` command.

Each package registers its own subcommands through the ``wangge.commands`` entry-point
group (see pyproject.toml), so this root knows none of the layers above the foundation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from importlib.metadata import entry_points

from gis.settings import InsecureSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wangge", description="Wangge 网格 — grid-based community governance platform."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for ep in sorted(entry_points(group="wangge.commands"), key=lambda e: e.name):
        ep.load()(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        result = args.handler(args)
    except InsecureSettings as exc:  # outside development with a default secret
        print(f"wangge: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
