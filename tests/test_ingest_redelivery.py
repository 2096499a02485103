"""At least once in, exactly once stored: a redelivered message changes nothing; a push
committed but not sent before a crash is sent by the next pusher; a crash after sending a
push but before marking it sent repeats it once, with the same message_id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from psycopg.types.json import Jsonb

from gis.contract import parse_task_message
from gis.db import connect
from ingest.metrics import read_all
from tests.ingest_world import GRID_A1, IN_GRID, door, encode, fire, wait_subscribed, water_no_usage
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

TABLES = ("event", "incident", "task", "task_transition", "task_notification", "outbox")


def _counts(setup: Setup) -> dict:
    counts = {t: setup.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    counts["event_counts"] = setup.scalar("SELECT array_agg(event_count ORDER BY id) FROM incident")
    counts["last_exit"] = setup.scalar("SELECT max(last_exit_at) FROM household_activity")
    return counts


def test_redelivered_messages_change_nothing(setup: Setup) -> None:
    listener = setup.listen("w_a1")
    originals = [
        ("cam_r1", fire("cam_r1", lon=IN_GRID[GRID_A1][0], lat=IN_GRID[GRID_A1][1], accuracy_m=30)),
        ("wm_a1", water_no_usage("wm_a1", since=datetime.now(UTC) - timedelta(hours=30))),
        ("door_a1", door("door_a1", "H-A1")),
    ]
    with setup.ingest(workers=2):
        wait_subscribed(setup.database_url, setup.broker)
        for device, message in originals:
            setup.publish(device, message)
        assert wait_until(lambda: setup.scalar("SELECT count(*) FROM task") == 2, 30)
        assert wait_until(
            lambda: setup.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, 30
        )
        before = _counts(setup)
        for _ in range(3):  # the same bytes again, as a device replays after a reconnect
            for device, message in originals:
                setup.publish(device, encode(message))
        assert wait_until(
            lambda: sum(m["counts"].get("duplicates", 0) for m in read_all(setup.run_dir)) == 9,
            10,
        )
        after = _counts(setup)
    assert after == before
    assert before["event"] == 3 and before["event_counts"] == [1, 1]
    pushed = [parse_task_message(m.payload).task_id for m in listener.wait_for(2, 30)]
    assert len(pushed) == len(set(pushed)) == 2


def test_a_push_committed_but_not_sent_before_a_crash_is_sent_at_start(setup: Setup) -> None:
    listener = setup.listen("w_a1")
    message = {
        "schema_version": "1.0",
        "message_id": str(uuid.uuid4()),
        "ts": datetime.now(UTC).isoformat(),
        "action": "reminder",
        "task_id": 1,
        "type": "fire.smoke",
        "category": "fire",
        "state": "dispatched",
        "urgency": "urgent",
        "title": {"zh": "提醒", "en": "Reminder"},
        "escalation_level": 0,
        "links": {"task": "http://127.0.0.1:8000/api/tasks/1"},
    }
    with connect(setup.database_url) as conn:
        conn.execute(
            "INSERT INTO outbox (channel, target, payload) VALUES ('mqtt', %s, %s)",
            ("wangge/v1/workers/w_a1/tasks", Jsonb(message)),
        )
    with setup.ingest(workers=1):
        [received] = listener.wait_for(1, 30)
        assert wait_until(
            lambda: setup.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, 30
        )
    assert parse_task_message(received.payload).message_id == uuid.UUID(message["message_id"])


HOLD_MARKING_SENT = """
CREATE FUNCTION test_hold_marking_sent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL THEN
        PERFORM pg_advisory_lock(%(key)s);
        PERFORM pg_advisory_unlock(%(key)s);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_hold_marking_sent BEFORE UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION test_hold_marking_sent();
"""
HOLD_KEY = 7_001


def _pusher_waits_to_mark_sent(setup: Setup) -> bool:
    return bool(
        setup.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND wait_event = 'advisory' AND query LIKE 'UPDATE outbox SET sent_at%%'"
        )
    )


def test_a_crash_between_publishing_a_push_and_marking_it_sent_repeats_it_once_with_its_id(
    setup: Setup,
) -> None:
    """The worker is killed for real in that window: a trigger makes the pusher's "mark
    sent" wait on a lock this test holds, after the broker has taken the push. The push is
    delivered once more, with the same message_id (the receiver drops it), and never again."""
    listener = setup.listen("w_a1")
    with connect(setup.database_url, autocommit=True) as holder:
        holder.execute(HOLD_MARKING_SENT % {"key": HOLD_KEY})
        holder.execute("SELECT pg_advisory_lock(%s)", (HOLD_KEY,))
        with setup.ingest(workers=1) as ingest:
            wait_subscribed(setup.database_url, setup.broker)
            lon, lat = IN_GRID[GRID_A1]
            setup.publish("cam_r1", fire("cam_r1", lon=lon, lat=lat, accuracy_m=30))
            [first] = listener.wait_for(1, 30)
            assert wait_until(lambda: _pusher_waits_to_mark_sent(setup), 30)
            victim = ingest.kill_worker(0)
            holder.execute("SELECT pg_advisory_unlock(%s)", (HOLD_KEY,))
            assert wait_until(lambda: victim not in ingest.children(), 30)
            assert len(ingest.wait_workers()) == 1
            assert wait_until(
                lambda: setup.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0,
                20,
            )
            deliveries = listener.wait_for(2, 30)
            log = ingest.log()
    assert "exited with -9; restarting" in log
    ids = [parse_task_message(m.payload).message_id for m in deliveries]
    assert len(ids) == 2 and ids[0] == ids[1] == parse_task_message(first.payload).message_id
    assert setup.scalar("SELECT attempts FROM outbox WHERE target LIKE %s", "%/w_a1/tasks") == 1
