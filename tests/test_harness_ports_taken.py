"""A server whose free port is taken before it binds starts on another port instead of
failing the test (tests/ports.py), and a real start failure is not retried."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gis.settings import Settings
from ingest import broker as broker_control
from ingest.broker import BrokerError
from tests import ports
from tests.mqtt_helpers import DEFAULT_DEVICES, DEFAULT_WORKERS


def _ports_handing_out_first(taken: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make ports.free_port answer ``taken`` first (the race, made certain), then real ones."""
    handed: list[int] = []
    real = ports.free_port

    def free_port() -> int:
        handed.append(taken if not handed else real())
        return handed[-1]

    monkeypatch.setattr(ports, "free_port", free_port)
    return handed


def test_mosquitto_on_a_port_taken_meanwhile_starts_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        handed = _ports_handing_out_first(taken, monkeypatch)
        started: list[Settings] = []

        def start(port: int) -> Settings:
            settings = Settings(run_dir=tmp_path / f"run{port}", mqtt_port=port)
            broker_control.write_config(settings, DEFAULT_DEVICES, DEFAULT_WORKERS)
            broker_control.start(settings)
            started.append(settings)
            return settings

        settings = ports.on_free_port(start)
        try:
            assert handed[0] == taken and settings.mqtt_port == handed[1] != taken
            with socket.create_connection(("127.0.0.1", settings.mqtt_port), timeout=5):
                pass
        finally:
            for running in started:
                broker_control.stop(running)


def test_a_failure_that_is_not_a_taken_port_is_raised_at_once() -> None:
    calls: list[int] = []

    def start(port: int) -> None:
        calls.append(port)
        raise BrokerError("mosquitto refused to start: Error: Unable to open config file")

    with pytest.raises(BrokerError, match="config file"):
        ports.on_free_port(start)
    assert len(calls) == 1
