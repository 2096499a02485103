"""One simulated device's connectivity, as the contract asks of real firmware.

Its own MQTT connection (client id = username = device id), QoS 1, a retained last will
(status offline), a retained online status on every connect and as heartbeat, reconnects
with exponential backoff and jitter, and a bounded offline buffer replayed in order after a
reconnect. Messages sent but not yet acknowledged when the link drops stay with paho and
are resent after the reconnect, byte for byte — same ``event_id``, so replays are harmless.

All methods run on the device's :class:`NetworkLoop` thread.
"""

from __future__ import annotations

import random
import socket
import time
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from firmware_sim import messages
from firmware_sim.inventory import DeviceSpec
from firmware_sim.network import NetworkLoop
from firmware_sim.settings import SimSettings
from gis import contract

FIRMWARE = "wangge-sim 1.0"
MAX_INFLIGHT = 20
NO_MATCHING_SUBSCRIBERS = 0x10
"""PUBACK reason: accepted, but nobody was subscribed (e.g. just after a broker restart)."""
UNHEARD_RETRY_MIN_S = 1.0
UNHEARD_RETRY_MAX_S = 30.0


@dataclass
class DeviceStats:
    published: int = 0
    """Handed to the MQTT client while connected (first sends, not paho's resends)."""
    acked: int = 0
    refused: int = 0
    """PUBACK with a failure reason (e.g. not authorized)."""
    unheard: int = 0
    """PUBACK 0x10 (no matching subscribers): kept and sent again later."""
    dropped: int = 0
    """Pushed out of a full offline buffer."""
    connects: int = 0
    failed_connects: int = 0


class SimDevice:
    def __init__(self, spec: DeviceSpec, settings: SimSettings, loop: NetworkLoop):
        self.spec = spec
        self.loop = loop
        self.settings = settings
        self.stats = DeviceStats()
        self.connected = False
        self.buffer: deque[tuple[str, bytes, bool]] = deque(maxlen=settings.sim_buffer_limit)
        self._inflight: dict[int, tuple[str, bytes, bool]] = {}
        self._unheard_retry_s = UNHEARD_RETRY_MIN_S
        self._retry_scheduled = False
        self._running = False
        self._heartbeat_scheduled = False
        self._backoff_s = settings.sim_reconnect_min_s
        self._booted = time.monotonic()
        self._status_topic = contract.device_topic(spec.id, "status")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=spec.id, protocol=mqtt.MQTTv5
        )
        client.username_pw_set(spec.id, spec.password)
        client.max_inflight_messages_set(MAX_INFLIGHT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.connect_async(settings.mqtt_host, settings.mqtt_port, settings.sim_keepalive_s)
        self.client = client

    @property
    def id(self) -> str:
        return self.spec.id

    # --- lifecycle ----------------------------------------------------------------------

    def power_on(self) -> None:
        self._running = True
        self.loop.attach(self.client)
        self._connect()

    def shutdown(self) -> None:
        """Planned stop: retained offline status, then a clean DISCONNECT (no last will)."""
        self._running = False
        if self.connected:
            status = messages.status(self.id, messages.now(), "shutdown")
            self._publish(self._status_topic, messages.encode(status), retain=True)
            self.client.disconnect()

    def power_off(self) -> None:
        """Sudden death: the TCP connection just ends, so the broker sends the last will."""
        self._running = False
        self.connected = False
        sock = self.client.socket()
        self.loop.detach(self.client)
        if isinstance(sock, socket.socket):
            sock.close()

    def _connect(self) -> None:
        if not self._running:
            return
        will = messages.status(self.id, messages.now(), "last_will")
        self.client.will_set(self._status_topic, messages.encode(will), qos=1, retain=True)
        try:
            self.client.reconnect()
        except OSError:
            self.stats.failed_connects += 1
            self._reconnect_later()

    def _reconnect_later(self) -> None:
        delay = self._backoff_s * random.uniform(0.8, 1.2)
        self._backoff_s = min(self._backoff_s * 2, self.settings.sim_reconnect_max_s)
        self.loop.call_later(delay, self._connect)

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self.stats.failed_connects += 1
            return  # the broker closes the connection; _on_disconnect schedules the retry
        self.connected = True
        self.stats.connects += 1
        self._backoff_s = self.settings.sim_reconnect_min_s
        status = messages.status(
            self.id,
            messages.now(),
            "connected",
            heartbeat_s=int(self.settings.sim_heartbeat_s),
            firmware=FIRMWARE,
        )
        self._publish(self._status_topic, messages.encode(status), retain=True)
        self._flush_buffer()
        if not self._heartbeat_scheduled:
            self._heartbeat_scheduled = True
            self.loop.call_later(self.settings.sim_heartbeat_s, self._heartbeat)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.connected = False
        if self._running:
            self._reconnect_later()

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        item = self._inflight.pop(mid, None)
        if reason.is_failure:
            self.stats.refused += 1
        elif reason.value == NO_MATCHING_SUBSCRIBERS and item is not None and not item[2]:
            # Not delivered to anyone: keep it (in order, before newer messages) and retry.
            self.stats.unheard += 1
            self.buffer.appendleft(item)
            self._retry_unheard_later()
        else:
            self.stats.acked += 1
            self._unheard_retry_s = UNHEARD_RETRY_MIN_S

    def _retry_unheard_later(self) -> None:
        if self._retry_scheduled:
            return
        self._retry_scheduled = True
        delay = self._unheard_retry_s
        self._unheard_retry_s = min(self._unheard_retry_s * 2, UNHEARD_RETRY_MAX_S)
        self.loop.call_later(delay, self._retry_unheard)

    def _retry_unheard(self) -> None:
        self._retry_scheduled = False
        if self.connected:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        while self.buffer:
            self._publish(*self.buffer.popleft())

    def _heartbeat(self) -> None:
        if not self._running:
            self._heartbeat_scheduled = False
            return
        if self.connected:
            status = messages.status(
                self.id,
                messages.now(),
                "heartbeat",
                heartbeat_s=int(self.settings.sim_heartbeat_s),
                uptime_s=int(time.monotonic() - self._booted),
                buffered=len(self.buffer),
                dropped=self.stats.dropped,
            )
            self._publish(self._status_topic, messages.encode(status), retain=True)
        self.loop.call_later(self.settings.sim_heartbeat_s, self._heartbeat)

    # --- sending ------------------------------------------------------------------------

    def emit(self, channel: contract.Channel, message: messages.Message) -> None:
        """Send now if connected, otherwise keep it in the offline buffer (oldest dropped)."""
        item = (contract.device_topic(self.id, channel), messages.encode(message), False)
        if self.connected:
            self._publish(*item)
            return
        if len(self.buffer) == self.buffer.maxlen:
            self.stats.dropped += 1
        self.buffer.append(item)

    def _publish(self, topic: str, payload: bytes, retain: bool) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        self._inflight[info.mid] = (topic, payload, retain)
        self.stats.published += 1

    @property
    def unacknowledged(self) -> int:
        """Sent but not yet acknowledged, plus still buffered (incl. unheard, to retry)."""
        done = self.stats.acked + self.stats.refused + self.stats.unheard
        return self.stats.published - done + len(self.buffer)
