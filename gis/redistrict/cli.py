"""``wangge redistrict propose|check``: the engine on plain files, no database needed."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from gis.settings import Settings, get_settings


def _targets(args: argparse.Namespace, settings: Settings):
    from gis.redistrict.targets import Targets

    return Targets(
        minimum=args.min if args.min is not None else settings.redistrict_min_households,
        maximum=args.max if args.max is not None else settings.redistrict_max_households,
        ideal=args.target if args.target is not None else settings.redistrict_target_households,
    )


def _inputs(args: argparse.Namespace, settings: Settings):
    from gis.redistrict import inputs

    buildings = inputs.read_buildings(args.buildings, args.households_field, args.households_csv)
    return inputs.assemble(
        buildings,
        roads=inputs.read_roads(args.roads) if args.roads else None,
        boundary=inputs.read_boundary(args.boundary) if args.boundary else None,
        current=inputs.read_grids(args.current) if args.current else None,
        hull_buffer_m=settings.redistrict_hull_buffer_m,
    )


def _stderr_progress():
    started = time.monotonic()
    last: dict[str, float] = {}

    def report(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if stage in last and fraction < 1.0 and now - last[stage] < 1.0:
            return
        last[stage] = now
        print(f"[{now - started:6.1f}s] {stage} {fraction:4.0%}", file=sys.stderr, flush=True)

    return report


def _propose(args: argparse.Namespace) -> int:
    from gis.gridcodes import MAX_GRIDS_PER_COMMUNITY
    from gis.redistrict.inputs import InputError
    from gis.redistrict.plan_files import write_plan
    from gis.redistrict.propose import ProposeOptions, propose

    settings = get_settings()
    try:
        targets = _targets(args, settings)
        planner_inputs = _inputs(args, settings)
        options = ProposeOptions(
            targets=targets,
            seed=args.seed,
            community_code=args.community_code or settings.redistrict_community_code,
            stay_close=args.stay_close,
            road_factor=settings.redistrict_road_factor,
            sample_step_m=settings.redistrict_sample_step_m,
        )
        if args.stay_close and planner_inputs.current is None:
            raise InputError("--stay-close needs --current grids")
        plan = propose(planner_inputs, options, progress=_stderr_progress())
    except (InputError, ValueError) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    write_plan(plan, args.out, args.assignment_out)
    if plan.metrics.grids > MAX_GRIDS_PER_COMMUNITY:
        print(
            f"注意 note: {plan.metrics.grids} grids are more than one community's "
            f"{MAX_GRIDS_PER_COMMUNITY}: codes continue in the next community codes",
            file=sys.stderr,
        )
    _print_metrics(plan.metrics.as_dict(), args.json)
    print(f"方案已写入 plan written to: {args.out}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from gis.redistrict.check import check_plan
    from gis.redistrict.inputs import InputError
    from gis.redistrict.plan_files import read_plan

    settings = get_settings()
    try:
        targets = _targets(args, settings)
        plan = read_plan(args.plan)
        planner_inputs = _inputs(args, settings) if args.buildings else None
        metrics = check_plan(plan, targets, planner_inputs)
    except (InputError, ValueError) as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    _print_metrics(metrics.as_dict(), args.json)
    return 0


def _print_metrics(metrics: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(metrics, ensure_ascii=False))
        return
    for key, value in metrics.items():
        print(f"{key:>24}: {value}")


def _add_inputs(parser: argparse.ArgumentParser, buildings_required: bool) -> None:
    parser.add_argument(
        "--buildings",
        type=Path,
        required=buildings_required,
        help="building polygons (GeoJSON, GeoPackage, Shapefile)",
    )
    parser.add_argument(
        "--households-field",
        help="the buildings' households column "
        "(without it households are estimated from levels/height and area)",
    )
    parser.add_argument(
        "--households-csv",
        type=Path,
        help="CSV or Excel of id,households overriding buildings' counts",
    )
    parser.add_argument("--roads", type=Path, help="road lines: preferred cut lines")
    parser.add_argument(
        "--boundary", type=Path, help="community boundary (default: the buildings' hull, buffered)"
    )
    parser.add_argument("--current", type=Path, help="current grid polygons (with a code)")
    parser.add_argument("--min", type=int, help="fewest households per grid (default 300)")
    parser.add_argument("--max", type=int, help="most households per grid (default 500)")
    parser.add_argument("--target", type=int, help="ideal households per grid (default 450)")
    parser.add_argument("--json", action="store_true", help="metrics as one JSON line")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "redistrict", help="网格重划 propose grids against household targets / check a plan"
    )
    sub = parser.add_subparsers(dest="redistrict_command", metavar="ACTION", required=True)
    propose = sub.add_parser("propose", help="propose grids of a community from files")
    _add_inputs(propose, buildings_required=True)
    propose.add_argument("--seed", type=int, default=0, help="random seed (reproducible)")
    propose.add_argument("--community-code", help="12-digit community code of the grid codes")
    propose.add_argument(
        "--stay-close",
        action="store_true",
        help="change as few households as possible from --current",
    )
    propose.add_argument("--out", type=Path, required=True, help="plan GeoJSON to write")
    propose.add_argument("--assignment-out", type=Path, help="CSV of each building's grid")
    propose.set_defaults(handler=_propose)

    check = sub.add_parser("check", help="metrics of a plan (grid polygons) made anywhere")
    check.add_argument("plan", type=Path, help="grid polygons (GeoJSON, GeoPackage, Shapefile)")
    _add_inputs(check, buildings_required=False)
    check.set_defaults(handler=_check)
