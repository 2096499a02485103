"""Work orders for newly opened incidents, filed and dispatched by rule in the batch's
transaction: task rows, their transitions, who was notified, and the outbox rows that push
them (MQTT to workers) once the batch has committed, and a lone resident's family notice
(ingest.family_notices)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from gis.deadlines import due_at
from gis.routing import Place, Recipient, responsible
from gis.settings import Settings
from gis.task_messages import queue_pushes
from gis.work_calendar import load_work_calendar
from gis.workorders import AUTO_DISPATCH_PATH, check_transition, transition
from ingest.family_notices import queue_notices
from ingest.incidents import NewIncident

ACTOR = "system:rules"

_INSERT_TASKS = """
INSERT INTO task (incident_id, grid_code, community_code, assignee_id, state, urgency,
                  category, title, title_en, description, location_method, next_escalation_at,
                  due_at, due_estimated)
SELECT * FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[],
                     %b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
                     %b::timestamptz[], %b::timestamptz[], %b::boolean[])
RETURNING id, incident_id
"""


def first_escalation_at(created: datetime, escalates: bool, settings: Settings) -> datetime | None:
    if not escalates or not settings.escalation_minutes:
        return None
    return created + timedelta(minutes=settings.escalation_minutes[0])


def _path(has_assignee: bool) -> tuple[str, ...]:
    """reported → filed → dispatched; without anyone to dispatch to, it waits filed."""
    return AUTO_DISPATCH_PATH if has_assignee else AUTO_DISPATCH_PATH[:2]


def create_tasks(
    conn: psycopg.Connection, incidents: Sequence[NewIncident], settings: Settings
) -> list[int]:
    """One task per incident; returns the outbox ids to push after commit."""
    if not incidents:
        return []
    people = responsible(
        conn, [Place(i.grid_code, i.community_code, i.first_seen) for i in incidents]
    )
    now = datetime.now(UTC)
    paths = [_path(p.assignee is not None) for p in people]
    calendar = load_work_calendar(settings.work_calendar_path)
    due = [due_at(now, i.rule.category, i.urgency, calendar) for i in incidents]
    rows = conn.execute(
        _INSERT_TASKS,
        (
            [i.id for i in incidents],
            [i.grid_code for i in incidents],
            [i.community_code for i in incidents],
            [p.assignee[0] if p.assignee else None for p in people],
            [path[-1] for path in paths],
            [i.urgency for i in incidents],
            [i.rule.category for i in incidents],
            [i.rule.title_zh for i in incidents],
            [i.rule.title_en for i in incidents],
            [i.description_zh for i in incidents],
            [i.location_method for i in incidents],
            [first_escalation_at(now, i.rule.escalates, settings) for i in incidents],
            [d.at for d in due],
            [d.estimated for d in due],
        ),
    ).fetchall()
    task_of = {incident_id: task_id for task_id, incident_id in rows}
    tasks = [task_of[i.id] for i in incidents]
    _log_transitions(conn, tasks, paths, people)
    recipients = [
        (task, r)
        for task, p in zip(tasks, people, strict=True)
        for r in ([p.assignee] if p.assignee else []) + list(p.alerts)
    ]
    record_notifications(conn, recipients, level=0)
    outbox = queue_pushes(
        conn, [(t, r[0]) for t, r in recipients], "assigned", settings.api_public_url
    )
    _tell_families(conn, incidents, settings)
    return outbox


def _log_transitions(
    conn: psycopg.Connection,
    tasks: Sequence[int],
    paths: Sequence[tuple[str, ...]],
    people: Sequence,
) -> None:
    rows = []
    for task, path, person in zip(tasks, paths, people, strict=True):
        previous = None
        for state in path:
            if previous is not None:
                check_transition(task, previous, state)
            data = {"assignee_id": person.assignee[0]} if state == "dispatched" else None
            rows.append((task, previous, state, Jsonb(data) if data else None))
            previous = state
    conn.execute(
        "INSERT INTO task_transition (task_id, from_state, to_state, actor, note, data) "
        "SELECT u.task, u.from_state, u.to_state, %s, %s, u.data "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::jsonb[]) "
        "AS u(task, from_state, to_state, data)",
        (ACTOR, "按规则自动处理 (filed by rule)", *map(list, zip(*rows, strict=True))),
    )


def record_notifications(
    conn: psycopg.Connection, recipients: Sequence[tuple[int, Recipient]], level: int
) -> None:
    if not recipients:
        return
    conn.execute(
        "INSERT INTO task_notification (task_id, worker_id, role, level) "
        "SELECT u.task, u.worker, u.role, %s "
        "FROM unnest(%b::bigint[], %b::text[], %b::text[]) AS u(task, worker, role) "
        "ON CONFLICT ON CONSTRAINT task_notification_once DO NOTHING",
        (
            level,
            [t for t, _ in recipients],
            [w for _, (w, _) in recipients],
            [role for _, (_, role) in recipients],
        ),
    )


def _tell_families(
    conn: psycopg.Connection,
    incidents: Sequence[NewIncident],
    settings: Settings,
) -> None:
    """A family notice (ingest.family_notices, sent through gis.channels) to the family
    contacts of a resident living alone, if the household is enrolled in the watch."""
    for incident in incidents:
        if not (incident.rule.notify_family and incident.lives_alone and incident.household_id):
            continue
        what = incident.rule.title_zh.split("——")[0]

        def text(name: str, code: str, link: str, what: str = what) -> str:
            return (
                f"【网格通知】{name}您好: 您家人(户号 {code})出现“{what}”情况, "
                f"网格员将上门探访。如您已确认一切正常请点击 {link}"
            )

        queue_notices(conn, incident.id, incident.household_id, text, settings)


REROUTABLE = ("reported", "filed", "dispatched")
"""Not yet accepted by anyone: a task still follows its incident to another grid."""


def reroute(conn: psycopg.Connection, moved: dict[int, Place], settings: Settings) -> list[int]:
    """Tasks of incidents now placed in another grid go to that grid's people: the new
    assignee and local leaders get ``assigned``, the previous assignee ``cancelled``.
    Returns the outbox ids."""
    if not moved:
        return []
    rows = conn.execute(
        "SELECT id, incident_id, assignee_id, state FROM task "
        "WHERE incident_id = ANY(%s) AND state = ANY(%s) ORDER BY id FOR UPDATE",
        (sorted(moved), list(REROUTABLE)),
    ).fetchall()
    people = responsible(conn, [moved[incident] for _, incident, _, _ in rows])
    told, released = [], []
    for (task, incident, previous, state), person in zip(rows, people, strict=True):
        place = moved[incident]
        assignee = person.assignee[0] if person.assignee else None
        conn.execute(
            "UPDATE task SET grid_code = %s, community_code = %s, assignee_id = %s, "
            "updated_at = now() WHERE id = %s",
            (place.grid_code, place.community_code, assignee, task),
        )
        if assignee == previous:
            continue
        if state == "filed" and assignee is not None:
            transition(conn, task, "dispatched", ACTOR, "定位更新后派单", {"assignee_id": assignee})
        if previous is not None:
            released.append((task, (previous, "previous_assignee")))
        told += [
            (task, r) for r in ([person.assignee] if person.assignee else []) + list(person.alerts)
        ]
    record_notifications(conn, told, level=0)
    url = settings.api_public_url
    return queue_pushes(conn, [(t, r[0]) for t, r in told], "assigned", url) + queue_pushes(
        conn, [(t, r[0]) for t, r in released], "cancelled", url
    )
