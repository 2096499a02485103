"""Counters of one ingest worker, logged periodically and written to a small JSON file
(``<run_dir>/ingest/<client id>.json``) that the supervisor and the API can read."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path

import orjson

log = logging.getLogger(__name__)


def metrics_dir(run_dir: Path) -> Path:
    return run_dir / "ingest"


class Metrics:
    def __init__(self, client_id: str, run_dir: Path) -> None:
        self.client_id = client_id
        self.path = metrics_dir(run_dir) / f"{client_id}.json"
        self.counts: Counter = Counter()
        self.started = time.time()
        self._batch_ms_total = 0.0
        self._batch_ms_max = 0.0
        self._lock = threading.Lock()

    def add(self, counts: Counter) -> None:
        with self._lock:
            self.counts.update(counts)

    def batch(self, size: int, elapsed_s: float) -> None:
        with self._lock:
            self.counts["batches"] += 1
            self.counts["batched_messages"] += size
            self._batch_ms_total += elapsed_s * 1000
            self._batch_ms_max = max(self._batch_ms_max, elapsed_s * 1000)

    def snapshot(self) -> dict:
        with self._lock:
            batches = self.counts["batches"]
            dead = {
                k.split(":", 1)[1]: v
                for k, v in self.counts.items()
                if k.startswith("dead_letter:")
            }
            return {
                "client_id": self.client_id,
                "updated_at": time.time(),
                "uptime_s": round(time.time() - self.started, 1),
                "counts": {k: v for k, v in self.counts.items() if ":" not in k},
                "dead_lettered": dead,
                "batch_ms_avg": round(self._batch_ms_total / batches, 2) if batches else None,
                "batch_ms_max": round(self._batch_ms_max, 2),
            }

    def write(self) -> dict:
        snapshot = self.snapshot()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_bytes(orjson.dumps(snapshot, option=orjson.OPT_INDENT_2))
        partial.replace(self.path)
        return snapshot


def read_all(run_dir: Path) -> list[dict]:
    """Every worker's last written metrics."""
    return [orjson.loads(p.read_bytes()) for p in sorted(metrics_dir(run_dir).glob("*.json"))]
