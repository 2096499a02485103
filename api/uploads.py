"""Photos reported with a handled task: checked by size and by content, re-encoded, stored.

A photo must be JPEG, PNG or WebP by its first bytes, not only by the type the client
claims, and must then decode as that image with Pillow, within ``max_pixels`` (a small
file can declare a gigapixel image: a decompression bomb). Only the decoded pixels are
kept: re-encoded as JPEG (or PNG where the source is PNG or has transparency), turned
upright by its EXIF orientation, and with every other metadata (GPS position, camera,
comments — or whatever bytes were smuggled after the image) left behind. It is stored as
``<upload_dir>/tasks/<task_id>/<random>.<ext>`` and only that name goes into the task's
history.
"""

from __future__ import annotations

import io
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.JpegImagePlugin import get_sampling

from api.errors import PayloadTooLarge, Unprocessable, UnsupportedMedia

_CHUNK = 256 * 1024
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}
_PILLOW_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
JPEG_QUALITY = 88
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


def read_photo(
    stream: BinaryIO, declared_type: str | None, max_bytes: int, max_pixels: int
) -> Photo:
    """Read, check and re-encode an uploaded photo; raises 413, 415 or 422 with a message.
    The content decides the type; a declared image type that contradicts it is refused."""
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
    return reencode(data, _PILLOW_FORMAT[media_type], max_pixels)


def _undecodable() -> Unprocessable:
    return Unprocessable("照片无法解码, 不是有效图片 (the photo does not decode as an image)")


def reencode(data: bytes, pillow_format: str, max_pixels: int) -> Photo:
    """The pixels of ``data`` (which must decode as ``pillow_format``) in a fresh file."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PayloadTooLarge(
                        f"照片 {width}×{height} 像素超过上限 {max_pixels} "
                        f"(photo of {width}x{height} pixels, more than {max_pixels})"
                    )
                image.load()
                # A JPEG keeps its own quantisation and subsampling: re-encoding it at a
                # fixed quality would make a phone's shrunk photo larger again.
                jpeg = (
                    {"qtables": image.quantization, "subsampling": get_sampling(image)}
                    if pillow_format == "JPEG"
                    else {"quality": JPEG_QUALITY}
                )
                upright = ImageOps.exif_transpose(image)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise _undecodable() from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PayloadTooLarge(f"照片像素过多 (photo has too many pixels: {exc})") from exc
    transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    # Pixels only: a new image has no info (comments, ICC, EXIF) for save() to carry over.
    pixels = upright.convert("RGBA" if transparent else "RGB")
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if pillow_format == "PNG" or transparent:
        clean.save(out, format="PNG", optimize=True)
        return Photo(out.getvalue(), "png")
    clean.save(out, format="JPEG", optimize=True, **jpeg)
    return Photo(out.getvalue(), "jpg")


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
