"""Plan storage: drafts of a community's grids (grid_plan, grid_plan_grid, grid_plan_building).

Every write of a draft names the ``version`` it read and bumps it, so two planners editing
one draft cannot overwrite each other silently (StaleVersion). Only drafts change; an
applied plan stays as it was applied, and applying another plan supersedes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
import shapely
from psycopg.types.json import Jsonb

from gis.loaders.context import LoadRules
from gis.redistrict_apply.apply import ApplyResult, apply_plan, multipolygon_wkb
from gis.redistrict_apply.validate import PlanGrid


class StaleVersion(Exception):
    """The plan changed since the caller read it (or is no longer a draft)."""


@dataclass(frozen=True)
class Targets:
    min: int = 300
    max: int = 500
    target: int = 450


def create_plan(
    conn: psycopg.Connection,
    community_code: str,
    name: str,
    created_by: str,
    grids: Sequence[PlanGrid],
    targets: Targets = Targets(),
    params: dict | None = None,
) -> int:
    """A new draft holding ``grids``; returns its id."""
    plan_id = conn.execute(
        "INSERT INTO grid_plan (community_code, name, created_by, target_min, target_max, "
        "target, params) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            community_code,
            name,
            created_by,
            targets.min,
            targets.max,
            targets.target,
            Jsonb(params or {}),
        ),
    ).fetchone()[0]
    _write_grids(conn, plan_id, community_code, grids)
    return plan_id


def current_grids(conn: psycopg.Connection, community_code: str) -> list[PlanGrid]:
    """The community's current grids, as the starting point of a draft."""
    rows = conn.execute(
        "SELECT code, ST_AsBinary(geom) FROM grid WHERE community_code = %s "
        "AND valid_to IS NULL ORDER BY code",
        (community_code,),
    ).fetchall()
    return [PlanGrid(code, shapely.from_wkb(wkb)) for code, wkb in rows]


def replace_grids(
    conn: psycopg.Connection, plan_id: int, version: int, grids: Sequence[PlanGrid]
) -> int:
    """Replace a draft's grids if it is still at ``version``; returns the new version."""
    row = conn.execute(
        "UPDATE grid_plan SET version = version + 1, updated_at = now() "
        "WHERE id = %s AND version = %s AND status = 'draft' "
        "RETURNING version, community_code",
        (plan_id, version),
    ).fetchone()
    if row is None:
        raise StaleVersion(plan_id)
    conn.execute("DELETE FROM grid_plan_grid WHERE plan_id = %s", (plan_id,))
    conn.execute("DELETE FROM grid_plan_building WHERE plan_id = %s", (plan_id,))
    _write_grids(conn, plan_id, row[1], grids)
    return row[0]


