"""Where the workers would go if a plan were applied now, for the planner to change first.

The same decision as the apply (``apply._assignment_moves``: each current assignment to
the new grid taking most of its old grid's households, then the plan's own overrides),
run in a savepoint that is rolled back: nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from gis.redistrict_apply.apply import _PLACE_BUILDINGS, _assignment_moves, _stage_new_grids
from gis.redistrict_apply.validate import PlanGrid


class _Rollback(Exception):
    pass


def worker_moves(
    conn: psycopg.Connection, community_code: str, grids: Sequence[PlanGrid]
) -> list[dict]:
    """``[{worker_id, name, role, from, to}]`` (``to`` None: the assignment would end)."""
    old_codes = [
        row[0]
        for row in conn.execute(
            "SELECT code FROM grid WHERE community_code = %s AND valid_to IS NULL ORDER BY code",
            (community_code,),
        )
    ]
    found: list = []
    try:
        with conn.transaction():
            _stage_new_grids(conn, grids)
            conn.execute(_PLACE_BUILDINGS, {"community": community_code})
            found = _assignment_moves(conn, old_codes, grids)
            raise _Rollback
    except _Rollback:
        pass
    names = dict(
        conn.execute(
            "SELECT id, name FROM worker WHERE id = ANY(%s)", ([m.worker_id for m in found],)
        ).fetchall()
    )
    return [
        {
            "worker_id": m.worker_id,
            "name": names.get(m.worker_id),
            "role": m.role,
            "from": m.from_code,
            "to": m.to_code,
        }
        for m in sorted(found, key=lambda m: (m.from_code or "", m.worker_id, m.role))
    ]
