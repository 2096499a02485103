"""Applying a plan: new grid versions from ``valid_from``, in one transaction.

In order, inside the caller's transaction (nothing is committed here):

1. lock the community's current grids; refuse a ``valid_from`` not after every current
   version's own ``valid_from`` (history is only ever extended: roll forward, no undo);
2. validate the grids (gis.redistrict_apply.validate) — any problem refuses the apply;
3. decide where each current worker assignment goes: to the new grid that takes most of
   the old grid's households (household → building point on surface), ties by overlap
   area, then code; a plan grid with ``assignments`` gets exactly those workers instead;
4. end the current versions (valid_to = valid_from) and insert the new ones (version =
   the code's last version + 1, else 1); the grid table's statement triggers rebuild the
   cell raster and NOTIFY the GridIndexCaches;
5. end the moved assignments at valid_from and start the new ones there;
6. give every device of the community its grid spatially (device.grid_code); households
   have no grid column — their grid is their building's, found spatially by every query;
7. leave open tasks on the grid they were filed in;
8. audit the apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import psycopg
import shapely
from psycopg.types.json import Jsonb
from shapely.geometry import MultiPolygon, Polygon

from gis import audit
from gis.loaders.context import LoadRules
from gis.redistrict_apply.validate import PlanGrid, PlanProblem, validate_plan

OPEN_TASK_STATES = ("closed", "invalid", "duplicate")
"""Task states that are NOT open: every other task keeps its grid."""


class PlanRefused(Exception):
    """The plan cannot be applied; ``problems`` say why (zh and en)."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        super().__init__("; ".join(p.en for p in problems))
        self.problems = problems


@dataclass
class ApplyResult:
    community_code: str
    valid_from: datetime
    grids_ended: list[str] = field(default_factory=list)
    grids_created: list[dict] = field(default_factory=list)
    assignments_moved: list[dict] = field(default_factory=list)
    households_regridded: int = 0
    devices_regridded: int = 0
    open_tasks_kept: int = 0

    def as_dict(self) -> dict:
        result = asdict(self)
        result["valid_from"] = self.valid_from.isoformat()
        return result


def apply_plan(
    conn: psycopg.Connection,
    community_code: str,
    grids: Sequence[PlanGrid],
    valid_from: datetime,
    actor: str,
    rules: LoadRules,
    plan_id: int | None = None,
) -> ApplyResult:
    """Write ``grids`` as the community's grids from ``valid_from`` (timezone-aware).

    Raises PlanRefused with every problem found; the caller's transaction then holds no
    change of this apply (the checks come before any write).
    """
    if valid_from.tzinfo is None:
        raise ValueError("valid_from must be timezone-aware")
    row = conn.execute(
        "SELECT ST_AsBinary(geom) FROM community WHERE code = %s FOR UPDATE", (community_code,)
    ).fetchone()
    if row is None:
        raise PlanRefused(
            [
                PlanProblem(
                    None,
                    "community_unknown",
                    f"社区 {community_code} 不存在",
                    f"no community {community_code}",
                )
            ]
        )
    current = conn.execute(
        "SELECT code, valid_from FROM grid WHERE community_code = %s AND valid_to IS NULL "
        "ORDER BY code FOR UPDATE",
        (community_code,),
    ).fetchall()
    problems = validate_plan(community_code, shapely.from_wkb(row[0]), grids, rules)
    latest = max((since for _, since in current), default=None)
    if latest is not None and valid_from <= latest:
        problems.append(
            PlanProblem(
                None,
                "valid_from_too_early",
                f"生效日期 {valid_from.isoformat()} 应晚于现行网格的生效时间 {latest.isoformat()}",
                f"valid_from {valid_from.isoformat()} must be after the current grids' "
                f"valid_from {latest.isoformat()}",
            )
        )
    else:  # (a too early valid_from would flag every assignment as well)
        problems += _later_assignments(conn, [code for code, _ in current], valid_from)
    problems += _unknown_workers(conn, grids)
    if problems:
        raise PlanRefused(problems)
    old_codes = [code for code, _ in current]
    result = ApplyResult(community_code, valid_from, grids_ended=old_codes)
    _stage_new_grids(conn, grids)
    conn.execute(_PLACE_BUILDINGS, {"community": community_code})
    moves = _assignment_moves(conn, old_codes, grids)
    result.households_regridded = _households_regridded(conn)
    conn.execute(
        "UPDATE grid SET valid_to = %s WHERE community_code = %s AND valid_to IS NULL",
        (valid_from, community_code),
    )
    result.grids_created = [
        {"code": code, "version": version}
        for code, version in conn.execute(
            "INSERT INTO grid (code, community_code, name, geom, valid_from, version, source) "
            "SELECT p.code, %s, coalesce(last.name, '网格' || right(p.code, 3)), p.geom, %s, "
            "coalesce(last.version, 0) + 1, %s FROM plan_apply_grid p "
            "LEFT JOIN LATERAL (SELECT name, version FROM grid g WHERE g.code = p.code "
            "ORDER BY g.valid_from DESC LIMIT 1) last ON true "
            "RETURNING code, version",
            (community_code, valid_from, f"plan:{plan_id}" if plan_id else "plan"),
        ).fetchall()
    ]
    result.grids_created.sort(key=lambda g: g["code"])
    result.assignments_moved = _move_assignments(conn, moves, valid_from)
    result.devices_regridded = _regrid_devices(conn, community_code, old_codes)
    result.open_tasks_kept = conn.execute(
        "SELECT count(*) FROM task WHERE grid_code = ANY(%s) AND NOT state = ANY(%s)",
        (old_codes, list(OPEN_TASK_STATES)),
    ).fetchone()[0]
    conn.execute("DROP TABLE plan_apply_grid, plan_apply_building")
    audit.record(
        conn,
        actor,
        "plan.apply",
        "community",
        result.community_code,
        {"plan_id": plan_id, **result.as_dict()},
    )
    return result


