"""Timed escalation of urgent alerts nobody accepted (ThingsBoard leaves them open).

A task created by a rule that escalates carries ``next_escalation_at`` (creation +
escalation_minutes[0]). Whichever ingest process looks first claims the due tasks (FOR
UPDATE SKIP LOCKED: several processes never escalate one task twice), notifies the next
level (routing.escalation_recipients), records task_notification and outbox rows, raises
``escalation_level`` and sets the next time, creation + escalation_minutes[level], or
nothing after the last level. Accepting the task clears the time (gis.workorders), which
stops it. Everything lives in the task row, so a restart of any worker loses nothing.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from gis.routing import TOP_LEVEL, escalation_recipients
from gis.settings import Settings
from gis.task_messages import queue_pushes
from gis.workorders import TERMINAL_STATES
from ingest.rules import rule_for
from ingest.tasks import record_notifications

CLAIM_LIMIT = 100
STOPPED_STATES = sorted(TERMINAL_STATES | {"accepted", "in_progress", "handled", "evaluating"})
"""Someone has taken the task on (or it is over): no more escalation."""


def escalate_due(conn: psycopg.Connection, settings: Settings) -> list[int]:
    """Escalate every task due now by one level; returns the outbox ids (commit is the
    caller's)."""
    rows = conn.execute(
        "SELECT t.id, t.escalation_level, t.created_at, t.grid_code, "
        "coalesce(t.community_code, left(t.grid_code, 12)), i.type "
        "FROM task t LEFT JOIN incident i ON i.id = t.incident_id "
        "WHERE t.next_escalation_at <= now() AND t.state <> ALL(%s) "
        "ORDER BY t.next_escalation_at LIMIT %s FOR UPDATE OF t SKIP LOCKED",
        (STOPPED_STATES, CLAIM_LIMIT),
    ).fetchall()
    outbox: list[int] = []
    minutes = settings.escalation_minutes
    for task_id, level, created_at, grid, community, type_ in rows:
        level = min(level + 1, TOP_LEVEL)
        rule = rule_for(type_ or "")
        recipients = escalation_recipients(
            conn, level, grid, community, rule.department if rule else None
        )
        following = (
            created_at + timedelta(minutes=minutes[level])
            if level < min(len(minutes), TOP_LEVEL)
            else None
        )
        conn.execute(
            "UPDATE task SET escalation_level = %s, next_escalation_at = %s, updated_at = now() "
            "WHERE id = %s",
            (level, following, task_id),
        )
        pushes = [(task_id, r) for r in recipients]
        record_notifications(conn, pushes, level)
        outbox += queue_pushes(
            conn, [(t, r[0]) for t, r in pushes], "escalated", settings.api_public_url
        )
    return outbox
