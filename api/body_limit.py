"""Request-body size limits for every route, enforced on the bytes actually streamed.

A declared Content-Length over the limit is answered 413 before anything is read; a body
without one (chunked) or with a false one is counted as it arrives and cut off at the
limit with the same 413, so no route ever parses more than its limit. The photo upload
(``POST /api/tasks/{id}/handled``) has its own, larger limit plus room for the multipart
framing and the note; api.uploads then holds the photo itself to ``api_upload_max_bytes``.
"""

from __future__ import annotations

import re

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_PATH = re.compile(r"^/api/tasks/[0-9]+/handled$")
MULTIPART_ALLOWANCE = 64 * 1024
"""Bytes of an upload request beyond the photo: boundaries, part headers, the note."""


def _message(limit: int) -> str:
    return f"请求体超过 {limit} 字节上限 (request body larger than {limit} bytes)"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` past the limit: an HTTPException, so the route's body parsing
    lets it through and the app answers it as 413."""

    def __init__(self, limit: int):
        super().__init__(413, _message(limit))


class BodySizeLimit:
    """ASGI middleware: ``default_max`` bytes for any body, ``upload_max`` for uploads."""

    def __init__(self, app: ASGIApp, default_max: int, upload_max: int):
        self.app = app
        self.default_max = default_max
        self.upload_max = upload_max + MULTIPART_ALLOWANCE

    def limit_for(self, path: str) -> int:
        return self.upload_max if UPLOAD_PATH.match(path) else self.default_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = orjson.dumps({"detail": _message(limit)})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
