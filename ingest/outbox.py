"""The outbox pusher: sends what committed transactions queued, then marks it sent.

Rows are claimed with FOR UPDATE SKIP LOCKED, so several pushers (every ingest worker has
one) never send the same row at once; a row is marked sent only after the channel took it
(MQTT: the broker's PUBACK). A crash between commit and push delays the push until some
pusher's next sweep, and one between push and mark sends it twice: receivers drop a
repeated ``message_id`` (contract section 12). The batch loop hands over the ids it just
committed, so a fire alert does not wait for the sweep; the sweep every
``ingest_outbox_poll_s`` picks up the rest (other processes' rows, the API's, retries).

Channels are pluggable: ``mqtt`` publishes to the worker's topic; ``webhook`` goes through
a Sender. Families are told through ingest.family_notices (gis.channels), not here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Protocol

import orjson
import paho.mqtt.client as mqtt
import psycopg

from gis.db import connect

log = logging.getLogger(__name__)

CLAIM_LIMIT = 500
MAX_ATTEMPTS = 10
"""A row that failed this often is left for an operator (last_error says why)."""
PUBACK_TIMEOUT_S = 5.0


class ChannelDown(RuntimeError):
    """The channel cannot take anything now (broker disconnected): retry later, no attempt."""


class Sender(Protocol):
    def send(self, target: str, payload: dict) -> None:
        """Deliver or raise."""


class WebhookSender:
    """POSTs {"to": target, **payload} as JSON to a gateway URL, or to the target itself
    when no URL is given (webhook channel)."""

    def __init__(self, url: str | None = None, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, target: str, payload: dict) -> None:
        url = self.url or target
        body = orjson.dumps({"to": target, **payload} if self.url else payload)
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            if response.status >= 300:
                raise RuntimeError(f"{url} answered {response.status}")


class MqttPublisher:
    """Publishes task messages with QoS 1 on an existing paho client."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client

    def publish_all(self, messages: list[tuple[str, dict]]) -> list[Exception | None]:
        """Publish every (topic, payload) and wait for the PUBACKs; per message None or why."""
        if not self.client.is_connected():
            raise ChannelDown("MQTT client not connected")
        infos = [
            self.client.publish(topic, orjson.dumps(payload), qos=1) for topic, payload in messages
        ]
        deadline = time.monotonic() + PUBACK_TIMEOUT_S
        outcome: list[Exception | None] = []
        for info in infos:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                outcome.append(None if info.is_published() else TimeoutError("no PUBACK"))
            except (RuntimeError, ValueError) as error:
                outcome.append(error)
        return outcome


class OutboxPusher(threading.Thread):
    def __init__(
        self,
        database_url: str,
        publisher: MqttPublisher,
        senders: dict[str, Sender],
        poll_s: float,
        on_sent: Callable[[int], None] = lambda n: None,
    ) -> None:
        super().__init__(name="outbox-pusher", daemon=True)
        self.database_url = database_url
        self.publisher = publisher
        self.senders = senders
        self.poll_s = poll_s
        self.on_sent = on_sent
        self._handed: queue.SimpleQueue[list[int]] = queue.SimpleQueue()
        self._halt = threading.Event()

    def hand_over(self, outbox_ids: list[int]) -> None:
        """Rows just committed: send them now rather than at the next sweep."""
        if outbox_ids:
            self._handed.put(outbox_ids)

    def stop(self) -> None:
        self._halt.set()
        self._handed.put([])
        self.join(10)

    def run(self) -> None:
        next_sweep = 0.0
        while not self._halt.is_set():
            try:
                with connect(self.database_url) as conn:
                    while not self._halt.is_set():
                        ids = self._take(max(0.0, next_sweep - time.monotonic()))
                        if ids:
                            self.push(conn, ids)
                        if time.monotonic() >= next_sweep:
                            while self.push(conn, None) == CLAIM_LIMIT:
                                pass
                            next_sweep = time.monotonic() + self.poll_s
            except psycopg.OperationalError as error:
                log.warning("outbox: database unavailable (%s); retrying", error)
                self._halt.wait(1.0)
            except ChannelDown:
                self._halt.wait(0.5)
            except Exception:
                log.exception("outbox pusher failed; restarting it")
                self._halt.wait(1.0)

    def _take(self, timeout_s: float) -> list[int]:
        ids: list[int] = []
        try:
            ids += (
                self._handed.get(timeout=timeout_s) if timeout_s > 0 else self._handed.get_nowait()
            )
            while True:
                ids += self._handed.get_nowait()
        except queue.Empty:
            pass
        return ids

    def push(self, conn: psycopg.Connection, ids: list[int] | None) -> int:
        """Claim and send the given rows (None: any unsent rows); returns how many claimed."""
        with conn.transaction():
            rows = conn.execute(
                "SELECT id, channel, target, payload FROM outbox WHERE sent_at IS NULL "
                "AND attempts < %s AND (%s::bigint[] IS NULL OR id = ANY(%s)) "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (MAX_ATTEMPTS, ids, ids, CLAIM_LIMIT),
            ).fetchall()
            if not rows:
                return 0
            outcome = self._send(rows)
            sent = [row[0] for row, error in zip(rows, outcome, strict=True) if error is None]
            failed = [(row[0], str(e)) for row, e in zip(rows, outcome, strict=True) if e]
            conn.execute(
                "UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY(%s)",
                (sent,),
            )
            for outbox_id, error in failed:
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = %s WHERE id = %s",
                    (error[:1000], outbox_id),
                )
        self.on_sent(len(sent))
        return len(rows)

    def _send(self, rows: list[tuple]) -> list[Exception | None]:
        outcome: list[Exception | None] = [None] * len(rows)
        mqtt_rows = [i for i, row in enumerate(rows) if row[1] == "mqtt"]
        if mqtt_rows:
            published = self.publisher.publish_all([(rows[i][2], rows[i][3]) for i in mqtt_rows])
            for i, error in zip(mqtt_rows, published, strict=True):
                outcome[i] = error
        for i, (_, channel, target, payload) in enumerate(rows):
            if channel == "mqtt":
                continue
            try:
                self.senders[channel].send(target, payload)
            except Exception as error:  # a gateway's failure is recorded on the row
                outcome[i] = error
        return outcome
