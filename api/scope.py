"""What a user may see, as SQL: one WHERE fragment per subject, for every list and detail.

Codes nest (a grid code starts with its community code, which starts with the street's
nine digits and the district's six), so an operator's or cadre's area is a code prefix.
A grid worker sees the grids they hold a currently valid assignment for, and the tasks
assigned to them; buildings, households and residents belong to the grid that contains the
building. Department staff see their department's tasks — those a member of the same
department (and street) was notified about (吹哨报到) — and only the grids, communities,
buildings, incidents and workers involved in them; no households, residents, devices or
raw events. Planners see their assigned area (a district, street or community, like an
operator) but no personal records; a planner without an area sees nothing. Queries name
their tables by table name (``FROM task JOIN incident ON …``) so the fragments fit.

Phone numbers of workers are shown in full only to the roles that call people
(``PHONE_ROLES``); everyone else gets them masked (``visible_phone``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from api.users import User
from gis.pii import mask_phone


class Subject(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    HOUSEHOLD = "household"
    RESIDENT = "resident"
    WORKER = "worker"
    DEVICE = "device"
    EVENT = "event"
    INCIDENT = "incident"
    TASK = "task"


@dataclass
class Where:
    """AND-ed SQL conditions with named (``%(name)s``) parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)

    def add(self, clause: str, **params: object) -> Where:
        self.clauses.append(f"({clause})")
        self.params.update(params)
        return self

    def equal(self, table: str, values: dict[str, object]) -> Where:
        """``table.column = value`` for each column whose value is given (not None): a
        route's optional equality filters."""
        for column, value in values.items():
            if value is not None:
                name = f"{table}_{column}"
                self.add(f"{table}.{column} = %({name})s", **{name: value})
        return self

    def extend(self, other: Where) -> Where:
        self.clauses.extend(other.clauses)
        self.params.update(other.params)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "TRUE"


PUBLIC = frozenset({Subject.DISTRICT, Subject.STREET})
"""Administrative boundaries are public information."""
PERSONAL = frozenset({Subject.HOUSEHOLD, Subject.RESIDENT})

_CODE = {
    Subject.COMMUNITY: "community.code",
    Subject.GRID: "grid.code",
    Subject.BUILDING: "building.community_code",
    Subject.HOUSEHOLD: "building.community_code",
    Subject.RESIDENT: "building.community_code",
    Subject.DEVICE: "device.grid_code",
    Subject.EVENT: "event.grid_code",
    Subject.INCIDENT: "coalesce(incident.grid_code, incident.community_code)",
    Subject.TASK: "coalesce(task.grid_code, task.community_code)",
}
"""The code column (or expression) that places a row of each subject in the code tree."""


def valid_now(alias: str) -> str:
    return f"{alias}.valid_from <= now() AND ({alias}.valid_to IS NULL OR {alias}.valid_to > now())"


