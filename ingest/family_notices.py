"""Family notices, the one way to reach a resident's family: queued in the transaction
that opened the case, sent by the delivery sender through gis.channels.

The elderly watch's sweep (ingest/watch_job.py) and the rules' meter alarms of a resident
living alone (ingest/tasks.py) queue one ``watch_notice`` row per family contact of the
enrolled household and case (never twice: ``watch_notice_once``), each with its own "all
fine" link (a random token, stored hashed). This module claims the due rows as the ladder's deliveries are claimed (a lease under
FOR UPDATE SKIP LOCKED, then sending outside the transaction), sends each on the contact's
channel and records the receipt on the row. A contact's channel ``sms`` means the first
enabled channel of ``ladder_sms_channels`` (Aliyun or Tencent SMS). A notice whose case
has closed meanwhile (the resident showed life, the family answered) is cancelled, not sent.
A notice by SMS also says what the family may reply ("1": all fine, "外出 N": away N days;
gis.sms_replies, api/routes/sms_replies.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from gis.channels.base import DeliveryReceipt, Message
from gis.channels.limits import Dispatcher
from gis.settings import Settings
from gis.sms_replies import REPLY_HINT

CLAIM_LIMIT = 200

_CANCEL_CLOSED = """
UPDATE watch_notice n SET state = 'cancelled', error = '案件已关闭, 不再发送 (case closed)'
FROM incident i WHERE n.state = 'queued' AND i.id = n.incident_id AND i.status <> 'open'
"""

_CLAIM = """
UPDATE watch_notice n SET next_attempt_at = now() + %(lease)s * interval '1 second'
FROM (SELECT id FROM watch_notice WHERE state = 'queued' AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due
WHERE n.id = due.id
RETURNING n.id, n.channel, n.address, n.text, n.incident_id
"""


def fine_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/watch/fine/{token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def quiet_end(now: datetime, quiet: tuple[int | None, int | None], tz: ZoneInfo) -> datetime:
    """now, or the end of the household's quiet hours if now is inside them."""
    start, stop = quiet
    if start is None or stop is None or start == stop:
        return now
    local = now.astimezone(tz)
    inside = (start <= local.hour < stop) if start < stop else not (stop <= local.hour < start)
    if not inside:
        return now
    end = local.replace(hour=stop, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def queue_notices(
    conn: psycopg.Connection,
    incident_id: int,
    household_id: int,
    text: Callable[[str, str, str], str],
    settings: Settings,
) -> int:
    """One notice per family contact of the household for this case, held back in its
    quiet hours; ``text(contact name, household code, link)`` words it, and a notice by SMS
    adds what the family may reply (gis.sms_replies). Returns how many contacts there are
    (0: not enrolled or nobody to tell)."""
    contacts = conn.execute(
        "SELECT c.id, c.name, c.phone, c.channel, h.code, e.quiet_from, e.quiet_until "
        "FROM watch_contact c JOIN watch_enrolment e ON e.household_id = c.household_id "
        "JOIN household h ON h.id = c.household_id WHERE c.household_id = %s ORDER BY c.id",
        (household_id,),
    ).fetchall()
    now = datetime.now(UTC)
    tz = ZoneInfo(settings.local_timezone)
    sms = {"sms", *settings.ladder_sms_channels}
    for contact_id, name, phone, channel, code, quiet_from, quiet_until in contacts:
        token = secrets.token_urlsafe(24)
        words = text(name, code, fine_link(settings.api_public_url, token))
        conn.execute(
            "INSERT INTO watch_notice (incident_id, contact_id, channel, address, text, "
            "token_hash, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT ON CONSTRAINT watch_notice_once DO NOTHING",
            (
                incident_id,
                contact_id,
                channel,
                phone,
                f"{words} {REPLY_HINT}" if channel in sms else words,
                token_hash(token),
                quiet_end(now, (quiet_from, quiet_until), tz),
            ),
        )
    return len(contacts)


def channel_for(contact_channel: str, settings: Settings, enabled: set[str]) -> str | None:
    if contact_channel != "sms":
        return contact_channel if contact_channel in enabled else None
    return next((c for c in settings.ladder_sms_channels if c in enabled), None)


def send_notices(
    conn: psycopg.Connection, dispatchers: dict[str, Dispatcher], settings: Settings
) -> int:
    """Send what is due (autocommit connection); returns how many were sent."""
    with conn.transaction():
        conn.execute(_CANCEL_CLOSED)
        rows = conn.execute(
            _CLAIM, {"lease": settings.ladder_lease_s, "limit": CLAIM_LIMIT}
        ).fetchall()
    sent = 0
    for notice_id, contact_channel, address, text, incident_id in rows:
        channel = channel_for(contact_channel, settings, set(dispatchers))
        if channel is None:
            _record(conn, notice_id, "failed", None, f"渠道未配置 ({contact_channel})")
            continue
        message = Message(
            address=address,
            title="【网格关怀】家人情况提醒",
            text=text,
            params={"title": "家人情况提醒", "place": "", "task": str(incident_id)},
            refs=(f"watch_notice:{notice_id}",),
        )
        for _, receipt in dispatchers[channel].dispatch([message]):
            sent += _receipt(conn, notice_id, receipt)
    return sent


def _receipt(conn: psycopg.Connection, notice_id: int, receipt: DeliveryReceipt) -> int:
    if receipt.status == "sent":
        _record(conn, notice_id, "sent", receipt.provider_id, None, receipt.attempts)
        return 1
    if receipt.status == "rate_limited" or receipt.retryable:
        with conn.transaction():
            conn.execute(
                "UPDATE watch_notice SET attempts = attempts + %s, error = %s, "
                "next_attempt_at = greatest(now() + interval '30 seconds', "
                "to_timestamp(%s)) WHERE id = %s",
                (max(receipt.attempts, 1), receipt.error[:1000], receipt.retry_at or 0, notice_id),
            )
        return 0
    _record(conn, notice_id, "failed", None, receipt.error[:1000], receipt.attempts)
    return 0


def _record(
    conn: psycopg.Connection,
    notice_id: int,
    state: str,
    provider_id: str | None,
    error: str | None,
    attempts: int = 0,
) -> None:
    with conn.transaction():
        conn.execute(
            "UPDATE watch_notice SET state = %s, provider_id = %s, error = %s, "
            "attempts = attempts + %s, sent_at = CASE WHEN %s = 'sent' THEN now() END "
            "WHERE id = %s",
            (state, provider_id, error, attempts, state, notice_id),
        )
