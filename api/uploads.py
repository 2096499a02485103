"""Photos reported with a handled task: checked by size and by content, stored on disk.

A photo must be JPEG, PNG or WebP by its first bytes, not only by the type the client
claims; it is stored as ``<upload_dir>/tasks/<task_id>/<random>.<ext>`` and only that name
goes into the task's history.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from api.errors import PayloadTooLarge, Unprocessable, UnsupportedMedia

_CHUNK = 256 * 1024
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
PHOTO_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


@dataclass(frozen=True)
class Photo:
    data: bytes
    extension: str


def _sniff(data: bytes) -> tuple[str, str] | None:
    """(media type, extension) from the file's signature."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def read_photo(stream: BinaryIO, declared_type: str | None, max_bytes: int) -> Photo:
    """Read and check an uploaded photo; raises 413, 415 or 422 with a message. The content
    decides the type; a declared image type that contradicts it is refused too."""
    chunks, size = [], 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"照片超过 {max_bytes // (1024 * 1024)} MB 上限 (photo larger than {max_bytes} bytes)"
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise Unprocessable("照片为空 (the photo is empty)")
    sniffed = _sniff(data)
    if sniffed is None:
        raise UnsupportedMedia("照片须为 JPEG、PNG 或 WebP 格式 (photo must be JPEG, PNG or WebP)")
    media_type, extension = sniffed
    declared = _ALIASES.get(declared_type or "", declared_type or "")
    if declared.startswith("image/") and declared != media_type:
        raise UnsupportedMedia(
            f"照片内容为 {media_type}, 与声明的 {declared_type} 不符 "
            f"(content is {media_type}, declared {declared_type})"
        )
    return Photo(data, extension)


def photo_name(photo: Photo) -> str:
    """A fresh random file name: nothing of the client's file name reaches the disk."""
    return f"{uuid.uuid4().hex}.{photo.extension}"


def store_photo(upload_dir: Path, task_id: int, name: str, photo: Photo) -> Path:
    folder = upload_dir / "tasks" / str(task_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(photo.data)
    return path


def photo_path(upload_dir: Path, task_id: int, name: str) -> Path | None:
    """The file of a stored photo, or None for names that are not ours (no path tricks)."""
    if not PHOTO_NAME.match(name):
        return None
    path = upload_dir / "tasks" / str(task_id) / name
    return path if path.is_file() else None
