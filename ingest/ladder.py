"""The urgent ladder: which delivery is due for whom, written as delivery rows.

Per recipient of an urgent task (every task_notification row, from ingest or the API):
at once the instant channels (Web Push to the field app where it subscribed, WeCom/DingTalk;
the MQTT task push goes out through the outbox anyway); if the app has not reported it seen within ``ladder_sms_after_s``, SMS;
if nobody accepted within ``ladder_voice_after_s``, a voice call; and after
``ladder_escalate_after_s`` the task's next escalation is pulled forward to now, so
ingest.escalation notifies the next level — whose people then climb their own ladder.
Accepting the task (any state in STOPPED_STATES) or acknowledging one's notification
stops it, and cancels what is still queued.

The sweep only INSERTs rows (``delivery_once`` makes concurrent sweeps in several
processes harmless); sending is ingest.delivery_sender's job, after this commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from gis.settings import Settings
from ingest.escalation import STOPPED_STATES


@dataclass(frozen=True)
class Step:
    name: str
    channel: str
    after_s: float
    unless_seen: bool


def ladder_steps(settings: Settings, enabled: set[str]) -> list[Step]:
    """The configured steps over the channels that are enabled."""
    s = settings
    steps = [Step("instant", c, 0.0, False) for c in s.ladder_instant_channels]
    steps += [Step("sms", c, s.ladder_sms_after_s, True) for c in s.ladder_sms_channels]
    steps += [Step("voice", c, s.ladder_voice_after_s, False) for c in s.ladder_voice_channels]
    return [step for step in steps if step.channel in enabled]


_PUSH_SUBSCRIPTION = """(SELECT json_build_object('endpoint', p.endpoint,
        'keys', json_build_object('p256dh', p.p256dh, 'auth', p.auth))::text
    FROM push_subscription p WHERE p.worker_id = w.id ORDER BY p.created_at DESC LIMIT 1)"""
"""A worker's newest Web Push subscription (from the field app) as the channel's address."""


def forget_push_subscriptions(conn: psycopg.Connection, addresses: Iterable[str]) -> int:
    """Delete the subscriptions behind these web_push addresses (the push service said they
    are gone): the worker's next alert goes to an older one or, with none, to the other
    channels. Returns how many rows went."""
    endpoints = sorted({json.loads(address)["endpoint"] for address in addresses})
    return conn.execute(
        "DELETE FROM push_subscription WHERE endpoint = ANY(%s)", (endpoints,)
    ).rowcount


_ADDRESS = (
    "CASE WHEN s.channel = 'wecom_app' THEN w.id "
    f"WHEN s.channel = 'web_push' THEN {_PUSH_SUBSCRIPTION} ELSE nullif(w.phone, '') END"
)

_QUEUE_DUE = f"""
INSERT INTO delivery (task_id, worker_id, level, step, channel, address, state, error)
SELECT n.task_id, n.worker_id, n.level, s.step, s.channel, {_ADDRESS},
       CASE WHEN {_ADDRESS} IS NULL THEN 'failed' ELSE 'queued' END,
       CASE WHEN {_ADDRESS} IS NULL THEN '该人员没有手机号 (worker has no phone number)' END
FROM task_notification n
JOIN task t ON t.id = n.task_id
JOIN worker w ON w.id = n.worker_id
CROSS JOIN unnest(%(steps)s::text[], %(channels)s::text[], %(after)s::float8[],
                  %(unless_seen)s::bool[]) AS s(step, channel, after_s, unless_seen)
WHERE n.acknowledged_at IS NULL
  AND n.notified_at > now() - %(horizon)s * interval '1 second'
  AND n.notified_at <= now() - s.after_s * interval '1 second'
  AND NOT (s.unless_seen AND n.seen_at IS NOT NULL)
  AND t.urgency = 'urgent' AND t.state <> ALL(%(stopped)s)
  AND (s.channel <> 'web_push'  -- Web Push only for those whose app subscribed
       OR EXISTS (SELECT 1 FROM push_subscription p WHERE p.worker_id = n.worker_id))
  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.task_id = n.task_id
                  AND d.worker_id = n.worker_id AND d.level = n.level
                  AND d.step = s.step AND d.channel = s.channel)
ON CONFLICT ON CONSTRAINT delivery_once DO NOTHING
"""

_ESCALATE_NOW = """
UPDATE task t SET next_escalation_at = now(), updated_at = now()
WHERE t.next_escalation_at > now() AND t.urgency = 'urgent' AND t.state <> ALL(%(stopped)s)
  AND EXISTS (SELECT 1 FROM task_notification n WHERE n.task_id = t.id
              AND n.level = t.escalation_level AND n.acknowledged_at IS NULL
              AND n.notified_at > now() - %(horizon)s * interval '1 second'
              AND n.notified_at <= now() - %(after)s * interval '1 second')
"""

_CANCEL_STOPPED = """
UPDATE delivery d SET state = 'cancelled', error = '已签收, 不再发送 (accepted: not sent)'
FROM task t
WHERE d.state = 'queued' AND t.id = d.task_id AND t.state = ANY(%(stopped)s)
"""


def climb(conn: psycopg.Connection, settings: Settings, enabled: set[str]) -> int:
    """One sweep (commit is the caller's): queue what is due, cancel what an accept made
    pointless, pull escalations forward; returns how many deliveries were queued."""
    steps = ladder_steps(settings, enabled)
    horizon = settings.ladder_horizon_s
    conn.execute(_CANCEL_STOPPED, {"stopped": STOPPED_STATES})
    queued = 0
    if steps:
        queued = conn.execute(
            _QUEUE_DUE,
            {
                "steps": [s.name for s in steps],
                "channels": [s.channel for s in steps],
                "after": [s.after_s for s in steps],
                "unless_seen": [s.unless_seen for s in steps],
                "horizon": horizon,
                "stopped": STOPPED_STATES,
            },
        ).rowcount
    conn.execute(
        _ESCALATE_NOW,
        {"stopped": STOPPED_STATES, "horizon": horizon, "after": settings.ladder_escalate_after_s},
    )
    return queued
