"""The work-order (工单) state machine, after GB/T 30428 and 12345-hotline practice.

reported → filed(立案) → dispatched(派单) → accepted(签收) → in_progress(办理) →
handled(处置反馈) → evaluating(回访) → closed(结案), with the side paths returned (not ours),
escalated (吹哨: grid → community → street/department), reopened (二次办理), invalid and
duplicate. Every change is written to task_transition in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"filed", "invalid", "duplicate"}),
    "filed": frozenset({"dispatched", "invalid", "duplicate"}),
    "dispatched": frozenset({"accepted", "returned", "escalated"}),
    "accepted": frozenset({"in_progress", "returned", "escalated"}),
    "in_progress": frozenset({"handled", "escalated"}),
    "handled": frozenset({"evaluating"}),
    "evaluating": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"dispatched", "accepted", "in_progress", "escalated"}),
    "returned": frozenset({"dispatched", "invalid", "duplicate"}),
    "escalated": frozenset({"dispatched", "accepted", "in_progress"}),
    "closed": frozenset(),
    "invalid": frozenset(),
    "duplicate": frozenset(),
}
TERMINAL_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
OPEN_STATES = frozenset(TRANSITIONS) - TERMINAL_STATES
# IoT events are filed and dispatched by rule, without a person in between.
AUTO_DISPATCH_PATH = ("reported", "filed", "dispatched")

STATE_LABELS_ZH = {
    "reported": "上报",
    "filed": "立案",
    "dispatched": "派单",
    "accepted": "签收",
    "in_progress": "办理中",
    "handled": "处置反馈",
    "evaluating": "回访评价",
    "closed": "结案",
    "returned": "退单",
    "escalated": "上报升级",
    "reopened": "二次办理",
    "invalid": "无效",
    "duplicate": "重复",
}


class IllegalTransition(Exception):
    """A state change the work-order rules do not allow; ``reason`` says why."""

    def __init__(self, task_id: int, from_state: str | None, to_state: str, reason: str):
        super().__init__(reason)
        self.task_id = task_id
        self.from_state = from_state
        self.to_state = to_state
        self.reason = reason


def check_transition(task_id: int, from_state: str, to_state: str) -> None:
    if to_state not in TRANSITIONS:
        raise IllegalTransition(task_id, from_state, to_state, f"unknown state {to_state!r}")
    if to_state not in TRANSITIONS[from_state]:
        allowed = ", ".join(sorted(TRANSITIONS[from_state])) or "none (terminal state)"
        raise IllegalTransition(
            task_id,
            from_state,
            to_state,
            f"task {task_id} is {from_state} ({STATE_LABELS_ZH[from_state]}); "
            f"it cannot become {to_state} ({STATE_LABELS_ZH[to_state]}). Allowed: {allowed}",
        )


@dataclass(frozen=True)
class Transition:
    task_id: int
    from_state: str
    to_state: str


def transition(
    conn: psycopg.Connection,
    task_id: int,
    to_state: str,
    actor: str,
    note: str | None = None,
    data: dict | None = None,
) -> Transition:
    """Move one task to ``to_state`` (row-locked) and log it; raises IllegalTransition."""
    row = conn.execute("SELECT state FROM task WHERE id = %s FOR UPDATE", (task_id,)).fetchone()
    if row is None:
        raise IllegalTransition(task_id, None, to_state, f"task {task_id} does not exist")
    from_state = row[0]
    check_transition(task_id, from_state, to_state)
    conn.execute(
        "UPDATE task SET state = %s, updated_at = now(), "
        "next_escalation_at = CASE WHEN %s THEN NULL ELSE next_escalation_at END "
        "WHERE id = %s",
        (to_state, to_state in TERMINAL_STATES or to_state == "accepted", task_id),
    )
    conn.execute(
        "INSERT INTO task_transition (task_id, from_state, to_state, actor, note, data) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (task_id, from_state, to_state, actor, note, Jsonb(data) if data is not None else None),
    )
    return Transition(task_id, from_state, to_state)


def task_links(public_url: str, task_id: int) -> dict[str, str]:
    """The work order in the API, and the operators' map opened on it (``/map?task=ID``)."""
    base = public_url.rstrip("/")
    return {"task": f"{base}/api/tasks/{task_id}", "map": f"{base}/map?task={task_id}"}
