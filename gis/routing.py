"""Who is responsible for a place at a moment, and who is told at each escalation level.

The assignee is the full-time grid worker whose assignment is valid at the event's time;
a grid with nobody falls to its grid head, then to the community duty desk, then to the
street duty desk. Only a place with none of them (no community known) leaves the task
unassigned, filed for the operators' desk: an event is never dropped for want of a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

Recipient = tuple[str, str]
"""(worker id, role)"""

_AT_PLACE_SQL = """
SELECT
  (SELECT ga.worker_id FROM grid_assignment ga JOIN worker w ON w.id = ga.worker_id
    WHERE ga.grid_code = u.grid AND ga.role = 'full_time' AND w.active
      AND ga.valid_from <= u.at AND (ga.valid_to IS NULL OR u.at < ga.valid_to)
    ORDER BY ga.valid_from DESC, ga.worker_id LIMIT 1),
  (SELECT ga.worker_id FROM grid_assignment ga JOIN worker w ON w.id = ga.worker_id
    WHERE ga.grid_code = u.grid AND ga.role = 'grid_head' AND w.active
      AND ga.valid_from <= u.at AND (ga.valid_to IS NULL OR u.at < ga.valid_to)
    ORDER BY ga.valid_from DESC, ga.worker_id LIMIT 1),
  (SELECT w.id FROM worker w WHERE w.role = 'duty_desk' AND w.active
      AND w.community_code = u.community ORDER BY w.id LIMIT 1),
  (SELECT w.id FROM worker w WHERE w.role = 'duty_desk' AND w.active
      AND w.community_code IS NULL AND w.street_code = u.street ORDER BY w.id LIMIT 1),
  ARRAY(SELECT w.id FROM worker w WHERE w.role = 'cadre' AND w.active
      AND w.community_code = u.community ORDER BY w.id)
FROM unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[]) WITH ORDINALITY
     AS u(grid, community, street, at, n)
ORDER BY u.n
"""

_LEVEL_SQL = {
    1: "SELECT ga.worker_id, 'grid_head' FROM grid_assignment ga "
    "JOIN worker w ON w.id = ga.worker_id WHERE ga.grid_code = %(grid)s "
    "AND ga.role = 'grid_head' AND w.active AND ga.valid_from <= now() "
    "AND (ga.valid_to IS NULL OR now() < ga.valid_to) ORDER BY 1",
    2: "SELECT id, role FROM worker WHERE active AND role IN ('cadre', 'duty_desk') "
    "AND community_code = %(community)s ORDER BY id",
    3: "SELECT id, role FROM worker WHERE active AND ("
    "(role IN ('cadre', 'duty_desk') AND community_code IS NULL AND street_code = %(street)s) "
    "OR (role = 'department' AND department = %(department)s "
    "AND (street_code IS NULL OR street_code = %(street)s))) ORDER BY id",
}
"""Who is told at each escalation level: 1 grid head (网格长), 2 community cadres and duty
desk (社区), 3 street duty desk and the rule's department, e.g. 消防 (街道/部门)."""
TOP_LEVEL = max(_LEVEL_SQL)


def street_of(community_code: str | None) -> str | None:
    """The 12-digit street code of a community (its first 9 digits + 000)."""
    return f"{community_code[:9]}000" if community_code else None


@dataclass(frozen=True)
class Responsible:
    assignee: Recipient | None
    alerts: tuple[Recipient, ...]
    """Grid head and community cadres, told at once about an urgent situation."""


@dataclass(frozen=True)
class Place:
    grid_code: str | None
    community_code: str | None
    at: datetime


def responsible(conn: psycopg.Connection, places: Sequence[Place]) -> list[Responsible]:
    """For each place, its assignee by the fallback chain and its local leaders (one query)."""
    if not places:
        return []
    rows = conn.execute(
        _AT_PLACE_SQL,
        (
            [p.grid_code for p in places],
            [p.community_code for p in places],
            [street_of(p.community_code) for p in places],
            [p.at for p in places],
        ),
    ).fetchall()
    answers = []
    for grid_worker, grid_head, community_desk, street_desk, cadres in rows:
        chain = (
            (grid_worker, "full_time"),
            (grid_head, "grid_head"),
            (community_desk, "duty_desk"),
            (street_desk, "duty_desk"),
        )
        assignee = next(((w, role) for w, role in chain if w is not None), None)
        leaders = [(grid_head, "grid_head")] if grid_head else []
        leaders += [(cadre, "cadre") for cadre in cadres]
        alerts = tuple(r for r in leaders if assignee is None or r[0] != assignee[0])
        answers.append(Responsible(assignee, alerts))
    return answers


def escalation_recipients(
    conn: psycopg.Connection,
    level: int,
    grid_code: str | None,
    community_code: str | None,
    department: str | None,
) -> list[Recipient]:
    """Who is told when a task reaches ``level`` (1..3); may be nobody."""
    params = {
        "grid": grid_code,
        "community": community_code,
        "street": street_of(community_code),
        "department": department,
    }
    return [(w, role) for w, role in conn.execute(_LEVEL_SQL[level], params).fetchall()]
