"""The project's broker lets each account do exactly what the MQTT contract gives it."""

from __future__ import annotations

from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]

DEVICE_TOPICS = "wangge/v1/devices/+/+"
BATCHES_MAX = 5


def test_broker_refuses_anonymous_and_wrong_password(broker: RunningBroker) -> None:
    assert broker.client(None, "anon").wait_connected().is_failure
    assert broker.client("water-01", password="guess").wait_connected().is_failure
    assert not broker.client("water-01").wait_connected().is_failure


def test_broker_delivers_device_message_to_ingest_but_not_one_on_another_device_topic(
    broker: RunningBroker,
) -> None:
    ingest = broker.client("wangge-ingest", "ingest-1")
    ingest.subscribe(DEVICE_TOPICS)
    device = broker.client("water-01")

    own = device.publish("wangge/v1/devices/water-01/telemetry", b"own")
    spoofed = device.publish("wangge/v1/devices/power-01/telemetry", b"spoofed")
    other_channel = device.publish("wangge/v1/devices/water-01/commands", b"unknown channel")
    marker = broker.client("power-01").publish("wangge/v1/devices/power-01/events", b"marker")

    received = ingest.wait_for(2, timeout_s=30)
    assert [(m.topic, m.payload) for m in received] == [
        ("wangge/v1/devices/water-01/telemetry", b"own"),
        ("wangge/v1/devices/power-01/events", b"marker"),
    ]
    assert not own.is_failure and not marker.is_failure
    assert spoofed.is_failure and other_channel.is_failure


def test_ingest_shared_subscription_deals_each_message_to_one_member(
    broker: RunningBroker,
) -> None:
    """Batches are published until both members have had a share: the broker decides who
    gets what, so the test waits for that condition instead of assuming a dealing."""
    members = [broker.client("wangge-ingest", f"ingest-{i}") for i in range(2)]
    for member in members:
        member.subscribe("$share/ingest/" + DEVICE_TOPICS)
    door = broker.client("door-01")
    sent: list[bytes] = []

    def received() -> list[bytes]:
        return [m.payload for member in members for m in member.messages]

    def all_received() -> bool:
        return len(received()) >= len(sent)

    for batch in range(BATCHES_MAX):
        payloads = [b"%d-%d" % (batch, i) for i in range(20)]
        door.publish_all("wangge/v1/devices/door-01/events", payloads)
        sent += payloads
        assert wait_until(all_received, timeout_s=30), received()
        if all(member.messages for member in members):
            break
    assert sorted(received()) == sorted(sent)  # each message exactly once
    assert all(member.messages for member in members)


def test_worker_receives_only_its_own_tasks_and_cannot_pose_as_device(
    broker: RunningBroker,
) -> None:
    w1 = broker.client("worker-01")
    w2 = broker.client("worker-02")
    w1.subscribe("wangge/v1/workers/worker-01/tasks")
    w2.subscribe("wangge/v1/workers/worker-02/tasks")
    w2.subscribe("wangge/v1/workers/worker-01/tasks")  # not its own: never delivered
    w2.subscribe("wangge/v1/workers/+/tasks")
    ingest = broker.client("wangge-ingest")
    ingest.subscribe(DEVICE_TOPICS)

    assert w1.publish("wangge/v1/devices/worker-01/events", b"fake").is_failure
    assert w1.publish("wangge/v1/workers/worker-02/tasks", b"fake").is_failure
    ingest.publish("wangge/v1/workers/worker-01/tasks", b"for w1")
    ingest.publish("wangge/v1/workers/worker-02/tasks", b"for w2")

    # Fences instead of pauses: the broker handles one connection's messages in order, so
    # a later message on w2's own topic comes after anything "for w1" would have; and the
    # refused fake was answered (PUBACK) before the device's fence was even sent.
    ingest.publish("wangge/v1/workers/worker-02/tasks", b"fence")
    broker.client("door-01").publish("wangge/v1/devices/door-01/events", b"fence")

    assert [m.payload for m in w1.wait_for(1)] == [b"for w1"]
    assert wait_until(lambda: b"fence" in [m.payload for m in w2.messages], timeout_s=30)
    assert {m.payload for m in w2.messages} == {b"for w2", b"fence"}
    assert wait_until(lambda: ingest.messages, timeout_s=30)
    assert [m.payload for m in ingest.messages] == [b"fence"]
