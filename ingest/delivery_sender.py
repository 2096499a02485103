"""The delivery sender: claims due delivery rows, sends them through gis.channels, records
the receipts — outside any transaction that created a task.

A claim is a short transaction (FOR UPDATE SKIP LOCKED, so several processes never take
the same row) that only pushes the rows' next_attempt_at ``ladder_lease_s`` ahead; the
sending happens after it commits, and a process dying mid-send leaves the rows to be
claimed again when the lease runs out. Rows due together on one channel go through one
Dispatcher, which merges those for the same rate key (a robot, a phone) into one message
and holds what a limit forbids: such rows stay queued until the receipt's retry_at. A Web
Push subscription the push service reports gone (404/410) fails its row with that reason
and is deleted in the same transaction, so the worker's next alert skips it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

import psycopg

from gis.channels.base import Channel, DeliveryReceipt, Message
from gis.channels.limits import Dispatcher
from gis.db import connect
from gis.settings import Settings
from gis.workorders import task_links
from ingest.family_notices import send_notices
from ingest.ladder import climb, forget_push_subscriptions

log = logging.getLogger(__name__)

CLAIM_LIMIT = 200
ROUNDS = 3
"""A channel that failed only transiently (provider down) gets this many rounds of its
in-process retries, ROUND_PAUSE_S · round apart, before the row is failed."""
ROUND_PAUSE_S = 30.0

_CLAIM = """
UPDATE delivery d SET next_attempt_at = now() + %(lease)s * interval '1 second',
       first_attempt_at = coalesce(d.first_attempt_at, now())
FROM (SELECT id FROM delivery WHERE state = 'queued' AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due,
     task t
WHERE d.id = due.id AND t.id = d.task_id
RETURNING d.id, d.channel, d.address, d.level, t.id, t.title, t.description, t.grid_code,
          t.urgency
"""

URGENCY_ZH = {"urgent": "紧急", "normal": "一般"}


def message_for(row: tuple, public_url: str) -> Message:
    delivery_id, _, address, level, task_id, title, description, grid, urgency = row
    prefix = f"【{URGENCY_ZH.get(urgency, urgency)}】" + (f"(升级 {level} 级)" if level else "")
    return Message(
        address=address,
        title=f"{prefix}{title}",
        text=(description or title) + (f" 网格 {grid}" if grid else ""),
        url=task_links(public_url, task_id)["map"],
        params={"title": title, "place": grid or "", "task": str(task_id)},
        refs=(str(delivery_id),),
    )


class DeliverySender(threading.Thread):
    def __init__(self, settings: Settings, channels: dict[str, Channel]) -> None:
        super().__init__(name="delivery-sender", daemon=True)
        self.settings = settings
        self.dispatchers = {name: Dispatcher(channel) for name, channel in channels.items()}
        self.max_attempts = ROUNDS * settings.channel_retry_attempts
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                with connect(self.settings.database_url, autocommit=True) as conn:
                    while not self._halt.is_set():
                        self.sweep(conn)
                        self._halt.wait(self.settings.ladder_poll_s)
            except psycopg.OperationalError as error:
                log.warning("delivery sender: database unavailable (%s); retrying", error)
                self._halt.wait(1.0)
            except Exception:
                log.exception("delivery sender failed; restarting it")
                self._halt.wait(1.0)

    def sweep(self, conn: psycopg.Connection) -> int:
        """Climb the ladder, then send everything due (the elderly watch's family notices
        too); returns how many rows were sent."""
        with conn.transaction():
            climb(conn, self.settings, set(self.dispatchers))
        family = send_notices(conn, self.dispatchers, self.settings)
        with conn.transaction():
            rows = conn.execute(
                _CLAIM, {"lease": self.settings.ladder_lease_s, "limit": CLAIM_LIMIT}
            ).fetchall()
        by_channel: dict[str, list[Message]] = defaultdict(list)
        for row in rows:
            by_channel[row[1]].append(message_for(row, self.settings.api_public_url))
        sent = 0
        for channel, messages in by_channel.items():
            dispatcher = self.dispatchers.get(channel)
            if dispatcher is None:  # queued while it was configured, since switched off
                now = time.time()
                error = f"渠道未配置 (channel {channel} is not configured)"
                outcome = [
                    (
                        tuple(messages),
                        DeliveryReceipt("failed", error=error, started_at=now, finished_at=now),
                    )
                ]
            else:
                outcome = dispatcher.dispatch(messages)
            with conn.transaction():
                for group, receipt in outcome:
                    record(conn, [int(m.refs[0]) for m in group], receipt, self.max_attempts)
                    if receipt.address_gone and channel == "web_push":
                        forget_push_subscriptions(conn, [m.address for m in group])
                    sent += len(group) if receipt.status == "sent" else 0
        return sent + family


def record(
    conn: psycopg.Connection, ids: list[int], receipt: DeliveryReceipt, max_attempts: int
) -> None:
    """Write one receipt on the rows it covers (several when merged into one message)."""
    if receipt.status == "sent":
        conn.execute(
            "UPDATE delivery SET state = 'sent', provider_id = %s, sent_at = now(), "
            "attempts = attempts + %s, error = %s WHERE id = ANY(%s)",
            (
                receipt.provider_id,
                receipt.attempts,
                f"合并发送 {len(ids)} 条 (merged)" if len(ids) > 1 else None,
                ids,
            ),
        )
    elif receipt.status == "rate_limited":
        retry_at = datetime.fromtimestamp(receipt.retry_at or 0.0, UTC)
        conn.execute(
            "UPDATE delivery SET next_attempt_at = greatest(%s, now()), "
            "attempts = attempts + %s, error = %s WHERE id = ANY(%s)",
            (retry_at, receipt.attempts, receipt.error[:1000], ids),
        )
    else:
        conn.execute(
            "UPDATE delivery SET attempts = attempts + %(n)s, error = %(error)s, "
            "state = CASE WHEN %(retryable)s AND attempts + %(n)s < %(max)s "
            "THEN 'queued' ELSE 'failed' END, "
            "next_attempt_at = now() + %(pause)s * (attempts + %(n)s) / %(n)s * interval '1 second' "
            "WHERE id = ANY(%(ids)s)",
            {
                "n": max(receipt.attempts, 1),
                "error": receipt.error[:1000],
                "retryable": receipt.retryable,
                "max": max_attempts,
                "pause": ROUND_PAUSE_S,
                "ids": ids,
            },
        )
