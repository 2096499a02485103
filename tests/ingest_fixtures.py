"""The ``setup`` fixture of the ingest tests: a seeded world, its broker, a run directory.

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ingest_world import (
    DEVICE_IDS,
    WORKER_IDS,
    World,
    encode,
    ingest_env,
    run_ingest,
    scalar,
    seed_world,
    topic,
)
from tests.mqtt_helpers import RunningBroker


@dataclass
class Setup:
    database_url: str
    broker: RunningBroker
    run_dir: Path
    world: World

    def env(self, **settings) -> dict:
        return ingest_env(self.database_url, self.broker, self.run_dir, **settings)

    def ingest(self, workers: int = 1, **settings):  # noqa: ANN201 - context manager
        return run_ingest(self.env(**settings), self.run_dir, workers)

    def scalar(self, sql: str, *params):  # noqa: ANN201 - any column type
        return scalar(self.database_url, sql, *params)

    def publish(self, device_id: str, message: dict | bytes, channel: str = "events") -> None:
        payload = message if isinstance(message, bytes) else encode(message)
        client = self._device(device_id)
        reason = client.publish(topic(device_id, channel), payload)
        assert reason is None or not reason.is_failure

    def _device(self, device_id: str):  # noqa: ANN202 - tests.mqtt_helpers.Client
        for client in self.broker.clients:
            if client.raw._client_id == device_id.encode():
                return client
        return self.broker.client(device_id)

    def listen(self, worker_id: str):  # noqa: ANN201 - tests.mqtt_helpers.Client
        client = self.broker.client(worker_id, clean_start=False, session_expiry_s=3600)
        client.subscribe(f"wangge/v1/workers/{worker_id}/tasks")
        return client


@pytest.fixture
def setup(database_url: str, broker_factory, tmp_path: Path) -> Setup:
    world = seed_world(database_url)
    running = broker_factory(DEVICE_IDS, WORKER_IDS)
    return Setup(database_url, running, tmp_path / "run", world)