_OWN_GRIDS = (
    "SELECT ga.grid_code FROM grid_assignment ga "
    f"WHERE ga.worker_id = %(scope_worker)s AND {valid_now('ga')}"
)
_BUILDING_IN_OWN_GRID = (
    f"EXISTS (SELECT 1 FROM grid own WHERE own.code IN ({_OWN_GRIDS}) AND {valid_now('own')} "
    "AND ST_Intersects(own.geom, ST_PointOnSurface(building.geom)))"
)
_WORKMATE = (
    "worker.id = %(scope_worker)s OR EXISTS (SELECT 1 FROM grid_assignment mate "
    f"WHERE mate.worker_id = worker.id AND mate.grid_code IN ({_OWN_GRIDS}) "
    f"AND {valid_now('mate')})"
)
_GRID_WORKER = {
    Subject.COMMUNITY: f"community.code IN (SELECT left(g.grid_code, 12) FROM ({_OWN_GRIDS}) g)",
    Subject.GRID: f"grid.code IN ({_OWN_GRIDS})",
    Subject.BUILDING: _BUILDING_IN_OWN_GRID,
    Subject.HOUSEHOLD: _BUILDING_IN_OWN_GRID,
    Subject.RESIDENT: _BUILDING_IN_OWN_GRID,
    Subject.WORKER: _WORKMATE,
    Subject.DEVICE: f"device.grid_code IN ({_OWN_GRIDS})",
    Subject.EVENT: f"event.grid_code IN ({_OWN_GRIDS})",
    Subject.INCIDENT: f"incident.grid_code IN ({_OWN_GRIDS})",
    Subject.TASK: f"task.grid_code IN ({_OWN_GRIDS}) OR task.assignee_id = %(scope_worker)s",
}
_WORKER_IN_AREA = (
    "coalesce(worker.community_code, worker.street_code) LIKE %(scope_prefix)s "
    "OR EXISTS (SELECT 1 FROM grid_assignment area WHERE area.worker_id = worker.id "
    f"AND area.grid_code LIKE %(scope_prefix)s AND {valid_now('area')})"
)
BUILDING_IN_GRID = (
    "EXISTS (SELECT 1 FROM grid g WHERE g.code = %(grid_code)s AND g.valid_to IS NULL "
    "AND ST_Intersects(g.geom, ST_PointOnSurface(building.geom)))"
)
"""A filter, not a scope: the building lies in the current version of grid ``grid_code``."""
_DEPARTMENT_TASKS = (
    "SELECT tn.task_id FROM task_notification tn JOIN worker mate ON mate.id = tn.worker_id "
    "JOIN worker me ON me.id = %(scope_worker)s WHERE mate.id = me.id "
    "OR (mate.role = 'department' AND mate.department = me.department "
    "AND mate.street_code IS NOT DISTINCT FROM me.street_code)"
)
"""Tasks the user or a member of its department (of the same street) was notified about."""
_DEPARTMENT_GRIDS = f"SELECT t.grid_code FROM task t WHERE t.id IN ({_DEPARTMENT_TASKS})"
_DEPARTMENT = {
    Subject.TASK: f"task.id IN ({_DEPARTMENT_TASKS})",
    Subject.GRID: f"grid.code IN ({_DEPARTMENT_GRIDS})",
    Subject.COMMUNITY: "community.code IN (SELECT coalesce(t.community_code, "
    f"left(t.grid_code, 12)) FROM task t WHERE t.id IN ({_DEPARTMENT_TASKS}))",
    Subject.BUILDING: f"EXISTS (SELECT 1 FROM grid own WHERE own.code IN ({_DEPARTMENT_GRIDS}) "
    f"AND {valid_now('own')} AND ST_Intersects(own.geom, ST_PointOnSurface(building.geom)))",
    Subject.INCIDENT: "incident.id IN (SELECT t.incident_id FROM task t "
    f"WHERE t.id IN ({_DEPARTMENT_TASKS}))",
    Subject.WORKER: "worker.id = %(scope_worker)s "
    f"OR worker.id IN (SELECT t.assignee_id FROM task t WHERE t.id IN ({_DEPARTMENT_TASKS})) "
    "OR worker.id IN (SELECT n.worker_id FROM task_notification n "
    f"WHERE n.task_id IN ({_DEPARTMENT_TASKS}))",
}
"""吹哨报到: a department is called to tasks, and sees those and what they involve."""

PHONE_ROLES = frozenset({"admin", "operator", "cadre", "grid_worker"})
"""Roles that call workers (dispatch, escalate, workmates): they see phone numbers in full."""


def scope_where(user: User, subject: Subject) -> Where:
    """The condition rows of ``subject`` must meet for ``user`` to see them."""
    where = Where()
    if subject in PUBLIC or user.role == "admin":
        return where
    if user.role == "planner" and subject in PERSONAL:
        return where.add("FALSE")
    if user.role == "department":
        clause = _DEPARTMENT.get(subject, "FALSE")
        return where.add(clause, scope_worker=user.worker_id)
    if user.role == "grid_worker":
        return where.add(_GRID_WORKER[subject], scope_worker=user.worker_id)
    prefix = user.scope_prefix
    if prefix is None:  # a planner without an area (the database forbids it for the others)
        return where.add("FALSE")
    clause = (
        _WORKER_IN_AREA if subject == Subject.WORKER else f"{_CODE[subject]} LIKE %(scope_prefix)s"
    )
    return where.add(clause, scope_prefix=prefix + "%")


def worker_in_area(code_prefix: str) -> Where:
    """Workers of the area whose codes start with ``code_prefix`` (as an operator's)."""
    return Where().add(_WORKER_IN_AREA, scope_prefix=code_prefix + "%")


def counts_scope(user: User) -> Where | None:
    """The task scope grid counts must be limited to, or None where the grids a user sees
    already contain only tasks they see (every role but department)."""
    return scope_where(user, Subject.TASK) if user.role == "department" else None


def visible_phone(user: User, phone: str | None) -> str | None:
    """A worker's phone number as ``user`` may see it."""
    return phone if user.role in PHONE_ROLES or phone is None else mask_phone(phone)
