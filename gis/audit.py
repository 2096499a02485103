"""The audit log: every state change and every read of personal data — households,
residents, workers' contact details — (who, what, when).

The one writer of ``audit_log``, in gis so that the API and gis's own state changes (a
plan applied from the CLI) write the same rows."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str | int | None,
    detail: dict | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, subject_type, subject_id, detail) "
        "VALUES (%s, %s, %s, %s, %s)",
        (
            actor,
            action,
            subject_type,
            None if subject_id is None else str(subject_id),
            Jsonb(detail) if detail is not None else None,
        ),
    )


def record_reads(
    conn: psycopg.Connection,
    actor: str,
    subject_type: str,
    subject_ids: Sequence[int] | Sequence[str],
    detail: dict | None = None,
) -> None:
    """One ``read`` row per record returned, so "who has seen resident X" is one lookup."""
    if not subject_ids:
        return
    conn.execute(
        "INSERT INTO audit_log (actor, action, subject_type, subject_id, detail) "
        "SELECT %s, 'read', %s, id, %s FROM unnest(%s::text[]) AS id",
        (
            actor,
            subject_type,
            Jsonb(detail) if detail is not None else None,
            [str(subject_id) for subject_id in subject_ids],
        ),
    )
