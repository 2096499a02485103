"""The work-order loop over HTTP: POST /api/tasks/{id}/<action>.

Each call is one transaction, committed before the answer, so the live stream has told
the map by the time the client reads the response. An illegal move answers 409 with the
state machine's reason; a move the user may not make answers 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from api.actions import TaskActions
from api.deps import AppLayerCache, AppSettings, Conn, CurrentUser
from api.responses import OrjsonResponse
from api.schemas import (
    DispatchIn,
    DuplicateIn,
    EscalateIn,
    EvaluateIn,
    NoteIn,
    RequiredNoteIn,
    TaskDetail,
)
from api.task_queries import task_detail
from api.uploads import read_photo
from api.watch_outcomes import WatchOutcome, record_visit_outcome
from gis.work_calendar import load_work_calendar

router = APIRouter(prefix="/api/tasks", tags=["workflow 工单流转"])

_REFUSALS = {
    403: {"description": "not allowed for this user (Chinese message first)"},
    404: {"description": "no such task in the user's scope"},
    409: {"description": "illegal transition; `detail` gives the reason"},
}
ACTION = {"response_model": TaskDetail, "responses": _REFUSALS}


class RequestActions(TaskActions):
    """TaskActions of this request, which also knows the grid-layer cache to invalidate."""

    def __init__(self, conn: Conn, user: CurrentUser, settings: AppSettings, cache: AppLayerCache):
        calendar = load_work_calendar(settings.work_calendar_path)
        super().__init__(conn, user, settings.api_public_url, calendar)
        self.layer_cache = cache


Actions = Annotated[RequestActions, Depends(RequestActions)]


def _answer(actions: RequestActions, task_id: int) -> OrjsonResponse:
    conn = actions.conn
    conn.commit()
    # Our own change shows on the next grid request, before its NOTIFY comes back round.
    actions.layer_cache.invalidate()
    detail = task_detail(conn, actions.user, task_id)
    # A move can take a task out of the user's view (e.g. returning it): say where it went.
    if detail is None:
        state = conn.execute("SELECT state FROM task WHERE id = %s", (task_id,)).fetchone()[0]
        return OrjsonResponse({"id": task_id, "state": state})
    return OrjsonResponse(detail)


@router.post("/{task_id}/file", **ACTION)
def file_task(task_id: int, actions: Actions, body: NoteIn | None = None) -> OrjsonResponse:
    """立案 (desk)."""
    actions.file(task_id, body.note if body else None)
    return _answer(actions, task_id)


@router.post("/{task_id}/dispatch", **ACTION)
def dispatch(task_id: int, body: DispatchIn, actions: Actions) -> OrjsonResponse:
    """派单 to a worker of the user's area (desk); the worker gets an MQTT push. A worker
    outside the task's street needs ``outside_area_reason`` (admin only; audited)."""
    actions.dispatch(task_id, body.worker_id, body.note, body.outside_area_reason)
    return _answer(actions, task_id)


@router.post("/{task_id}/accept", **ACTION)
def accept(task_id: int, actions: Actions, body: NoteIn | None = None) -> OrjsonResponse:
    """签收 (the assignee, or a worker notified by an escalation)."""
    actions.accept(task_id, body.note if body else None)
    return _answer(actions, task_id)


@router.post("/{task_id}/seen", **ACTION)
def seen(task_id: int, actions: Actions) -> OrjsonResponse:
    """已读: the app's receipt that a notified worker saw the task (stops the urgent
    ladder's SMS step for them; accepting stops the rest)."""
    actions.seen(task_id)
    return _answer(actions, task_id)


@router.post("/{task_id}/start", **ACTION)
def start(task_id: int, actions: Actions, body: NoteIn | None = None) -> OrjsonResponse:
    """开始办理 (the assignee)."""
    actions.start(task_id, body.note if body else None)
    return _answer(actions, task_id)


