"""``wangge ingest``: N worker processes with stable numbers, a dead one restarted at once.

Worker n always connects as ``<ingest_client_prefix>-n``. Mosquitto 2.0 keeps the
unacknowledged messages of a dead shared-subscription member in its session (and keeps
dealing it new ones) until the same client id comes back, so the supervisor restarts a
dead worker under its number within about a second (RESTART_DELAY_S, POLL_S).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from gis.settings import Settings
from ingest.metrics import read_all

log = logging.getLogger(__name__)

POLL_S = 0.1
RESTART_DELAY_S = 0.3
"""A worker that dies at once on start (broken config) is not restarted in a tight loop
faster than this."""
STOP_TIMEOUT_S = 15.0


def worker_command(number: int) -> list[str]:
    return [sys.executable, "-m", "ingest.worker", "--number", str(number)]


@dataclass
class Slot:
    number: int
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0


class Supervisor:
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.slots = [Slot(n) for n in range(workers)]
        self.stopping = threading.Event()

    def _start(self, slot: Slot) -> None:
        slot.process = subprocess.Popen(worker_command(slot.number))
        slot.started_at = time.monotonic()
        log.info("ingest worker %d started (pid %d)", slot.number, slot.process.pid)

    def run(self) -> int:
        for slot in self.slots:
            self._start(slot)
        next_report = time.monotonic() + self.settings.ingest_metrics_interval_s
        while not self.stopping.wait(POLL_S):
            for slot in self.slots:
                code = slot.process.poll() if slot.process else 0
                if code is None:
                    continue
                if time.monotonic() - slot.started_at < RESTART_DELAY_S:
                    continue
                slot.restarts += 1
                log.warning(
                    "ingest worker %d exited with %s; restarting under the same client id",
                    slot.number,
                    code,
                )
                self._start(slot)
            if time.monotonic() >= next_report:
                self._report()
                next_report = time.monotonic() + self.settings.ingest_metrics_interval_s
        self._stop_all()
        return 0

    def _report(self) -> None:
        for snapshot in read_all(self.settings.run_dir):
            log.info("%s: %s", snapshot["client_id"], snapshot["counts"])

    def _stop_all(self) -> None:
        for slot in self.slots:
            if slot.process and slot.process.poll() is None:
                slot.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for slot in self.slots:
            if slot.process is None:
                continue
            try:
                slot.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("ingest worker %d did not stop; killing it", slot.number)
                slot.process.kill()
                slot.process.wait()


def run(settings: Settings, workers: int) -> int:
    supervisor = Supervisor(settings, workers)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: supervisor.stopping.set())
    return supervisor.run()
