"""The live stream's source: ONE LISTEN connection per API process, fanned out to clients.

Triggers on task, incident and event (migration 0003) and on a device's online state
changing (migration 0005) ``pg_notify('wangge_live', json)`` at commit. The hub parses each notification once and offers it to every subscriber whose
filter lets it through; each subscriber has its own bounded queue, so one slow browser
cannot hold up the others (its queue overflows and its stream ends; EventSource then
reconnects and the page reloads its layers). After the LISTEN connection is lost and
re-established, every subscriber gets a ``resync`` message, since notifications sent in
between are gone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import orjson
import psycopg

from api.grid_layer import GridLayerCache
from api.users import User
from gis.db import libpq_dsn
from gis.spatial_join.cache import GRID_CHANGED_CHANNEL

LIVE_CHANNEL = "wangge_live"
QUEUE_SIZE = 1000
RECONNECT_DELAY_S = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveFilter:
    """Which live messages one viewer may receive, decided from the codes in the message."""

    everything: bool = False
    code_prefix: str | None = None
    grid_codes: frozenset[str] = frozenset()
    worker_id: str | None = None

    def allows(self, message: dict) -> bool:
        if self.everything or message.get("kind") == "resync":
            return True
        code = message.get("grid_code") or message.get("community_code")
        if self.code_prefix is not None:
            return code is not None and code.startswith(self.code_prefix)
        if message.get("grid_code") in self.grid_codes:
            return True
        return self.worker_id is not None and message.get("assignee_id") == self.worker_id


def live_filter(conn: psycopg.Connection, user: User) -> LiveFilter:
    """The same scope as the SQL queries (api.scope), for messages that carry only codes.
    Department staff are told through their own notifications, not the live map."""
    if user.role == "admin":
        return LiveFilter(everything=True)
    if user.role == "grid_worker":
        rows = conn.execute(
            "SELECT grid_code FROM grid_assignment WHERE worker_id = %s "
            "AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())",
            (user.worker_id,),
        ).fetchall()
        return LiveFilter(grid_codes=frozenset(r[0] for r in rows), worker_id=user.worker_id)
    if user.role in ("operator", "cadre", "planner") and user.scope_prefix:
        return LiveFilter(code_prefix=user.scope_prefix)
    return LiveFilter()


@dataclass(eq=False)
class Subscription:
    filter: LiveFilter
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


def messages_of(notification: dict) -> list[dict]:
    """A task notification also says what its grid now looks like: a separate ``grid``
    message, so a map can recolour the grid without knowing task rules."""
    messages = [notification]
    grid_state = notification.get("grid_state")
    if notification.get("kind") == "task" and grid_state:
        messages.append(
            {
                "kind": "grid",
                "grid_code": grid_state["code"],
                "community_code": notification.get("community_code"),
                "open_tasks": grid_state["open_tasks"],
                "urgent_tasks": grid_state["urgent_tasks"],
                "overdue_tasks": grid_state.get("overdue_tasks", 0),
                "state": "urgent"
                if grid_state["urgent_tasks"]
                else ("open" if grid_state["open_tasks"] else "ok"),
            }
        )
    return messages


class LiveHub:
    """Also keeps the grid-layer cache honest: task changes invalidate its counts, grid
    changes everything.

    Subscribers are indexed by what their filter lets through — grid workers by their
    grids and worker id, everyone else (operators, cadres: a code prefix) in one set — so
    a message is offered only to those who might take it, not to every subscriber (with
    hundreds of phones on the stream and a thousand device events a second, that was
    hundreds of thousands of filter checks a second)."""

    def __init__(self, database_url: str, layer_cache: GridLayerCache):
        self.database_url = database_url
        self.layer_cache = layer_cache
        self.subscribers: set[Subscription] = set()
        self._broad: set[Subscription] = set()
        self._by_grid: dict[str, set[Subscription]] = {}
        self._by_worker: dict[str, set[Subscription]] = {}
        self.listening = asyncio.Event()

    def _keys(self, live: LiveFilter) -> list[tuple[dict[str, set[Subscription]], str]]:
        keys = [(self._by_grid, code) for code in live.grid_codes]
        return keys + ([(self._by_worker, live.worker_id)] if live.worker_id else [])

    def subscribe(self, live: LiveFilter) -> Subscription:
        subscription = Subscription(live)
        self.subscribers.add(subscription)
        if live.everything or live.code_prefix is not None:
            self._broad.add(subscription)
        for index, key in self._keys(live):
            index.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)
        self._broad.discard(subscription)
        for index, key in self._keys(subscription.filter):
            index.get(key, set()).discard(subscription)
            if not index.get(key, True):
                del index[key]

    def _candidates(self, message: dict) -> set[Subscription]:
        if message.get("kind") == "resync":
            return set(self.subscribers)
        return (
            self._broad
            | self._by_grid.get(message.get("grid_code"), set())
            | self._by_worker.get(message.get("assignee_id"), set())
        )

    def publish(self, message: dict) -> None:
        for subscription in self._candidates(message):
            if subscription.overflowed or not subscription.filter.allows(message):
                continue
            try:
                subscription.queue.put_nowait(message)
            except asyncio.QueueFull:
                subscription.overflowed = True
                log.warning("live subscriber too slow: %d queued, dropping it", QUEUE_SIZE)

    def _received(self, channel: str, payload: str) -> None:
        if channel == GRID_CHANGED_CHANNEL:
            self.layer_cache.invalidate_grids()
            return
        notification = orjson.loads(payload)
        if notification.get("kind") == "task":
            self.layer_cache.invalidate()
        for message in messages_of(notification):
            self.publish(message)

    async def run(self) -> None:
        """LISTEN until cancelled, reconnecting after failures."""
        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    libpq_dsn(self.database_url), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {LIVE_CHANNEL}")
                    await conn.execute(f"LISTEN {GRID_CHANGED_CHANNEL}")
                    self.layer_cache.invalidate_grids()  # whatever happened meanwhile
                    self.listening.set()
                    if not first:
                        self.publish({"kind": "resync"})
                    first = False
                    async for notify in conn.notifies():
                        self._received(notify.channel, notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a lost connection must not end the stream
                log.exception("live LISTEN connection lost; reconnecting")
            self.listening.clear()
            await asyncio.sleep(RECONNECT_DELAY_S)
