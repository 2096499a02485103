"""Receipts from people on the urgent ladder's delivery rows (used by the API's seen and
accept moves; the ladder itself lives in ingest.ladder)."""

from __future__ import annotations

import psycopg


def mark_seen(conn: psycopg.Connection, task_id: int, worker_id: str) -> bool:
    """The worker's app showed the task: their notifications and sent deliveries are
    seen (which stops the ladder's SMS step). False if they were not notified."""
    seen = conn.execute(
        "UPDATE task_notification SET seen_at = coalesce(seen_at, now()) "
        "WHERE task_id = %s AND worker_id = %s",
        (task_id, worker_id),
    ).rowcount
    conn.execute(
        "UPDATE delivery SET state = 'seen', seen_at = now() "
        "WHERE task_id = %s AND worker_id = %s AND state = 'sent'",
        (task_id, worker_id),
    )
    return seen > 0


def mark_acknowledged(conn: psycopg.Connection, task_id: int, worker_id: str) -> None:
    """The worker accepted the task: their deliveries are acknowledged."""
    conn.execute(
        "UPDATE delivery SET state = 'acknowledged', acknowledged_at = now(), "
        "seen_at = coalesce(seen_at, now()) "
        "WHERE task_id = %s AND worker_id = %s AND state IN ('sent', 'seen')",
        (task_id, worker_id),
    )
