"""A small in-process cache for the grid layer, the API's heaviest hot read.

A district view of 10k grids costs PostgreSQL ~100 ms to build; dozens of operators look
at the same view between two changes. Entries are stamped with a version that the live hub
bumps whenever a task changes (grid colours) or the grid table changes (migration 0001's
``wangge_grid_changed``), and expire after ``ttl_s`` anyway (a future-dated grid version
becoming valid sends no notification).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class _Entry:
    version: int
    stored_at: float
    body: bytes


class LayerCache:
    def __init__(self, max_entries: int = 64, ttl_s: float = 60.0):
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.version = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self.version += 1
            self._entries.clear()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != self.version or time.monotonic() - entry.stored_at > self.ttl_s:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.body

    def put(self, key: str, body: bytes, version: int) -> None:
        """Store what was computed from data as of ``version`` (read before the query), so
        a change that lands during the query is never hidden behind a fresh-looking entry."""
        with self._lock:
            if version != self.version:
                return
            self._entries[key] = _Entry(version, time.monotonic(), body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