def _write_grids(
    conn: psycopg.Connection, plan_id: int, community_code: str, grids: Sequence[PlanGrid]
) -> None:
    """The grids, each building's grid (by point on surface) and the counts that follow."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO grid_plan_grid (plan_id, code, geom, assignments) "
            "VALUES (%s, %s, ST_Multi(ST_SetSRID(ST_GeomFromWKB(%s), 4326)), %s)",
            [
                (
                    plan_id,
                    g.code,
                    multipolygon_wkb(g.geom),
                    None if g.assignments is None else Jsonb(g.assignments),
                )
                for g in grids
            ],
        )
    conn.execute(
        "INSERT INTO grid_plan_building (plan_id, building_id, grid_code) "
        "SELECT %s, b.id, (SELECT p.code FROM grid_plan_grid p WHERE p.plan_id = %s "
        "AND ST_Intersects(p.geom, ST_PointOnSurface(b.geom)) ORDER BY p.code LIMIT 1) "
        "FROM building b WHERE b.community_code = %s AND EXISTS (SELECT 1 FROM grid_plan_grid p "
        "WHERE p.plan_id = %s AND ST_Intersects(p.geom, ST_PointOnSurface(b.geom)))",
        (plan_id, plan_id, community_code, plan_id),
    )
    conn.execute(
        "UPDATE grid_plan_grid p SET buildings = c.buildings, households = c.households "
        "FROM (SELECT pb.grid_code, count(DISTINCT pb.building_id) AS buildings, "
        "count(h.id) AS households FROM grid_plan_building pb "
        "LEFT JOIN household h ON h.building_id = pb.building_id WHERE pb.plan_id = %s "
        "GROUP BY pb.grid_code) c WHERE p.plan_id = %s AND p.code = c.grid_code",
        (plan_id, plan_id),
    )
    conn.execute(
        "UPDATE grid_plan SET metrics = (SELECT jsonb_build_object("
        "'grids', count(*), 'households_min', min(households), "
        "'households_max', max(households), 'in_range_share', "
        "round(avg((households BETWEEN target_min AND target_max)::int), 4)) "
        "FROM grid_plan_grid, grid_plan gp WHERE plan_id = %s AND gp.id = %s) WHERE id = %s",
        (plan_id, plan_id, plan_id),
    )


def plan_grids(conn: psycopg.Connection, plan_id: int) -> list[PlanGrid]:
    rows = conn.execute(
        "SELECT code, ST_AsBinary(geom), assignments FROM grid_plan_grid WHERE plan_id = %s "
        "ORDER BY code",
        (plan_id,),
    ).fetchall()
    return [PlanGrid(code, shapely.from_wkb(wkb), assignments) for code, wkb, assignments in rows]


def mark_applied(
    conn: psycopg.Connection, plan_id: int, actor: str, result: ApplyResult, applied_at: datetime
) -> None:
    """The plan is applied; the community's plan applied before it is superseded."""
    conn.execute(
        "UPDATE grid_plan SET status = 'superseded', updated_at = now() "
        "WHERE community_code = %s AND status = 'applied' AND id <> %s",
        (result.community_code, plan_id),
    )
    conn.execute(
        "UPDATE grid_plan SET status = 'applied', applied_at = %s, applied_valid_from = %s, "
        "applied_by = %s, version = version + 1, updated_at = now(), "
        "metrics = metrics || jsonb_build_object('apply', %s::jsonb) WHERE id = %s",
        (applied_at, result.valid_from, actor, Jsonb(result.as_dict()), plan_id),
    )


def apply_draft(
    conn: psycopg.Connection,
    plan_id: int,
    valid_from: datetime,
    actor: str,
    rules: LoadRules,
    overrides: dict[str, list[dict]] | None = None,
) -> ApplyResult:
    """Apply a stored draft (with per-grid worker ``overrides``) and mark it applied, in one
    transaction (a savepoint inside the caller's). Raises PlanRefused, or StaleVersion when
    the plan is not a draft."""
    with conn.transaction():
        row = conn.execute(
            "SELECT community_code, status FROM grid_plan WHERE id = %s FOR UPDATE", (plan_id,)
        ).fetchone()
        if row is None or row[1] != "draft":
            raise StaleVersion(plan_id)
        chosen = overrides or {}
        grids = [
            PlanGrid(g.code, g.geom, chosen.get(g.code, g.assignments))
            for g in plan_grids(conn, plan_id)
        ]
        result = apply_plan(conn, row[0], grids, valid_from, actor, rules, plan_id)
        mark_applied(conn, plan_id, actor, result, datetime.now(valid_from.tzinfo))
    return result


def lock_grids(conn: psycopg.Connection, plan_id: int, grid_codes: Sequence[str]) -> None:
    """The buildings of ``grid_codes`` are locked (the editor keeps them where they are),
    every other building of the plan is not."""
    conn.execute(
        "UPDATE grid_plan_building SET locked = grid_code = ANY(%s) WHERE plan_id = %s",
        (list(grid_codes), plan_id),
    )


def building_grids(conn: psycopg.Connection, plan_id: int) -> dict[int, tuple[str, bool]]:
    """Each building's (grid code, locked) in the plan."""
    rows = conn.execute(
        "SELECT building_id, grid_code, locked FROM grid_plan_building WHERE plan_id = %s",
        (plan_id,),
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}
