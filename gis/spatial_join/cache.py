"""A GridIndex kept current by LISTEN/NOTIFY, for long-running processes (ingest, API)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import psycopg

from gis.db import libpq_dsn
from gis.spatial_join.grid_index import GridIndex

GRID_CHANGED_CHANNEL = "wangge_grid_changed"
"""The channel the grid table's statement trigger notifies on (migration 0001)."""
POLL_S = 0.25
"""How often the listener looks up from waiting, to notice close()."""
RETRY_S = 2.0
"""Pause after a database error before listening and reloading again."""

logger = logging.getLogger(__name__)


class GridIndexCache:
    """Holds the current GridIndex and replaces it after every change of the grid table.

    A background thread LISTENs on its own connection; a notification starts a rebuild
    after ``debounce_s`` more seconds of collecting notifications (a planner applying a new
    partition changes many rows in a burst). The new index is built and warmed aside, then
    swapped in atomically: readers never wait and never see a half-built index.
    Communities and districts are re-read with it (they do not notify by themselves).
    """

    def __init__(
        self, database_url: str, debounce_s: float = 0.2, lat0: float | None = None
    ) -> None:
        self._database_url = database_url
        self._debounce_s = debounce_s
        self._lat0 = lat0
        self._stop = threading.Event()
        self._generation = 0
        # Listen before the first load, so no change can slip in between.
        self._listener: psycopg.Connection | None = self._listen()
        try:
            self._index = self._load()
        except BaseException:
            self._listener.close()
            raise
        self._thread = threading.Thread(target=self._run, name="grid-index-cache", daemon=True)
        self._thread.start()

    @property
    def index(self) -> GridIndex:
        """The current index (take it once per batch: it may be replaced at any time)."""
        return self._index

    @property
    def generation(self) -> int:
        """How many times the index has been rebuilt since start."""
        return self._generation

    def close(self) -> None:
        """Stop listening and wait for the background thread."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> GridIndexCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _listen(self) -> psycopg.Connection:
        conn = psycopg.connect(libpq_dsn(self._database_url), autocommit=True)
        conn.execute(f"LISTEN {GRID_CHANGED_CHANNEL}")
        return conn

    def _load(self) -> GridIndex:
        index = GridIndex.load(self._database_url, self._lat0)
        index.warm(datetime.now(UTC))
        return index

    def _run(self) -> None:
        stale = False
        while not self._stop.is_set():
            try:
                if self._listener is None:
                    self._listener = self._listen()
                    stale = True  # changes may have been missed while disconnected
                if stale or self._changed(self._listener):
                    self._index = self._load()
                    self._generation += 1
                    stale = False
            except Exception:  # keep serving the old index; never let the listener die
                logger.exception("grid index refresh failed; retrying in %.1f s", RETRY_S)
                stale = True
                if self._listener is not None and self._listener.broken:
                    self._listener.close()
                    self._listener = None
                self._stop.wait(RETRY_S)
        if self._listener is not None:
            self._listener.close()

    def _changed(self, listener: psycopg.Connection) -> bool:
        """Wait up to POLL_S for a notification; after one, collect more for debounce_s."""
        if not list(listener.notifies(timeout=POLL_S, stop_after=1)):
            return False
        for _ in listener.notifies(timeout=self._debounce_s):
            pass
        return True
