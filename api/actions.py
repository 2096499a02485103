"""The work-order loop as people drive it: who may move a task, and what goes with each move.

The states and legal transitions are gis.workorders' alone (an illegal move raises
IllegalTransition → 409). This module adds the people: the desk (operators, cadres,
admins) files, dispatches, evaluates and closes; the assignee accepts, starts, reports
back or returns the task; anyone responsible may escalate (吹哨), and those notified at the
new level must acknowledge (报到). Every move is also written to the audit log, and workers
concerned get a task message through the outbox.

Separation of duties: nobody — admin included — evaluates (评单) a task they accepted,
worked on or reported handled, or of which they are the assignee; and an admin, whose
scope is everywhere, dispatches to a worker outside the task's street only with an
explicit reason, which is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.resumable import attach_uploads, place_attached
from api.scope import Subject, Where, scope_where, valid_now, worker_in_area
from api.uploads import Photo, photo_name, store_photo
from api.users import User
from gis import audit
from gis.deadlines import due_at
from gis.deliveries import mark_acknowledged, mark_seen
from gis.task_messages import Action, queue_pushes
from gis.work_calendar import WorkCalendar
from gis.workorders import OPEN_STATES, TERMINAL_STATES, transition

DESK_ROLES = frozenset({"admin", "operator", "cadre"})
ESCALATION_LEVELS = {"grid_head": 1, "community": 2, "street": 3, "department": 3}
"""Levels as in the MQTT contract: 0 grid worker, 1 grid head, 2 community, 3 street/department."""

_RECIPIENTS = {
    "grid_head": "SELECT worker.id, worker.role FROM worker JOIN grid_assignment ga "
    "ON ga.worker_id = worker.id WHERE worker.active AND ga.role = 'grid_head' "
    f"AND ga.grid_code = %(grid_code)s AND {valid_now('ga')}",
    "community": "SELECT id, role FROM worker WHERE active AND role IN ('cadre', 'duty_desk') "
    "AND community_code = %(community_code)s",
    "street": "SELECT id, role FROM worker WHERE active AND role IN ('cadre', 'duty_desk') "
    "AND community_code IS NULL AND street_code = %(street_code)s",
    "department": "SELECT id, role FROM worker WHERE active AND role = 'department' "
    "AND department = %(department)s "
    "AND (street_code IS NULL OR street_code = %(street_code)s)",
}
"""Who is told when a task is escalated to each level."""


@dataclass(frozen=True)
class TaskRow:
    id: int
    state: str
    assignee_id: str | None
    grid_code: str | None
    community_code: str | None
    category: str
    urgency: str
    escalation_level: int
    incident_id: int | None

    @property
    def community(self) -> str | None:
        return self.community_code or (self.grid_code[:12] if self.grid_code else None)


class TaskActions:
    """The moves one user may make on tasks, inside the caller's transaction."""

    def __init__(
        self, conn: psycopg.Connection, user: User, public_url: str, calendar: WorkCalendar
    ):
        self.conn = conn
        self.user = user
        self.public_url = public_url
        self.calendar = calendar

    # --- helpers ------------------------------------------------------------------------

    def _load(self, task_id: int) -> TaskRow:
        where = scope_where(self.user, Subject.TASK).add("task.id = %(task_id)s", task_id=task_id)
        row = (
            self.conn.cursor(row_factory=class_row(TaskRow))
            .execute(
                "SELECT task.id, task.state, task.assignee_id, task.grid_code, "
                "task.community_code, task.category, task.urgency, task.escalation_level, "
                f"task.incident_id FROM task WHERE {where.sql} FOR UPDATE",
                where.params,
            )
            .fetchone()
        )
        if row is None:
            raise NotFound(f"工单 {task_id} 不存在或无权查看 (task not found)")
        return row

    def _require_desk(self, what: str) -> None:
        if self.user.role not in DESK_ROLES:
            raise Forbidden(f"只有值班员、村(社区)干部或管理员可以{what} (desk staff only)")

    def _require_assignee(self, task: TaskRow, what: str) -> None:
        if self.user.role == "admin":
            return
        if self.user.worker_id is None or task.assignee_id != self.user.worker_id:
            raise Forbidden(f"只有本工单的承办人可以{what} (only the assignee may do this)")

    def _move(self, task: TaskRow, to_state: str, note: str | None, data: dict | None = None):
        step = transition(self.conn, task.id, to_state, self.user.username, note, data)
        audit.record(
            self.conn,
            self.user.username,
            "transition",
            "task",
            task.id,
            {"from": step.from_state, "to": step.to_state, "note": note} | (data or {}),
        )
        if to_state in TERMINAL_STATES and task.incident_id is not None:
            self._close_incident_if_done(task.incident_id)
        return step

    def _close_incident_if_done(self, incident_id: int) -> None:
        """An incident whose tasks are all finished is closed, so new events of the same
        place start a new situation instead of merging into a finished one."""
        self.conn.execute(
            "UPDATE incident SET status = 'closed' WHERE id = %(id)s AND status = 'open' "
            "AND NOT EXISTS (SELECT 1 FROM task WHERE incident_id = %(id)s "
            "AND state = ANY(%(open)s))",
            {"id": incident_id, "open": sorted(OPEN_STATES)},
        )

    def _notify(self, task: TaskRow, workers: list[tuple[str, str]], level: int) -> None:
        self.conn.cursor().executemany(
            "INSERT INTO task_notification (task_id, worker_id, role, level) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT ON CONSTRAINT task_notification_once DO NOTHING",
            [(task.id, worker_id, role, level) for worker_id, role in workers],
        )

    def _push(self, task: TaskRow, worker_ids: list[str], action: Action) -> None:
        queue_pushes(self.conn, [(task.id, w) for w in worker_ids], action, self.public_url)

    # --- the desk -----------------------------------------------------------------------

    def file(self, task_id: int, note: str | None) -> None:
        """立案: accept a reported matter as a case."""
        task = self._load(task_id)
        self._require_desk("立案")
        self._move(task, "filed", note)

    def _worker(self, worker_id: str, where: Where) -> tuple[str, str] | None:
        where.add("worker.id = %(worker_id)s AND worker.active", worker_id=worker_id)
        return self.conn.execute(
            f"SELECT worker.id, worker.role FROM worker WHERE {where.sql}", where.params
        ).fetchone()

    def _check_outside_area(self, task: TaskRow, worker_id: str, reason: str | None) -> bool:
        """Whether the worker is outside the task's street; refuses that without a reason."""
        street = task.community[:9] if task.community else None
        if street is None or self._worker(worker_id, worker_in_area(street)) is not None:
            return False
        if not reason:
            raise Unprocessable(
                f"网格员 {worker_id} 不在工单所在街道, 须填写 outside_area_reason 说明理由 "
                "(worker outside the task's street: outside_area_reason required)"
            )
        return True

    def dispatch(
        self, task_id: int, worker_id: str, note: str | None, outside_area_reason: str | None
    ) -> None:
        """派单 to a worker of the user's area; the worker gets an ``assigned`` push. An
        admin may dispatch outside the task's street with a reason (audited)."""
        task = self._load(task_id)
        self._require_desk("派单")
        worker = self._worker(worker_id, scope_where(self.user, Subject.WORKER))
        if worker is None:
            raise Unprocessable(
                f"网格员 {worker_id} 不在您的辖区或已停用 (worker not in your area)"
            )
        if self._check_outside_area(task, worker_id, outside_area_reason):
            audit.record(
                self.conn,
                self.user.username,
                "dispatch_outside_area",
                "task",
                task.id,
                {"worker_id": worker_id, "reason": outside_area_reason},
            )
        self._move(task, "dispatched", note, {"assignee_id": worker_id})
        self.conn.execute("UPDATE task SET assignee_id = %s WHERE id = %s", (worker_id, task.id))
        self._notify(task, [(worker[0], worker[1])], task.escalation_level)
        self._push(task, [worker_id], "assigned")

    def evaluate(self, task_id: int, satisfied: bool, note: str | None) -> None:
        """回访评价: satisfied closes (结案); unsatisfied reopens for 二次办理 with a new deadline."""
        task = self._load(task_id)
        self._require_desk("评价")
        self._require_not_handler(task)
        if task.state == "handled":
            self._move(task, "evaluating", note)
        if satisfied:
            self._move(task, "closed", note, {"satisfied": True})
            return
        self._move(task, "reopened", note, {"satisfied": False})
        due = due_at(datetime.now(UTC), task.category, task.urgency, self.calendar)
        self.conn.execute(
            "UPDATE task SET due_at = %s, due_estimated = %s WHERE id = %s",
            (due.at, due.estimated, task.id),
        )
        if task.assignee_id:
            self._push(task, [task.assignee_id], "updated")

    def _require_not_handler(self, task: TaskRow) -> None:
        handled = (
            self.user.worker_id is not None and task.assignee_id == self.user.worker_id
        ) or self.conn.execute(
            "SELECT 1 FROM task_transition WHERE task_id = %s AND actor = %s "
            "AND to_state IN ('accepted', 'in_progress', 'handled') LIMIT 1",
            (task.id, self.user.username),
        ).fetchone()
        if handled:
            raise Forbidden(
                "办理过本工单的人员不能评价 (separation of duties: you handled this task; "
                "someone else must evaluate it)"
            )

    def mark_invalid(self, task_id: int, note: str | None) -> None:
        task = self._load(task_id)
        self._require_desk("作废工单")
        self._move(task, "invalid", note)

    def mark_duplicate(self, task_id: int, duplicate_of: int, note: str | None) -> None:
        if duplicate_of == task_id:
            raise Unprocessable("工单不能与自身重复 (a task cannot duplicate itself)")
        task = self._load(task_id)
        self._require_desk("标记重复")
        self._load(duplicate_of)
        self._move(task, "duplicate", note, {"duplicate_of": duplicate_of})

    # --- the assignee -------------------------------------------------------------------

    def accept(self, task_id: int, note: str | None) -> None:
        """签收 by the assignee, or by someone notified at an escalation level (who then
        becomes the assignee); accepting also acknowledges one's notifications."""
        task = self._load(task_id)
        me = self.user.worker_id
        notified = (
            me is not None
            and self.conn.execute(
                "SELECT 1 FROM task_notification WHERE task_id = %s AND worker_id = %s",
                (task.id, me),
            ).fetchone()
        )
        if self.user.role != "admin" and not (me and (task.assignee_id == me or notified)):
            raise Forbidden(
                "只有承办人或被通知的人员可以签收 (only the assignee or those notified)"
            )
        self._move(task, "accepted", note, {"assignee_id": me or task.assignee_id})
        if me:
            self.conn.execute("UPDATE task SET assignee_id = %s WHERE id = %s", (me, task.id))
            self._acknowledge_mine(task.id)
            mark_acknowledged(self.conn, task.id, me)

    def seen(self, task_id: int) -> None:
        """The app showed the task to a notified worker: the urgent ladder skips SMS."""
        task = self._load(task_id)
        if self.user.worker_id is None or not mark_seen(self.conn, task.id, self.user.worker_id):
            raise Conflict("你没有收到此工单的通知 (you were not notified of this task)")

    def start(self, task_id: int, note: str | None) -> None:
        task = self._load(task_id)
        self._require_assignee(task, "开始办理")
        self._move(task, "in_progress", note)

    def report_handled(
        self, task_id: int, note: str, photo: Photo | None, upload_dir: Path
    ) -> None:
        """处置反馈 with a note and a checked photo, stored only once the move is allowed."""
        task = self._load(task_id)
        self._require_assignee(task, "反馈处置结果")
        name = photo_name(photo) if photo else None
        self._move(task, "handled", note, {"photos": [name]} if name else None)
        if photo and name:
            store_photo(upload_dir, task.id, name, photo)

    def report_with_uploads(
        self, task_id: int, note: str, upload_ids: list[str], upload_dir: Path
    ) -> None:
        """处置反馈 whose photos arrived beforehand as resumable uploads (api.resumable)."""
        task = self._load(task_id)
        self._require_assignee(task, "反馈处置结果")
        names = attach_uploads(self.conn, self.user, upload_ids, task.id)
        self._move(task, "handled", note, {"photos": names} if names else None)
        place_attached(upload_dir, task.id, names)

    def attach_photos(self, task_id: int, upload_ids: list[str], upload_dir: Path) -> None:
        """Photos that follow a report sent without them (the field app sends the text
        first, so a slow link never holds up the report): added to my latest 处置反馈, in
        any state after it — the photos are evidence of what was done, not a move."""
        task = self._load(task_id)
        row = self.conn.execute(
            "SELECT id FROM task_transition WHERE task_id = %s AND to_state = 'handled' "
            "AND actor = %s ORDER BY id DESC LIMIT 1 FOR UPDATE",
            (task.id, self.user.username),
        ).fetchone()
        if row is None:
            raise Conflict("须先反馈处置结果再补传照片 (report the task handled before its photos)")
        names = attach_uploads(self.conn, self.user, upload_ids, task.id)
        self.conn.execute(
            "UPDATE task_transition SET data = jsonb_set(coalesce(data, '{}'), '{photos}', "
            "coalesce(data->'photos', '[]') || %s::jsonb) WHERE id = %s",
            (Jsonb(names), row[0]),
        )
        audit.record(self.conn, self.user.username, "photos", "task", task.id, {"photos": names})
        place_attached(upload_dir, task.id, names)

    def return_to_dispatcher(self, task_id: int, note: str) -> None:
        """退单: not ours — back to the desk, without an assignee."""
        task = self._load(task_id)
        self._require_assignee(task, "退单")
        self._move(task, "returned", note, {"previous_assignee_id": task.assignee_id})
        self.conn.execute("UPDATE task SET assignee_id = NULL WHERE id = %s", (task.id,))

    # --- escalation (吹哨报到) -------------------------------------------------------------

    def escalate(self, task_id: int, level: str, department: str | None, note: str | None) -> None:
        task = self._load(task_id)
        if self.user.role not in DESK_ROLES:
            self._require_assignee(task, "上报升级")
        number = ESCALATION_LEVELS[level]
        if number <= task.escalation_level:
            raise Conflict(
                f"工单已在第 {task.escalation_level} 级, 只能向更高级别升级 "
                f"(already at level {task.escalation_level}; escalate upwards only)"
            )
        if level == "department" and not department:
            raise Unprocessable("升级到部门须指明部门 (department name required)")
        community = task.community
        recipients = self.conn.execute(
            _RECIPIENTS[level],
            {
                "grid_code": task.grid_code,
                "community_code": community,
                "street_code": f"{community[:9]}000" if community else None,
                "department": department,
            },
        ).fetchall()
        if not recipients:
            raise Unprocessable(
                f"{level} 级没有可通知的在岗人员 (nobody to notify at level {level}"
                + (f", department {department})" if department else ")")
            )
        worker_ids = [worker_id for worker_id, _ in recipients]
        self._move(
            task,
            "escalated",
            note,
            {"level": level, "department": department, "notified": worker_ids},
        )
        self.conn.execute("UPDATE task SET escalation_level = %s WHERE id = %s", (number, task.id))
        self._notify(task, [(w, r) for w, r in recipients], number)
        self._push(task, worker_ids, "escalated")

    def acknowledge(self, task_id: int, note: str | None) -> None:
        """报到: a notified worker (a department after 吹哨) confirms they have taken note."""
        task = self._load(task_id)
        if self.user.worker_id is None or not self._acknowledge_mine(task.id):
            raise Conflict("没有待确认的通知 (nothing to acknowledge for you on this task)")
        audit.record(self.conn, self.user.username, "acknowledge", "task", task.id, {"note": note})

    def _acknowledge_mine(self, task_id: int) -> int:
        return self.conn.execute(
            "UPDATE task_notification SET acknowledged_at = now() "
            "WHERE task_id = %s AND worker_id = %s AND acknowledged_at IS NULL",
            (task_id, self.user.worker_id),
        ).rowcount
