"""``wangge plan apply PLAN.geojson --community C --valid-from YYYY-MM-DD [--by USER]``:
a plan file (e.g. from ``wangge redistrict propose``) saved as a draft, then applied."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from gis.db import connect
from gis.loaders.context import LoadRules
from gis.redistrict_apply import store
from gis.redistrict_apply.apply import PlanRefused
from gis.redistrict_apply.geojson import BadPlanGeoJSON, plan_grids_from_geojson
from gis.settings import get_settings


def _apply_file(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        grids = plan_grids_from_geojson(json.loads(Path(args.plan).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, BadPlanGeoJSON) as exc:
        print(f"无法读取方案 cannot read {args.plan}: {exc}")
        return 2
    valid_from = datetime.combine(args.valid_from, time(), ZoneInfo(settings.local_timezone))
    with connect(settings.database_url) as conn:
        plan_id = store.create_plan(
            conn, args.community, args.name or Path(args.plan).stem, args.by, grids
        )
    print(f"草稿 draft plan {plan_id} saved")
    with connect(settings.database_url) as conn:
        try:
            result = store.apply_draft(
                conn, plan_id, valid_from, args.by, LoadRules.from_settings(settings)
            )
        except PlanRefused as exc:
            for problem in exc.problems:
                print(
                    f"✗ {problem.code or args.community} {problem.reason}: {problem.zh} / {problem.en}"
                )
            print(f"方案 {plan_id} 未应用 plan {plan_id} not applied (still a draft)")
            return 1
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    plan = subparsers.add_parser("plan", help="grid plans: apply as new grid versions")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    apply = plan_sub.add_parser("apply", help="save PLAN.geojson as a draft and apply it")
    apply.add_argument("plan", help="GeoJSON FeatureCollection of grid polygons (WGS84)")
    apply.add_argument("--community", required=True, help="12-digit community code")
    apply.add_argument("--valid-from", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    apply.add_argument("--by", default="cli", help="the planner applying it (audited)")
    apply.add_argument("--name", help="the plan's name (default: the file name)")
    apply.set_defaults(handler=_apply_file)