def _unknown_workers(conn: psycopg.Connection, grids: Sequence[PlanGrid]) -> list[PlanProblem]:
    named = {(a["worker_id"], g.code) for g in grids for a in g.assignments or []}
    known = {
        row[0]
        for row in conn.execute(
            "SELECT id FROM worker WHERE id = ANY(%s) AND active", (sorted({w for w, _ in named}),)
        )
    }
    return [
        PlanProblem(
            code,
            "worker_unknown",
            f"网格 {code} 指定的网格员 {worker} 不存在或已停用",
            f"grid {code}: no active worker {worker}",
        )
        for worker, code in sorted(named)
        if worker not in known
    ]


def _later_assignments(
    conn: psycopg.Connection, old_codes: list[str], valid_from: datetime
) -> list[PlanProblem]:
    """Assignments that only begin at or after ``valid_from`` cannot be ended there."""
    rows = conn.execute(
        "SELECT worker_id, grid_code, valid_from FROM grid_assignment WHERE grid_code = ANY(%s) "
        "AND valid_to IS NULL AND valid_from >= %s ORDER BY grid_code, worker_id",
        (old_codes, valid_from),
    ).fetchall()
    return [
        PlanProblem(
            code,
            "assignment_starts_later",
            f"网格员 {worker} 在 {code} 的任职从 {since.isoformat()} 起, 不早于生效日期",
            f"worker {worker}'s assignment to {code} starts {since.isoformat()}, "
            "not before valid_from",
        )
        for worker, code, since in rows
    ]


def multipolygon_wkb(geom: Polygon | MultiPolygon) -> bytes:
    return shapely.to_wkb(MultiPolygon([geom]) if isinstance(geom, Polygon) else geom)


def _stage_new_grids(conn: psycopg.Connection, grids: Sequence[PlanGrid]) -> None:
    conn.execute(
        "CREATE TEMP TABLE plan_apply_grid (code text PRIMARY KEY, geom geometry, "
        "assignments jsonb) ON COMMIT DROP"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO plan_apply_grid VALUES (%s, ST_SetSRID(ST_GeomFromWKB(%s), 4326), %s)",
            [
                (
                    g.code,
                    multipolygon_wkb(g.geom),
                    None if g.assignments is None else Jsonb(g.assignments),
                )
                for g in grids
            ],
        )


_PLACE_BUILDINGS = """
CREATE TEMP TABLE plan_apply_building ON COMMIT DROP AS
SELECT b.id, (SELECT count(*) FROM household h WHERE h.building_id = b.id) AS households,
       (SELECT g.code FROM grid g WHERE g.community_code = %(community)s AND g.valid_to IS NULL
        AND ST_Intersects(g.geom, b.point) ORDER BY g.code LIMIT 1) AS old_code,
       (SELECT p.code FROM plan_apply_grid p WHERE ST_Intersects(p.geom, b.point)
        ORDER BY p.code LIMIT 1) AS new_code
FROM (SELECT id, ST_PointOnSurface(geom) AS point FROM building
      WHERE community_code = %(community)s) AS b
"""
"""Each building of the community once: its households, its current grid and its plan grid
(point on surface; smallest code on a shared edge), for the worker moves and the counts."""

