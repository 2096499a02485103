"""One ingest worker process: MQTT 5 shared subscription in, micro-batched transactions out.

Threads: paho's network thread queues every message; the batch thread (this module's
``run``) takes whatever is queued, up to ``ingest_batch_max`` — a lone fire alert is a
batch of one and never waits for company — writes it in one transaction, commits, and only
then acknowledges each message (manual PUBACK), so a crash means redelivery, never loss.
The outbox pusher sends what the commit queued; the timer thread escalates, sweeps the
elderly watch (ingest/watch_job.py), reloads the device registry and writes the metrics
file.

The client id (``<ingest_client_prefix>-<n>``) is stable and the session persistent
(Clean Start 0, long expiry): Mosquitto keeps a dead worker's unacknowledged messages in
its session until the same id reconnects, which the supervisor does within a second.

Only this batch thread calls the in-memory spatial join (GEOS prepared geometries are not
thread-safe); the elderly watch, in the timer thread, joins in PostGIS.
"""

from __future__ import annotations

import argparse
import gc
import logging
import queue
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gis.channels.registry import enabled_channels
from gis.contract import device_subscription
from gis.db import libpq_dsn
from gis.settings import Settings, get_settings, require_safe_secrets
from gis.spatial_join import GridIndexCache
from gis.work_calendar import CoverageWatch, load_work_calendar
from ingest.delivery_sender import DeliverySender
from ingest.escalation import escalate_due
from ingest.metrics import Metrics
from ingest.outbox import MqttPublisher, OutboxPusher, WebhookSender
from ingest.persist import DeadLetter, insert_dead_letters
from ingest.pipeline import BatchResult, Context, Received, process_batch
from ingest.registry import DeviceRegistry, HouseholdCodes
from ingest.watch.config import WatchConfig
from ingest.watch_job import run_sweeps

log = logging.getLogger(__name__)

TAKE_TIMEOUT_S = 0.2
RETRY_S = (0.2, 0.5, 1.0, 2.0)
"""Pauses between attempts at a batch while the database is unreachable."""


