"""Idempotency-Key on every state-changing request (POST, PUT, PATCH, DELETE).

A client (the field app's outbox) sends a key it made up with each action. The first
request with a key claims it — a row of ``idempotency_key`` inserted on the very
connection the route then uses, so the claim commits or rolls back with the action — and
its response (status, type, body) is stored. A retry with the same key and the same
request gets the stored response back without acting again (marked ``Idempotent-Replayed:
true``); the same key with a different request is refused with 422. A duplicate arriving
while the first is still running waits on the primary key's lock, then returns the first
one's response (or 409 with ``Retry-After`` if that takes too long): two copies never both
act. Keys are per user and expire after ``field_idempotency_hours``.

An action that fails with an error rolls its claim back with everything else, so its
retry runs afresh — it did nothing the first time. Requests without a logged-in user, and
routes that do not use the request's pooled connection (login), pass through unkeyed.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import orjson
import psycopg
from fastapi.concurrency import run_in_threadpool
from psycopg_pool import ConnectionPool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.sessions import COOKIE_NAME, session_user

HEADER = "idempotency-key"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_FORMAT = re.compile(r"^[A-Za-z0-9_.:-]{8,200}$")
CONN_STATE = "idempotency_conn"
"""Where the claimed connection waits in the request's state for api.deps.get_conn."""
USED_STATE = "idempotency_conn_used"
_DUPLICATE_WAIT_S = 5.0
_DUPLICATE_POLL_S = 0.05


class Claim(Enum):
    NEW = "new"
    STORED = "stored"
    MISMATCH = "mismatch"
    RUNNING = "running"
    GONE = "gone"
    """The row was there and is no more (it expired meanwhile): claim again."""


@dataclass(frozen=True)
class Stored:
    status: int
    media_type: str | None
    body: bytes


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What makes two requests "the same": method, path, query string and body bytes."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def claim(
    conn: psycopg.Connection, user_id: int, key: str, print_: str, lifetime: timedelta
) -> tuple[Claim, Stored | None]:
    """Claim ``key`` for ``user_id`` inside the connection's open transaction.

    A concurrent claim of the same key blocks on the primary key until this transaction
    ends; an expired key of the user is removed first, so it can be used again.
    """
    conn.execute(
        "DELETE FROM idempotency_key WHERE user_id = %s AND expires_at <= now()", (user_id,)
    )
    while True:
        inserted = conn.execute(
            "INSERT INTO idempotency_key (user_id, key, fingerprint, expires_at) "
            "VALUES (%s, %s, %s, now() + %s) ON CONFLICT DO NOTHING RETURNING 1",
            (user_id, key, print_, lifetime),
        ).fetchone()
        if inserted:
            return Claim.NEW, None
        outcome = _existing(conn, user_id, key, print_)
        if outcome[0] != Claim.GONE:
            return outcome


def _existing(
    conn: psycopg.Connection, user_id: int, key: str, print_: str
) -> tuple[Claim, Stored | None]:
    row = conn.execute(
        "SELECT fingerprint, response_status, response_type, response_body "
        "FROM idempotency_key WHERE user_id = %s AND key = %s",
        (user_id, key),
    ).fetchone()
    if row is None:
        return Claim.GONE, None
    if row[0] != print_:
        return Claim.MISMATCH, None
    if row[1] is None:
        return Claim.RUNNING, None
    return Claim.STORED, Stored(row[1], row[2], bytes(row[3] or b""))


def wait_for_first(
    conn: psycopg.Connection, user_id: int, key: str, print_: str, wait_s: float
) -> tuple[Claim, Stored | None]:
    """A duplicate of a request still running: poll for its stored response until
    ``wait_s`` has passed (each look is its own short transaction)."""
    deadline = time.monotonic() + wait_s
    while True:
        conn.rollback()
        outcome = _existing(conn, user_id, key, print_)
        if outcome[0] != Claim.RUNNING or time.monotonic() >= deadline:
            conn.rollback()
            return outcome
        time.sleep(_DUPLICATE_POLL_S)


def store(conn: psycopg.Connection, user_id: int, key: str, response: Stored) -> None:
    """Keep the response of a claimed key; nothing if the claim was rolled back."""
    conn.execute(
        "UPDATE idempotency_key SET response_status = %s, response_type = %s, "
        "response_body = %s WHERE user_id = %s AND key = %s AND response_status IS NULL",
        (response.status, response.media_type, response.body, user_id, key),
    )
    conn.commit()


