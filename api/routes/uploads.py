"""Resumable uploads over HTTP (the field app's photos); see api.resumable.

``POST /api/uploads`` {size} → {id, offset: 0}; ``PUT /api/uploads/{id}`` with the raw
bytes of one chunk and ``Upload-Offset: <n>``; ``HEAD``/``GET /api/uploads/{id}`` → the
offset to resume at (header ``Upload-Offset`` and JSON); ``POST /api/uploads/{id}/complete``
checks the photo. A report then names the upload (``POST /api/tasks/{id}/report``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import PayloadTooLarge
from api.responses import OrjsonResponse
from api.resumable import (
    OffsetMismatch,
    UploadState,
    complete_upload,
    create_upload,
    upload_state,
    write_chunk,
)

router = APIRouter(prefix="/api/uploads", tags=["uploads 续传上传"])


class UploadIn(BaseModel):
    size: int = Field(gt=0, description="bytes the whole file will have")


class UploadOut(BaseModel):
    id: str
    size: int
    offset: int = Field(description="bytes received so far: the next chunk starts here")
    complete: bool


def _answer(state: UploadState, status_code: int = 200) -> OrjsonResponse:
    return OrjsonResponse(
        state.as_dict(), status_code=status_code, headers={"Upload-Offset": str(state.offset)}
    )


def _mismatch(exc: OffsetMismatch) -> OrjsonResponse:
    return OrjsonResponse(
        {"detail": exc.message, "offset": exc.received},
        status_code=409,
        headers={"Upload-Offset": str(exc.received)},
    )


@router.post("", response_model=UploadOut, status_code=201)
def create(body: UploadIn, conn: Conn, user: CurrentUser, settings: AppSettings) -> OrjsonResponse:
    state = create_upload(
        conn,
        user,
        body.size,
        settings.field_upload_max_bytes,
        settings.upload_dir,
        timedelta(hours=settings.field_upload_expiry_hours),
    )
    return _answer(state, 201)


@router.head("/{upload_id}")
def offset_head(upload_id: str, conn: Conn, user: CurrentUser) -> Response:
    state = upload_state(conn, user, upload_id)
    return Response(headers={"Upload-Offset": str(state.offset), "Cache-Control": "no-store"})


@router.get("/{upload_id}", response_model=UploadOut)
def offset_get(upload_id: str, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    return _answer(upload_state(conn, user, upload_id))


@router.put(
    "/{upload_id}",
    response_model=UploadOut,
    responses={409: {"description": "wrong offset; `offset` says where to resume"}},
)
async def put_chunk(
    upload_id: str,
    request: Request,
    conn: Conn,
    user: CurrentUser,
    settings: AppSettings,
    upload_offset: Annotated[int, Header(ge=0, description="where this chunk starts")],
) -> OrjsonResponse:
    """One chunk, raw bytes (``application/offset+octet-stream`` or any type)."""
    chunk = await request.body()
    if len(chunk) > settings.field_upload_chunk_max_bytes:
        raise PayloadTooLarge(
            f"每块不超过 {settings.field_upload_chunk_max_bytes} 字节 "
            f"(chunks of at most {settings.field_upload_chunk_max_bytes} bytes)"
        )
    try:
        state = await run_in_threadpool(
            write_chunk, conn, user, upload_id, upload_offset, chunk, settings.upload_dir
        )
    except OffsetMismatch as exc:
        return _mismatch(exc)
    return _answer(state)


@router.post("/{upload_id}/complete", response_model=UploadOut)
def complete(
    upload_id: str, conn: Conn, user: CurrentUser, settings: AppSettings
) -> OrjsonResponse:
    try:
        state = complete_upload(
            conn,
            user,
            upload_id,
            settings.upload_dir,
            settings.field_upload_max_bytes,
            settings.api_upload_max_pixels,
        )
    except OffsetMismatch as exc:
        return _mismatch(exc)
    return _answer(state)