def freeze_long_lived() -> None:
    """Collect once, then move every object alive (modules, the grid index, the device
    registry) to the garbage collector's permanent generation, so that the full collections
    a batch's many short-lived objects trigger stop scanning them.

    Measured on the ingest benchmark's city and mix in one process: without it, 4 full
    collections per 50k messages took ~0.14 s each (a batch stalls that long, and ~20 % of
    the batch thread's CPU); frozen, the same collections took 20 ms in all. Called again after
    every registry reload: unfreezing first lets that one collection free what the previous
    registry or grid index left in cycles, so nothing leaks.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def client_id(settings: Settings, number: int) -> str:
    return f"{settings.ingest_client_prefix}-{number}"


def nodelay(client: mqtt.Client) -> None:
    """Send small packets (a fire alert's push, each PUBACK) at once: paho leaves Nagle's
    algorithm on, which with the peer's delayed ACK can hold them for 40 ms."""
    sock = client.socket()
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Worker:
    def __init__(self, settings: Settings, number: int) -> None:
        self.settings = settings
        self.client_id = client_id(settings, number)
        self.metrics = Metrics(self.client_id, settings.run_dir)
        self.ctx = Context(settings, DeviceRegistry(), HouseholdCodes())
        self.stopping = threading.Event()
        self.generation = 0
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._conn: psycopg.Connection | None = None
        self.client = self._mqtt_client()
        self.pusher = OutboxPusher(
            settings.database_url,
            MqttPublisher(self.client),
            {"webhook": WebhookSender()},
            settings.ingest_outbox_poll_s,
            on_sent=lambda n: self.metrics.add(Counter(pushed=n)),
        )
        self.timers = Timers(self)
        self.deliveries = delivery_sender(settings, number)
        self.cache: GridIndexCache

    # --- MQTT -------------------------------------------------------------------------

    def _mqtt_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.username_pw_set(
            self.settings.mqtt_ingest_username, self.settings.mqtt_ingest_password
        )
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        # Back within a quarter second of the broker: Mosquitto 2.0 does not restore shared
        # subscriptions after a restart, so until we subscribe again, devices' messages find
        # no subscriber (PUBACK 0x10) and are dropped. Devices wait >= 0.8 s (contract 5).
        client.reconnect_delay_set(min_delay=0.1, max_delay=0.25)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.ingest_session_expiry_s
        properties.ReceiveMaximum = self.settings.ingest_receive_maximum
        return properties

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            log.error("%s: broker refused the connection: %s", self.client_id, reason)
            return
        self.generation += 1
        nodelay(client)
        log.info("%s connected (session present: %s)", self.client_id, flags.session_present)
        client.subscribe(device_subscription(self.settings.ingest_share_group), qos=1)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        log.warning("%s disconnected: %s", self.client_id, reason)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.dup:  # the broker sends it again: an earlier delivery was not acknowledged
            self.metrics.add(Counter(redelivered=1))
        self._inbox.put(
            Received(message.topic, message.payload, message.mid, message.qos, self.generation)
        )

    # --- the batch loop ---------------------------------------------------------------

    def run(self) -> int:
        cache = self._grid_cache()
        if cache is None:
            return 0
        self.cache = cache
        freeze_long_lived()
        self.client.connect_async(
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        self.pusher.start()
        self.timers.start()
        if self.deliveries is not None:
            self.deliveries.start()
        try:
            while not self.stopping.is_set():
                batch = self._take()
                if batch:
                    self._handle(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self.pusher.stop()
            self.timers.stop()
            if self.deliveries is not None:
                self.deliveries.stop()
            cache.close()
            if self._conn is not None:
                self._conn.close()
            self.metrics.write()
        return 0

    def _grid_cache(self) -> GridIndexCache | None:
        """The in-memory grid index; waits for the database if it is not up yet."""
        while not self.stopping.is_set():
            try:
                return GridIndexCache(self.settings.database_url)
            except psycopg.OperationalError as error:
                log.warning("database unavailable at start (%s); waiting", error)
                self.stopping.wait(1.0)
        return None

    def _take(self) -> list[Received]:
        try:
            batch = [self._inbox.get(timeout=TAKE_TIMEOUT_S)]
        except queue.Empty:
            return []
        while len(batch) < self.settings.ingest_batch_max:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[Received]) -> Callable[[psycopg.Connection], BatchResult]:
        return lambda conn: process_batch(conn, batch, self.cache.index, self.ctx)

    def _handle(self, batch: list[Received]) -> None:
        started = time.perf_counter()
        result = self._commit(batch, self._process(batch))
        if result is None:
            return  # stopping before the database came back: nothing acknowledged
        generation = self.generation
        for message in batch:
            if message.qos and message.generation == generation:
                self.client.ack(message.mid, message.qos)
        self.pusher.hand_over(result.outbox_ids)
        self.metrics.add(result.counts)
        self.metrics.batch(len(batch), time.perf_counter() - started)

    def _commit(
        self, batch: list[Received], work: Callable[[psycopg.Connection], BatchResult]
    ) -> BatchResult | None:
        """Run ``work`` in one transaction until it commits. A lost database is waited
        for; any other error is narrowed down to the message causing it, which becomes a
        dead letter (``internal_error``) so the worker never stops on it."""
        for attempt in range(sys.maxsize):
            if self.stopping.is_set() and attempt:
                return None
            try:
                conn = self._connection()
                with conn.transaction():
                    return work(conn)
            except psycopg.OperationalError as error:
                self._drop_connection()
                pause = RETRY_S[min(attempt, len(RETRY_S) - 1)]
                log.warning(
                    "batch of %d not stored (%s); retry in %.1f s", len(batch), error, pause
                )
                self.stopping.wait(pause)
            except Exception:
                log.exception("batch of %d failed; isolating the message at fault", len(batch))
                return self._isolate(batch)
        return None

    def _isolate(self, batch: list[Received]) -> BatchResult | None:
        if len(batch) > 1:
            total = BatchResult()
            for message in batch:
                part = self._commit([message], self._process([message]))
                if part is None:
                    return None
                total.counts.update(part.counts)
                total.outbox_ids += part.outbox_ids
            return total
        message = batch[0]

        def bury(conn: psycopg.Connection) -> BatchResult:
            insert_dead_letters(
                conn,
                [
                    DeadLetter(
                        message.topic, message.payload, "internal_error", "see worker log", None
                    )
                ],
            )
            return BatchResult(Counter({"received": 1, "dead_letter:internal_error": 1}))

        return self._commit(batch, bury)

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(libpq_dsn(self.settings.database_url))
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def delivery_sender(settings: Settings, number: int) -> DeliverySender | None:
    """The urgent ladder's sender runs in worker 0 only, so that the providers' limits are
    counted in one process (the supervisor restarts it under the same number); none when
    the ladder is off or no channel is configured."""
    channels = enabled_channels(settings)
    if number != 0 or settings.ladder_poll_s <= 0 or not channels:
        return None
    return DeliverySender(settings, channels)


class Timers(threading.Thread):
    """Escalation, elderly watch, registry reload and metrics, each on its own period.

    A job runs in its own transaction and returns the outbox ids it queued, which go to
    the pusher once that transaction has committed; the elderly watch commits batch by
    batch itself.
    """

    def __init__(self, worker: Worker) -> None:
        super().__init__(name="ingest-timers", daemon=True)
        self.worker = worker
        settings = worker.settings
        self.jobs: list[tuple[float, Callable[[psycopg.Connection], list[int]]]] = [
            (settings.ingest_timers_poll_s, self._escalate),
            (settings.watch_sweep_interval_s, self._watch),
            (settings.ingest_registry_refresh_s, self._reload),
            (settings.ingest_metrics_interval_s, self._metrics),
        ]
        self.calendar = CoverageWatch(load_work_calendar(settings.work_calendar_path), log)
        self.watch_config = WatchConfig.from_settings(settings)
        self.watch_more = False
        """The last watch run stopped at its time slice: go on at the next tick."""
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        due = [0.0] * len(self.jobs)
        tick = min(period for period, _ in self.jobs)
        conn: psycopg.Connection | None = None
        while not self._halt.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(libpq_dsn(self.worker.settings.database_url))
                for i, (period, job) in enumerate(self.jobs):
                    if time.monotonic() >= due[i]:
                        if job == self._watch:
                            outbox = job(conn)
                        else:
                            with conn.transaction():
                                outbox = job(conn)
                        self.worker.pusher.hand_over(outbox)
                        again = job == self._watch and self.watch_more
                        due[i] = time.monotonic() + (tick if again else period)
            except psycopg.OperationalError as error:
                log.warning("timers: database unavailable (%s)", error)
                if conn is not None:
                    conn.close()
                conn = None
            except Exception:
                log.exception("timer job failed")
            self._halt.wait(tick)
        if conn is not None:
            conn.close()

    def _escalate(self, conn: psycopg.Connection) -> list[int]:
        outbox = escalate_due(conn, self.worker.settings)
        self.worker.metrics.add(Counter(escalation_pushes=len(outbox)))
        return outbox

    def _watch(self, conn: psycopg.Connection) -> list[int]:
        """Sweep due households batch by batch for at most ``watch_sweep_slice_s``, so that
        escalations in this thread never wait long; what is left goes on at the next tick."""
        settings = self.worker.settings
        counts = run_sweeps(conn, settings, self.watch_config, settings.watch_sweep_slice_s)
        self.watch_more = counts.more
        self.worker.metrics.add(
            Counter(
                watch_households=counts.households,
                watch_findings=counts.findings,
                watch_tasks=counts.tasks,
                watch_notices=counts.notices,
            )
        )
        return counts.outbox_ids or []

    def _reload(self, conn: psycopg.Connection) -> list[int]:
        self.worker.ctx.registry.reload(conn)
        self.worker.ctx.households.clear()
        freeze_long_lived()
        return []

    def _metrics(self, conn: psycopg.Connection) -> list[int]:
        self.calendar.check(datetime.now(UTC))
        snapshot = self.worker.metrics.write()
        log.info("%s: %s", self.worker.client_id, snapshot["counts"])
        return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one Wangge ingest worker process")
    parser.add_argument("--number", type=int, required=True, help="stable worker number")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = get_settings()
    require_safe_secrets(settings)
    worker = Worker(settings, args.number)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stopping.set())
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