@router.post("/{task_id}/handled", **ACTION)
def report_handled(
    task_id: int,
    note: Annotated[str, Form(min_length=1, max_length=2000, description="处置情况")],
    actions: Actions,
    settings: AppSettings,
    photo: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")] = None,
) -> OrjsonResponse:
    """处置反馈 (the assignee): multipart form with a note and an optional photo, which is
    decoded and stored re-encoded as JPEG or PNG without its metadata."""
    checked = (
        read_photo(
            photo.file,
            photo.content_type,
            settings.api_upload_max_bytes,
            settings.api_upload_max_pixels,
        )
        if photo is not None
        else None
    )
    actions.report_handled(task_id, note, checked, settings.upload_dir)
    return _answer(actions, task_id)


class ReportIn(RequiredNoteIn):
    upload_ids: list[str] = Field(
        default=[], max_length=9, description="complete uploads (POST /api/uploads) to attach"
    )
    watch_outcome: WatchOutcome | None = Field(
        default=None,
        description="elderly-watch visit: all_well / needed_help / away / device_fault",
    )
    away_until: datetime | None = Field(
        default=None, description="with watch_outcome away: until when (time zone required)"
    )


@router.post("/{task_id}/report", **ACTION)
def report(task_id: int, body: ReportIn, actions: Actions, settings: AppSettings) -> OrjsonResponse:
    """处置反馈 as JSON, its photos sent beforehand as resumable uploads (the field app).
    On an elderly-watch visit task, ``watch_outcome`` tells the detector what was found."""
    actions.report_with_uploads(task_id, body.note, body.upload_ids, settings.upload_dir)
    if body.watch_outcome is not None:
        record_visit_outcome(
            actions.conn, actions.user, task_id, body.watch_outcome, body.away_until
        )
    return _answer(actions, task_id)


class PhotosIn(BaseModel):
    upload_ids: list[str] = Field(
        min_length=1, max_length=9, description="complete uploads (POST /api/uploads) to attach"
    )


@router.post("/{task_id}/photos", **ACTION)
def photos(task_id: int, body: PhotosIn, actions: Actions, settings: AppSettings) -> OrjsonResponse:
    """补传照片: photos following my report (sent as text first), attached to my latest
    处置反馈 — no state change; 409 before I reported the task handled."""
    actions.attach_photos(task_id, body.upload_ids, settings.upload_dir)
    return _answer(actions, task_id)


@router.post("/{task_id}/evaluate", **ACTION)
def evaluate(task_id: int, body: EvaluateIn, actions: Actions) -> OrjsonResponse:
    """回访评价 (desk): satisfied → 结案; unsatisfied → 二次办理. Nobody who accepted,
    worked on or handled the task may evaluate it (403)."""
    actions.evaluate(task_id, body.satisfied, body.note)
    return _answer(actions, task_id)


@router.post("/{task_id}/return", **ACTION)
def return_task(task_id: int, body: RequiredNoteIn, actions: Actions) -> OrjsonResponse:
    """退单 (the assignee): not ours; the note says why."""
    actions.return_to_dispatcher(task_id, body.note)
    return _answer(actions, task_id)


@router.post("/{task_id}/escalate", **ACTION)
def escalate(task_id: int, body: EscalateIn, actions: Actions) -> OrjsonResponse:
    """吹哨: escalate to the grid head, community, street or a department, who are notified
    and must acknowledge."""
    actions.escalate(task_id, body.level, body.department, body.note)
    return _answer(actions, task_id)


@router.post("/{task_id}/acknowledge", **ACTION)
def acknowledge(task_id: int, actions: Actions, body: NoteIn | None = None) -> OrjsonResponse:
    """报到: a notified worker (department) confirms the escalation."""
    actions.acknowledge(task_id, body.note if body else None)
    return _answer(actions, task_id)


@router.post("/{task_id}/invalid", **ACTION)
def mark_invalid(task_id: int, body: RequiredNoteIn, actions: Actions) -> OrjsonResponse:
    """无效 (desk)."""
    actions.mark_invalid(task_id, body.note)
    return _answer(actions, task_id)


@router.post("/{task_id}/duplicate", **ACTION)
def mark_duplicate(task_id: int, body: DuplicateIn, actions: Actions) -> OrjsonResponse:
    """重复 of another task the user can see (desk)."""
    actions.mark_duplicate(task_id, body.duplicate_of, body.note)
    return _answer(actions, task_id)
