"""`wangge plan apply PLAN.geojson`: a plan file becomes a draft and is applied, or is
refused with its reasons and stays a draft."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shapely.geometry import box, mapping

from gis.db import connect
from gis.redistrict_apply.validate import PlanGrid
from tests.api_world import COMMUNITY_A, GRID_A1
from tests.plan_world import CUT_LON, GRID_A3, resplit


def _plan_file(path: Path, grids: list[PlanGrid]) -> Path:
    features = [
        {"type": "Feature", "geometry": mapping(g.geom), "properties": {"grid_code": g.code}}
        for g in grids
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _wangge(database_url: str, plan: Path, valid_from: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gis.cli", "plan", "apply", str(plan), "--community",
         COMMUNITY_A, "--valid-from", valid_from, "--by", "planner"],
        env=os.environ | {"WANGGE_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_cli_applies_a_plan_file_and_refuses_a_bad_one(
    database_url: str, world, tmp_path: Path
) -> None:
    west, _ = resplit()
    gap = [west, PlanGrid(GRID_A3, box(CUT_LON + 0.001, 40.60, 109.82, 40.62))]
    refused = _wangge(database_url, _plan_file(tmp_path / "gap.geojson", gap), "2026-06-01")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "plan_gap" in refused.stdout

    done = _wangge(database_url, _plan_file(tmp_path / "plan.geojson", resplit()), "2026-06-01")
    assert done.returncode == 0, done.stdout + done.stderr
    with connect(database_url) as conn:
        plans = conn.execute("SELECT status, applied_by FROM grid_plan ORDER BY id").fetchall()
        current = conn.execute(
            "SELECT code, version FROM grid WHERE community_code = %s AND valid_to IS NULL "
            "ORDER BY code",
            (COMMUNITY_A,),
        ).fetchall()
    assert plans == [("draft", None), ("applied", "planner")]
    assert current == [(GRID_A1, 2), (GRID_A3, 1)]
