"""Reading work orders: the filtered list, the overdue list, one task, its photos."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import NotFound
from api.pages import Paging
from api.responses import OrjsonResponse
from api.schemas import Page, TaskDetail, TaskOut
from api.scope import Where
from api.task_queries import Filters, get_task, list_tasks, task_detail, task_photo_names
from api.uploads import photo_path

router = APIRouter(prefix="/api/tasks", tags=["tasks 工单"])


@router.get("", response_model=Page[TaskOut])
def tasks(conn: Conn, user: CurrentUser, filters: Filters, page: Paging) -> OrjsonResponse:
    """Tasks in the user's scope, newest first."""
    order = "task.created_at DESC, task.id DESC"
    return OrjsonResponse(list_tasks(conn, user, filters.where(), order, page))


@router.get("/overdue", response_model=Page[TaskOut])
def overdue_tasks(conn: Conn, user: CurrentUser, page: Paging) -> OrjsonResponse:
    """超期工单: open tasks past their deadline, the longest overdue first."""
    where = Where().add("task.due_at < now() AND task.state = ANY(%(open_states)s)")
    return OrjsonResponse(list_tasks(conn, user, where, "task.due_at, task.id", page))


@router.get("/{task_id}", response_model=TaskDetail)
def task(task_id: int, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    detail = task_detail(conn, user, task_id)
    if detail is None:
        raise NotFound(f"工单 {task_id} 不存在或无权查看 (task not found)")
    return OrjsonResponse(detail)


@router.get("/{task_id}/photos/{name}", response_class=FileResponse)
def task_photo(
    task_id: int, name: str, conn: Conn, user: CurrentUser, settings: AppSettings
) -> FileResponse:
    """A photo reported with the task (only for those who may see the task)."""
    path = photo_path(settings.upload_dir, task_id, name)
    visible = get_task(conn, user, task_id) is not None
    if path is None or not visible or name not in task_photo_names(conn, task_id):
        raise NotFound("照片不存在 (photo not found)")
    return FileResponse(path)
