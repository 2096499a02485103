"""Login sessions: opaque random bearer tokens of which only a SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import psycopg

from api.users import USER_COLUMNS, User

COOKIE_NAME = "wangge_token"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    conn: psycopg.Connection, user_id: int, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new token for ``user_id`` and when it expires. The token itself is not stored."""
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + lifetime
    conn.execute(
        "INSERT INTO app_session (token_sha256, user_id, expires_at) VALUES (%s, %s, %s)",
        (token_digest(token), user_id, expires_at),
    )
    return token, expires_at


def session_user(conn: psycopg.Connection, token: str) -> tuple[User, datetime] | None:
    """The active user a live token belongs to, with the token's expiry."""
    row = conn.execute(
        f"SELECT {USER_COLUMNS}, app_session.expires_at FROM app_session "
        "JOIN app_user ON app_user.id = app_session.user_id "
        "WHERE app_session.token_sha256 = %s AND app_session.expires_at > now() "
        "AND app_user.active",
        (token_digest(token),),
    ).fetchone()
    return (User(*row[:-1]), row[-1]) if row else None


def close_session(conn: psycopg.Connection, token: str) -> None:
    conn.execute("DELETE FROM app_session WHERE token_sha256 = %s", (token_digest(token),))


def close_user_sessions(conn: psycopg.Connection, username: str) -> int:
    """End every session of ``username`` (a lost phone's long-lived device session too)."""
    return conn.execute(
        "DELETE FROM app_session USING app_user WHERE app_user.id = app_session.user_id "
        "AND app_user.username = %s",
        (username,),
    ).rowcount


def purge_expired_sessions(conn: psycopg.Connection) -> int:
    return conn.execute("DELETE FROM app_session WHERE expires_at <= now()").rowcount
