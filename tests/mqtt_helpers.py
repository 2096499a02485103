"""A throwaway Mosquitto per test, configured by ingest.broker exactly like the real one.

Use it from any test module::

    pytest_plugins = ["tests.mqtt_helpers"]

    def test_x(broker):
        sub = broker.client("wangge-ingest")
        sub.subscribe("wangge/v1/devices/+/+")
        dev = broker.client("cam-tower-01")
        dev.publish("wangge/v1/devices/cam-tower-01/events", b"{}")
        assert sub.wait_for(1)

The broker listens on a free port (tests.ports: started again elsewhere if it was taken), keeps its files under the test's tmp_path and is
stopped afterwards, with every client the test opened.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.reasoncodes import ReasonCode

from gis.settings import Settings
from ingest import broker as broker_control
from ingest.broker_auth import device_password
from ingest.broker_inventory import DeviceRecord, write_credentials_csv
from tests.ports import on_free_port

DEFAULT_DEVICES = ("cam-tower-01", "cam-roof-01", "water-01", "power-01", "door-01")
DEFAULT_WORKERS = ("worker-01", "worker-02")


class Client:
    """A paho client on its own network thread that records what it receives."""

    def __init__(self, raw: mqtt.Client):
        self.raw = raw
        self.messages: list[mqtt.MQTTMessage] = []
        self.connect_reason: ReasonCode | None = None
        self._cond = threading.Condition()
        self._acks: dict[int, ReasonCode] = {}
        self._subacks: dict[int, list[ReasonCode]] = {}
        raw.on_connect = self._on_connect
        raw.on_message = self._on_message
        raw.on_publish = self._on_publish
        raw.on_subscribe = self._on_subscribe

    def _notify(self, update: Callable[[], None]) -> None:
        with self._cond:
            update()
            self._cond.notify_all()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        self._notify(lambda: setattr(self, "connect_reason", reason))

    def _on_message(self, client, userdata, message) -> None:
        self._notify(lambda: self.messages.append(message))

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        self._notify(lambda: self._acks.__setitem__(mid, reason))

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        self._notify(lambda: self._subacks.__setitem__(mid, reasons))

    def _wait(self, done: Callable[[], bool], timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(done, timeout_s)

    def _require(self, done: Callable[[], bool], timeout_s: float, what: str) -> None:
        if not self._wait(done, timeout_s):
            raise TimeoutError(f"{what} within {timeout_s} s")

    def wait_connected(self, timeout_s: float = 30.0) -> ReasonCode:
        self._require(lambda: self.connect_reason is not None, timeout_s, "no CONNACK")
        return self.connect_reason  # type: ignore[return-value]

    def subscribe(self, topic: str, qos: int = 1, timeout_s: float = 30.0) -> list[ReasonCode]:
        _, mid = self.raw.subscribe(topic, qos=qos)
        self._require(lambda: mid in self._subacks, timeout_s, "no SUBACK")
        return self._subacks[mid]

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout_s=30.0
    ) -> ReasonCode | None:
        """Publish and, for QoS 1, wait for the PUBACK and return its reason code."""
        info = self.raw.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return None
        self._require(lambda: info.mid in self._acks, timeout_s, "no PUBACK")
        return self._acks[info.mid]

    def publish_all(
        self, topic: str, payloads: Sequence[bytes], timeout_s: float = 30.0
    ) -> list[ReasonCode]:
        """Publish QoS 1 messages without waiting in between; return every PUBACK's reason."""
        mids = [self.raw.publish(topic, p, qos=1).mid for p in payloads]
        self._require(lambda: all(m in self._acks for m in mids), timeout_s, "not every PUBACK")
        return [self._acks[m] for m in mids]

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[mqtt.MQTTMessage]:
        """At least ``count`` messages, or whatever arrived before the timeout."""
        self._wait(lambda: len(self.messages) >= count, timeout_s)
        return list(self.messages)

    def close(self) -> None:
        self.raw.disconnect()
        self.raw.loop_stop()


@dataclass
class RunningBroker:
    settings: Settings
    device_ids: list[str]
    worker_ids: list[str]
    clients: list[Client] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.settings.mqtt_host

    @property
    def port(self) -> int:
        return self.settings.mqtt_port

    def password(self, username: str) -> str:
        services = {
            self.settings.mqtt_admin_username: self.settings.mqtt_admin_password,
            self.settings.mqtt_ingest_username: self.settings.mqtt_ingest_password,
        }
        return services.get(username) or device_password(self.settings.credential_secret, username)

    def client(
        self,
        username: str | None,
        client_id: str | None = None,
        *,
        password: str | None = None,
        clean_start: bool = True,
        session_expiry_s: int = 0,
        wait: bool = True,
    ) -> Client:
        """An MQTT 5 client logged in as ``username`` (None: anonymous), loop running."""
        raw = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or username or "",
            protocol=mqtt.MQTTv5,
        )
        if username is not None:
            raw.username_pw_set(username, password or self.password(username))
        properties = mqtt.Properties(mqtt.PacketTypes.CONNECT)
        properties.SessionExpiryInterval = session_expiry_s
        raw.max_inflight_messages_set(100)
        client = Client(raw)
        raw.connect(self.host, self.port, clean_start=clean_start, properties=properties)
        raw.loop_start()
        self.clients.append(client)
        if wait:
            client.wait_connected()
        return client

    def write_credentials(self, path: Path, devices: Sequence[DeviceRecord]) -> Path:
        """The provisioning file ``wangge sim`` reads, for these devices."""
        write_credentials_csv(path, devices, self.settings.credential_secret)
        return path

    def start(self) -> None:
        broker_control.start(self.settings)

    def stop(self) -> None:
        broker_control.stop(self.settings)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.stop()


def _start_broker(run_dir: Path, device_ids: Sequence[str], worker_ids: Sequence[str]):
    def start(port: int) -> Settings:
        settings = Settings(run_dir=run_dir, mqtt_host="127.0.0.1", mqtt_port=port)
        broker_control.write_config(settings, device_ids, worker_ids)
        broker_control.start(settings)
        return settings

    return RunningBroker(on_free_port(start), list(device_ids), list(worker_ids))


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., RunningBroker]]:
    """Start brokers with your own device and worker lists; all are stopped afterwards."""
    started: list[RunningBroker] = []

    def make(
        device_ids: Sequence[str] = DEFAULT_DEVICES, worker_ids: Sequence[str] = DEFAULT_WORKERS
    ) -> RunningBroker:
        running = _start_broker(tmp_path / f"broker{len(started)}", device_ids, worker_ids)
        started.append(running)
        return running

    yield make
    for running in started:
        running.close()


@pytest.fixture
def broker(broker_factory: Callable[..., RunningBroker]) -> RunningBroker:
    """A running broker that knows DEFAULT_DEVICES and DEFAULT_WORKERS."""
    return broker_factory()


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
