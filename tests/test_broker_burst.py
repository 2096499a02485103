"""A burst for an offline subscriber with a persistent session survives in full.

Mosquitto's default max_queued_messages (1000) silently drops the rest of such a burst;
the broker config the project writes raises it. The first case shows the trap is real.
"""

from __future__ import annotations

import pytest

from tests.mqtt_helpers import RunningBroker

pytest_plugins = ["tests.mqtt_helpers"]

BURST = 5_000
TOPIC = "wangge/v1/devices/water-01/telemetry"


def _burst_reaches_offline_subscriber(running: RunningBroker, wait_s: float) -> set[int]:
    def ingest():
        return running.client(
            "wangge-ingest", "ingest-slow", clean_start=False, session_expiry_s=3600
        )

    subscriber = ingest()
    subscriber.subscribe("wangge/v1/devices/+/+")
    subscriber.close()  # offline; its session keeps the subscription

    reasons = running.client("water-01").publish_all(TOPIC, [b"%d" % i for i in range(BURST)])
    assert not any(r.is_failure for r in reasons)

    back = ingest()
    received = back.wait_for(BURST, timeout_s=wait_s)
    return {int(m.payload) for m in received}


def test_burst_is_kept_whole_for_offline_persistent_session(broker_factory) -> None:
    running = broker_factory()
    assert running.settings.mqtt_max_queued_messages >= BURST
    assert _burst_reaches_offline_subscriber(running, wait_s=30) == set(range(BURST))


def test_default_mosquitto_queue_limit_would_drop_the_burst(broker_factory, monkeypatch) -> None:
    monkeypatch.setenv("WANGGE_MQTT_MAX_QUEUED_MESSAGES", "1000")
    running = broker_factory()
    received = _burst_reaches_offline_subscriber(running, wait_s=3)
    assert len(received) < BURST
    assert len(received) == pytest.approx(1000, abs=150)
