"""A small in-process cache for the grid layer, the API's heaviest hot read.

A district view of 10k grids costs PostgreSQL ~100 ms to build; dozens of operators look
at the same view between two changes. Entries are stamped with a version that the owner
bumps on a change (api.grid_layer: task changes for colours, the grid table's
``wangge_grid_changed`` for geometry), and expire after ``ttl_s`` anyway (a future-dated
grid version becoming valid sends no notification).

Misses are single-flight: when 50 operators open the map right after a change, the first
request builds the layer and the other 49 wait for its result instead of sending 49 more
identical queries. A ``LayerBody`` keeps a body gzipped too, so a popular layer is
compressed once, not once per request.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

GZIP_LEVEL = 6
"""zlib's default: ~5x smaller GeoJSON at a fraction of level 9's CPU time."""


@dataclass(frozen=True)
class LayerBody:
    raw: bytes
    gzipped: bytes

    @classmethod
    def of(cls, raw: bytes) -> LayerBody:
        return cls(raw, gzip.compress(raw, GZIP_LEVEL, mtime=0))


T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    version: int
    stored_at: float
    body: T


class LayerCache(Generic[T]):
    def __init__(self, max_entries: int = 64, ttl_s: float = 60.0):
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.version = 0
        self.builds = 0
        """How many times ``get`` ran a build (misses, less those that waited for one)."""
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._flights: dict[tuple[str, int], Future[T]] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.version += 1
            self._entries.clear()

    def _fresh(self, key: str) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.version != self.version or time.monotonic() - entry.stored_at > self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.body

    def get(self, key: str, build: Callable[[], T]) -> T:
        """The cached body of ``key``, else ``build()``'s — run once for all concurrent
        misses of ``key`` at the current version (the others wait for it)."""
        with self._lock:
            body = self._fresh(key)
            if body is not None:
                return body
            flight_key = (key, self.version)
            flight = self._flights.get(flight_key)
            leading = flight is None
            if leading:
                flight = self._flights[flight_key] = Future()
                self.builds += 1
        if not leading:
            return flight.result()
        try:
            body = build()
        except BaseException as exc:
            flight.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._flights[flight_key]
        flight.set_result(body)
        self._put(key, body, flight_key[1])
        return body

    def _put(self, key: str, body: T, version: int) -> None:
        """Store what was computed from data as of ``version`` (read before the query), so
        a change that lands during the query is never hidden behind a fresh-looking entry."""
        with self._lock:
            if version != self.version:
                return
            self._entries[key] = _Entry(version, time.monotonic(), body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
