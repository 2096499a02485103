"""The project's broker lets each account do exactly what the MQTT contract gives it."""

from __future__ import annotations

from tests.mqtt_helpers import RunningBroker, wait_until

pytest_plugins = ["tests.mqtt_helpers"]

DEVICE_TOPICS = "wangge/v1/devices/+/+"


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

    received = ingest.wait_for(2, timeout_s=5)
    assert [(m.topic, m.payload) for m in received] == [
        ("wangge/v1/devices/water-01/telemetry", b"own"),
        ("wangge/v1/devices/power-01/events", b"marker"),
    ]
    assert not own.is_failure and not marker.is_failure
    assert spoofed.is_failure and other_channel.is_failure


def test_ingest_shared_subscription_deals_each_message_to_one_member(
    broker: RunningBroker,
) -> None:
    members = [broker.client("wangge-ingest", f"ingest-{i}") for i in range(2)]
    for member in members:
        member.subscribe("$share/ingest/" + DEVICE_TOPICS)
    sent = [str(i).encode() for i in range(20)]
    broker.client("door-01").publish_all("wangge/v1/devices/door-01/events", sent)

    def received() -> list[bytes]:
        return [m.payload for member in members for m in member.messages]

    wait_until(lambda: len(received()) >= len(sent), timeout_s=5)
    assert sorted(received()) == sorted(sent)
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

    assert [m.payload for m in w1.wait_for(1)] == [b"for w1"]
    assert {m.payload for m in w2.wait_for(3, timeout_s=2)} == {b"for w2"}
    assert ingest.wait_for(1, timeout_s=1) == []