def purge_expired_keys(conn: psycopg.Connection) -> int:
    """Drop every user's expired keys (index ``idempotency_key_expires``); each claim also
    drops its own user's."""
    return conn.execute("DELETE FROM idempotency_key WHERE expires_at <= now()").rowcount


def _json(status: int, detail: str) -> Stored:
    return Stored(status, "application/json", orjson.dumps({"detail": detail}))


async def _send_stored(send: Send, response: Stored, headers: list[tuple[bytes, bytes]]) -> None:
    raw = list(headers)
    if response.media_type:
        raw.append((b"content-type", response.media_type.encode()))
    raw.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": raw})
    await send({"type": "http.response.body", "body": response.body})


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(COOKIE_NAME)


def _user_id(pool: ConnectionPool, token: str | None) -> int | None:
    if not token:
        return None
    with pool.connection() as conn:
        found = session_user(conn, token)
    return found[0].id if found else None


class IdempotencyMiddleware:
    """Pure ASGI middleware (the body is read once, then replayed to the route)."""

    def __init__(self, app: ASGIApp, lifetime: timedelta):
        self.app = app
        self.lifetime = lifetime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_FORMAT.match(key):
            await _send_stored(
                send,
                _json(
                    400,
                    "Idempotency-Key 须为 8–200 个字母、数字或 _.:- "
                    "(Idempotency-Key must be 8-200 letters, digits or _.:-)",
                ),
                [],
            )
            return
        body = await request.body()
        replay = _replayer(body)
        pool: ConnectionPool = scope["app"].state.pool
        user_id = await run_in_threadpool(_user_id, pool, _token(request))
        if user_id is None:  # the route answers 401 (or is public): nothing to key
            await self.app(scope, replay, send)
            return
        print_ = fingerprint(scope["method"], scope["path"], request.url.query, body)
        conn = await run_in_threadpool(pool.getconn)
        try:
            await self._keyed(scope, replay, send, conn, user_id, key, print_)
        finally:
            await run_in_threadpool(_release, pool, conn)

    async def _keyed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        conn: psycopg.Connection,
        user_id: int,
        key: str,
        print_: str,
    ) -> None:
        outcome, stored = await run_in_threadpool(claim, conn, user_id, key, print_, self.lifetime)
        if outcome == Claim.RUNNING:
            outcome, stored = await run_in_threadpool(
                wait_for_first, conn, user_id, key, print_, _DUPLICATE_WAIT_S
            )
        if outcome == Claim.GONE:
            outcome, stored = await run_in_threadpool(
                claim, conn, user_id, key, print_, self.lifetime
            )
        if outcome == Claim.STORED and stored is not None:
            await run_in_threadpool(conn.rollback)
            await _send_stored(send, stored, [(b"idempotent-replayed", b"true")])
            return
        if outcome == Claim.MISMATCH:
            await run_in_threadpool(conn.rollback)
            await _send_stored(
                send,
                _json(
                    422,
                    "该 Idempotency-Key 已用于另一个请求 "
                    "(this Idempotency-Key was used for a different request)",
                ),
                [],
            )
            return
        if outcome == Claim.RUNNING:
            await _send_stored(
                send,
                _json(409, "同一请求仍在处理中, 请稍后重试 (the same request is still running)"),
                [(b"retry-after", b"1")],
            )
            return
        state = scope.setdefault("state", {})
        state[CONN_STATE] = conn
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        if state.get(USED_STATE):
            await run_in_threadpool(store, conn, user_id, key, captured.stored())
        else:  # the route kept to its own connection: the claim means nothing
            await run_in_threadpool(conn.rollback)
        await captured.forward(send)


def claimed_connection(request: Request) -> psycopg.Connection | None:
    """The connection this request's key was claimed on (api.deps.get_conn uses it, so
    the claim commits with the action), or None."""
    conn = getattr(request.state, CONN_STATE, None)
    if conn is not None:
        setattr(request.state, USED_STATE, True)
    return conn


def _release(pool: ConnectionPool, conn: psycopg.Connection) -> None:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    pool.putconn(conn)


def _replayer(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class _Captured:
    """The route's response, held until it is stored, then sent on unchanged."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    def stored(self) -> Stored:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        media_type = None
        for name, value in start.get("headers", []):
            if name.lower() == b"content-type":
                media_type = value.decode("latin-1")
        body = b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )
        return Stored(start["status"], media_type, body)

    async def forward(self, send: Send) -> None:
        for message in self.messages:
            await send(message)
