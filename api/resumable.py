"""Resumable uploads: create → PUT chunks at offsets → ask the offset → complete.

A phone on a rural link loses its connection mid-photo; instead of starting again it asks
how many bytes arrived (``HEAD``/``GET``) and sends the rest from there. A chunk must
start exactly at the bytes received so far (otherwise 409 with the right offset), so a
chunk sent twice can never be written twice. The bytes wait in
``<upload_dir>/partial/<id>``; a complete upload is checked as a photo by its content
(api.uploads) and waits in ``<upload_dir>/done/`` until a report attaches it, which moves
it to the task's photo folder under the name ``<id>.<ext>``.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from api.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from api.uploads import read_photo
from api.users import User


@dataclass(frozen=True)
class UploadState:
    id: str
    size: int
    offset: int
    complete: bool

    def as_dict(self) -> dict:
        return {"id": self.id, "size": self.size, "offset": self.offset, "complete": self.complete}


def _partial(upload_dir: Path, upload_id: str) -> Path:
    return upload_dir / "partial" / upload_id


def _done(upload_dir: Path, upload_id: str, extension: str) -> Path:
    return upload_dir / "done" / f"{upload_id}.{extension}"


def create_upload(
    conn: psycopg.Connection,
    user: User,
    size: int,
    max_bytes: int,
    upload_dir: Path,
    expiry: timedelta,
) -> UploadState:
    """A new upload; the user's abandoned ones (never attached, older than ``expiry``)
    are dropped first, with their files."""
    if size > max_bytes:
        raise PayloadTooLarge(
            f"上传超过 {max_bytes} 字节上限, 请先压缩照片 (upload larger than {max_bytes} bytes)"
        )
    for old_id, extension in conn.execute(
        "DELETE FROM upload WHERE user_id = %s AND task_id IS NULL AND created_at < now() - %s "
        "RETURNING id, extension",
        (user.id, expiry),
    ).fetchall():
        stale = _done(upload_dir, old_id, extension) if extension else _partial(upload_dir, old_id)
        stale.unlink(missing_ok=True)
    upload_id = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO upload (id, user_id, size) VALUES (%s, %s, %s)", (upload_id, user.id, size)
    )
    path = _partial(upload_dir, upload_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return UploadState(upload_id, size, 0, False)


def _locked(conn: psycopg.Connection, user: User, upload_id: str, lock: bool) -> tuple:
    row = conn.execute(
        "SELECT size, received, completed_at IS NOT NULL, extension FROM upload "
        f"WHERE id = %s AND user_id = %s{' FOR UPDATE' if lock else ''}",
        (upload_id, user.id),
    ).fetchone()
    if row is None:
        raise NotFound(f"上传 {upload_id} 不存在 (no such upload)")
    return row


def upload_state(conn: psycopg.Connection, user: User, upload_id: str) -> UploadState:
    size, received, complete, _ = _locked(conn, user, upload_id, lock=False)
    return UploadState(upload_id, size, received, complete)


def write_chunk(
    conn: psycopg.Connection,
    user: User,
    upload_id: str,
    offset: int,
    chunk: bytes,
    upload_dir: Path,
) -> UploadState:
    """Append ``chunk`` if it starts at the bytes received so far (row locked meanwhile).

    The file is written before the row is updated: a crash in between leaves the row at
    the old offset, and the resent chunk simply overwrites the same bytes.
    """
    size, received, complete, _ = _locked(conn, user, upload_id, lock=True)
    if complete:
        raise Conflict("上传已完成 (upload already complete)")
    if offset != received:
        raise OffsetMismatch(received)
    if offset + len(chunk) > size:
        raise Unprocessable(
            f"数据超出声明的大小 {size} 字节 (chunk goes past the declared size {size})"
        )
    with _partial(upload_dir, upload_id).open("r+b") as file:
        file.seek(offset)
        file.write(chunk)
        file.truncate()
    received = offset + len(chunk)
    conn.execute("UPDATE upload SET received = %s WHERE id = %s", (received, upload_id))
    return UploadState(upload_id, size, received, False)


class OffsetMismatch(Conflict):
    def __init__(self, received: int):
        super().__init__(f"应从第 {received} 字节续传 (resume at offset {received})")
        self.received = received


def complete_upload(
    conn: psycopg.Connection,
    user: User,
    upload_id: str,
    upload_dir: Path,
    max_bytes: int,
    max_pixels: int,
) -> UploadState:
    """Check the whole file as a photo and keep it, re-encoded (api.uploads.read_photo),
    for a report (again: no change)."""
    size, received, complete, _ = _locked(conn, user, upload_id, lock=True)
    if complete:
        return UploadState(upload_id, size, received, True)
    if received != size:
        raise OffsetMismatch(received)
    partial = _partial(upload_dir, upload_id)
    photo = read_photo(io.BytesIO(partial.read_bytes()), None, max_bytes, max_pixels)
    done = _done(upload_dir, upload_id, photo.extension)
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_bytes(photo.data)
    partial.unlink()
    conn.execute(
        "UPDATE upload SET completed_at = now(), extension = %s WHERE id = %s",
        (photo.extension, upload_id),
    )
    return UploadState(upload_id, size, received, True)


def attach_uploads(
    conn: psycopg.Connection, user: User, upload_ids: list[str], task_id: int
) -> list[str]:
    """Claim the user's complete, unattached uploads for ``task_id``: their photo names.
    Any id that is not such an upload refuses the whole report (422)."""
    if not upload_ids:
        return []
    if len(set(upload_ids)) != len(upload_ids):
        raise Unprocessable("同一上传只能附一次 (an upload is listed twice)")
    rows = conn.execute(
        "UPDATE upload SET task_id = %s WHERE id = ANY(%s) AND user_id = %s "
        "AND completed_at IS NOT NULL AND task_id IS NULL RETURNING id, extension",
        (task_id, upload_ids, user.id),
    ).fetchall()
    found = {upload_id: extension for upload_id, extension in rows}
    missing = [upload_id for upload_id in upload_ids if upload_id not in found]
    if missing:
        raise Unprocessable(
            f"上传未完成或不存在: {', '.join(missing)} (uploads not complete or unknown)"
        )
    return [f"{upload_id}.{found[upload_id]}" for upload_id in upload_ids]


def place_attached(upload_dir: Path, task_id: int, names: list[str]) -> None:
    """Move attached uploads into the task's photo folder (api.uploads.photo_path)."""
    folder = upload_dir / "tasks" / str(task_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (upload_dir / "done" / name).replace(folder / name)