_FOLLOW_HOUSEHOLDS = """
SELECT a.id, a.worker_id, a.role, a.grid_code, dest.code
FROM grid_assignment a
JOIN grid old ON old.code = a.grid_code AND old.valid_to IS NULL
LEFT JOIN LATERAL (
    SELECT p.code FROM plan_apply_grid p
    LEFT JOIN LATERAL (
        SELECT sum(pb.households) AS households FROM plan_apply_building pb
        WHERE pb.old_code = old.code AND pb.new_code = p.code
    ) taken ON true
    WHERE ST_Intersects(p.geom, old.geom)
    ORDER BY coalesce(taken.households, 0) DESC,
             ST_Area(ST_Intersection(p.geom, old.geom)) DESC, p.code
    LIMIT 1
) dest ON true
WHERE a.grid_code = ANY(%s) AND a.valid_to IS NULL
ORDER BY a.id
"""
"""Where each current assignment of the old grids goes (no destination: it just ends)."""


@dataclass(frozen=True)
class _Move:
    assignment_id: int | None
    worker_id: str
    role: str
    from_code: str | None
    to_code: str | None
    """None: the assignment ends and is not continued."""


def _assignment_moves(
    conn: psycopg.Connection, old_codes: list[str], grids: Sequence[PlanGrid]
) -> list[_Move]:
    """Where every current assignment of the old grids goes, then the planner's overrides."""
    automatic = [_Move(*row) for row in conn.execute(_FOLLOW_HOUSEHOLDS, (old_codes,))]
    overridden = {g.code: g.assignments for g in grids if g.assignments is not None}
    chosen = {(a["worker_id"], a["role"]) for members in overridden.values() for a in members}
    moves = [
        m
        for m in automatic
        if m.to_code is not None
        and m.to_code not in overridden
        and (m.worker_id, m.role) not in chosen
    ]
    ending = {(m.worker_id, m.role): m for m in automatic}
    for code, members in overridden.items():
        for member in members:
            old = ending.get((member["worker_id"], member["role"]))
            moves.append(
                _Move(
                    old.assignment_id if old else None,
                    member["worker_id"],
                    member["role"],
                    old.from_code if old else None,
                    code,
                )
            )
    # An old assignment that no move keeps still ends (its worker was overridden away).
    kept = {m.assignment_id for m in moves if m.to_code is not None}
    moves += [
        _Move(m.assignment_id, m.worker_id, m.role, m.from_code, None)
        for m in automatic
        if m.assignment_id not in kept
    ]
    return moves


def _move_assignments(
    conn: psycopg.Connection, moves: list[_Move], valid_from: datetime
) -> list[dict]:
    ended = sorted({m.assignment_id for m in moves if m.assignment_id is not None})
    conn.execute("UPDATE grid_assignment SET valid_to = %s WHERE id = ANY(%s)", (valid_from, ended))
    started = [m for m in moves if m.to_code is not None]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO grid_assignment (worker_id, grid_code, role, valid_from) "
            "VALUES (%s, %s, %s, %s)",
            [(m.worker_id, m.to_code, m.role, valid_from) for m in started],
        )
    return [
        {"worker_id": m.worker_id, "role": m.role, "from": m.from_code, "to": m.to_code}
        for m in sorted(moves, key=lambda m: (m.worker_id, m.role, m.to_code or ""))
    ]


def _households_regridded(conn: psycopg.Connection) -> int:
    """Households whose building lies in a grid of another code than before."""
    return conn.execute(
        "SELECT coalesce(sum(households), 0)::bigint FROM plan_apply_building "
        "WHERE old_code IS DISTINCT FROM new_code"
    ).fetchone()[0]


def _regrid_devices(conn: psycopg.Connection, community_code: str, old_codes: list[str]) -> int:
    """Devices of the community (by old grid or location) get the new grid they lie in, or
    the nearest one (smallest code on a tie: a shared edge)."""
    return conn.execute(
        "WITH placed AS (SELECT d.id, (SELECT p.code FROM plan_apply_grid p "
        "ORDER BY p.geom <-> d.geom, p.code LIMIT 1) AS code FROM device d "
        "WHERE d.grid_code = ANY(%s) OR EXISTS (SELECT 1 FROM community c "
        "WHERE c.code = %s AND ST_Intersects(c.geom, d.geom))) "
        "UPDATE device SET grid_code = placed.code FROM placed "
        "WHERE device.id = placed.id AND device.grid_code IS DISTINCT FROM placed.code",
        (old_codes, community_code),
    ).rowcount
