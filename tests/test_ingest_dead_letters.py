"""Every kind of bad message becomes a dead letter with its reason and raw bytes, is counted,
and the worker goes on: a good message sent after all of them is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gis.db import connect
from ingest.metrics import read_all
from tests.ingest_world import encode, fire, status, topic, wait_subscribed
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]


def _bad_messages() -> list[tuple[str, str, bytes, str]]:
    """(reason, publisher, topic, payload) for each reason of the contract."""
    good = fire("cam_t1", bearing_deg=90.0)
    far_future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    nan = encode(fire("cam_t1")).replace(
        b'"confidence":0.9', b'"confidence":0.9,"lon":NaN,"lat":40.6'
    )
    return [
        ("too_large", "cam_t1", topic("cam_t1"), encode(good | {"pad": "x" * 17_000})),
        ("unknown_topic", "wangge-admin", "wangge/v1/devices/cam_t1/diagnostics", encode(good)),
        ("bad_json", "cam_t1", topic("cam_t1"), b"\xff\xfe not json"),
        (
            "unsupported_version",
            "cam_t1",
            topic("cam_t1"),
            encode(good | {"schema_version": "2.0"}),
        ),
        ("unknown_type", "cam_t1", topic("cam_t1"), encode(good | {"type": "fire.rumour"})),
        ("invalid", "cam_t1", topic("cam_t1"), nan),
        ("invalid", "cam_t1", topic("cam_t1"), encode(fire("cam_t1", lon=109.8, lat=95.0))),
        ("invalid", "cam_t1", topic("cam_t1"), encode(fire("cam_t1") | {"ts": far_future})),
        ("unknown_type", "cam_t1", topic("cam_t1", "status"), encode(fire("cam_t1"))),
        ("device_mismatch", "cam_t1", topic("cam_t1"), encode(fire("cam_t2"))),
        ("unknown_device", "cam_off", topic("cam_off"), encode(fire("cam_off"))),
        ("unknown_device", "ghost", topic("ghost", "status"), encode(status("ghost"))),
    ]


def test_each_bad_message_is_dead_lettered_counted_and_the_worker_goes_on(setup: Setup) -> None:
    bad = _bad_messages()
    with setup.ingest(workers=1):
        wait_subscribed(setup.database_url, setup.broker)
        for _, publisher, to, payload in bad:
            client = setup._device(publisher)
            reason = client.publish(to, payload)
            assert reason is None or not reason.is_failure
        good = fire("cam_r1", lon=109.806, lat=40.606, accuracy_m=30)
        setup.publish("cam_r1", good)
        assert wait_until(
            lambda: (
                setup.scalar("SELECT count(*) FROM event WHERE event_id = %s", good["event_id"])
                == 1
            ),
            15,
        )
        assert wait_until(lambda: setup.scalar("SELECT count(*) FROM dead_letter") == len(bad), 30)
        assert wait_until(
            lambda: (
                sum(sum(m["dead_lettered"].values()) for m in read_all(setup.run_dir)) == len(bad)
            ),
            10,
        )
    with connect(setup.database_url) as conn:
        stored = conn.execute(
            "SELECT reason, topic, payload, device_id FROM dead_letter ORDER BY id"
        ).fetchall()
    expected = sorted((reason, to, payload) for reason, _, to, payload in bad)
    assert sorted((r, t, bytes(p)) for r, t, p, _ in stored) == expected
    assert {d for r, _, _, d in stored if r == "unknown_device"} == {"cam_off", "ghost"}
    counted = {}
    for snapshot in read_all(setup.run_dir):
        for reason, n in snapshot["dead_lettered"].items():
            counted[reason] = counted.get(reason, 0) + n
    assert counted == {r: sum(1 for x in bad if x[0] == r) for r in {x[0] for x in bad}}
