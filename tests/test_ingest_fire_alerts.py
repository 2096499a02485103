"""A fire alert reaches the grid worker, the grid head and the community cadres; unaccepted,
it escalates on the timer level by level, also across a killed worker; accepted, it stops."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from gis.contract import parse_task_message
from gis.db import connect
from gis.workorders import transition
from tests.ingest_world import GRID_A1, GRID_B1, IN_GRID, fire, wait_subscribed
from tests.mqtt_helpers import wait_until

if TYPE_CHECKING:
    from tests.ingest_fixtures import Setup

pytest_plugins = ["tests.mqtt_helpers", "tests.ingest_fixtures"]

ESCALATION_S = [3.0, 6.0, 9.0]


def _task_of(setup: Setup, event_id: str) -> int | None:
    return setup.scalar(
        "SELECT t.id FROM task t JOIN event e ON e.incident_id = t.incident_id "
        "WHERE e.event_id = %s",
        event_id,
    )


def test_fire_alert_reaches_grid_worker_grid_head_and_cadres(setup: Setup) -> None:
    listeners = {w: setup.listen(w) for w in ("w_a1", "head_a", "cadre_a", "w_b1")}
    with setup.ingest(workers=1):
        wait_subscribed(setup.database_url, setup.broker)
        alert = fire("cam_r1", lon=IN_GRID[GRID_A1][0], lat=IN_GRID[GRID_A1][1], accuracy_m=40)
        sent = time.monotonic()
        setup.publish("cam_r1", alert)
        for worker in ("w_a1", "head_a", "cadre_a"):
            assert listeners[worker].wait_for(1, timeout_s=30), worker
        print(f"fire alert: pushed to A1's chain {time.monotonic() - sent:.2f} s after sending")
        # The fence for w_b1: a fire in its own grid. Pushes leave the outbox in id order
        # over one connection, and a push to w_b1 about A1 would have been written with
        # A1's task, before this one: so w_b1's first message must be about B1.
        fence = fire("cam_b2", lon=IN_GRID[GRID_B1][0], lat=IN_GRID[GRID_B1][1], accuracy_m=40)
        setup.publish("cam_b2", fence)
        assert listeners["w_b1"].wait_for(1, timeout_s=30)
    task_id = _task_of(setup, alert["event_id"])
    for worker in ("w_a1", "head_a", "cadre_a"):
        [received] = listeners[worker].messages
        message = parse_task_message(received.payload)
        assert (message.task_id, message.action, message.urgency) == (task_id, "assigned", "urgent")
        assert message.location.method == "reported" and message.grid_code == GRID_A1
        assert message.category == "fire" and message.state == "dispatched"
        assert message.due_at is not None
        assert message.links.map.endswith(f"/map?task={task_id}")
    fence_task = _task_of(setup, fence["event_id"])
    heard_by_b1 = [parse_task_message(m.payload).task_id for m in listeners["w_b1"].messages]
    assert heard_by_b1 == [fence_task]  # another grid's worker hears nothing of A1's fire
    with connect(setup.database_url) as conn:
        assignee, state = conn.execute(
            "SELECT assignee_id, state FROM task WHERE id = %s", (task_id,)
        ).fetchone()
        path = conn.execute(
            "SELECT to_state, actor FROM task_transition WHERE task_id = %s ORDER BY id",
            (task_id,),
        ).fetchall()
        sent_rows = conn.execute(
            "SELECT count(*) FROM outbox WHERE task_id = %s AND sent_at IS NOT NULL", (task_id,)
        ).fetchone()[0]
    assert (assignee, state) == ("w_a1", "dispatched")
    assert path == [(s, "system:rules") for s in ("reported", "filed", "dispatched")]
    assert sent_rows == 3


def test_unaccepted_alert_escalates_on_timer_across_a_killed_worker(setup: Setup) -> None:
    listeners = {
        w: setup.listen(w) for w in ("head_a", "cadre_a", "desk_a", "desk_street", "fire_1")
    }
    minutes = [s / 60 for s in ESCALATION_S]
    with setup.ingest(workers=1, escalation_minutes=minutes) as ingest:
        wait_subscribed(setup.database_url, setup.broker)
        # B1's alert is accepted first, then A1's is ignored: A1's whole ladder runs after
        # the acceptance, so B1's ladder has had every chance to go on, however slow the
        # machine was (if B1 escalated before it was accepted, it must stop there).
        accepted = fire("cam_b2", lon=IN_GRID[GRID_B1][0], lat=IN_GRID[GRID_B1][1], accuracy_m=40)
        setup.publish("cam_b2", accepted)
        assert wait_until(lambda: _task_of(setup, accepted["event_id"]) is not None, 30)
        accepted_task = _task_of(setup, accepted["event_id"])
        with connect(setup.database_url) as conn:
            transition(conn, accepted_task, "accepted", "w_b1")
        level_when_accepted = setup.scalar(
            "SELECT escalation_level FROM task WHERE id = %s", accepted_task
        )
        ignored = fire("cam_r1", lon=IN_GRID[GRID_A1][0], lat=IN_GRID[GRID_A1][1], accuracy_m=40)
        setup.publish("cam_r1", ignored)
        assert wait_until(lambda: _task_of(setup, ignored["event_id"]) is not None, 30)
        task_id = _task_of(setup, ignored["event_id"])
        # the only worker dies (normally before any escalation is due); the supervisor
        # brings it back and the ladder goes on from the database
        killed = ingest.kill_worker(0)
        assert wait_until(lambda: ingest.children() and killed not in ingest.children(), 30)
        assert wait_until(
            lambda: setup.scalar("SELECT escalation_level FROM task WHERE id = %s", task_id) == 3,
            ESCALATION_S[-1] + 60,
        )
        assert listeners["fire_1"].wait_for(1, timeout_s=30)
    with connect(setup.database_url) as conn:
        levels = conn.execute(
            "SELECT level, worker_id FROM task_notification WHERE task_id = %s AND level > 0 "
            "ORDER BY level, worker_id",
            (task_id,),
        ).fetchall()
        pending = conn.execute(
            "SELECT next_escalation_at FROM task WHERE id = %s", (task_id,)
        ).fetchone()[0]
        accepted_level = conn.execute(
            "SELECT escalation_level FROM task WHERE id = %s", (accepted_task,)
        ).fetchone()[0]
    assert levels == [
        (1, "head_a"),
        (2, "cadre_a"),
        (2, "desk_a"),
        (3, "desk_street"),
        (3, "fire_1"),
    ]
    assert pending is None and accepted_level == level_when_accepted
    print(
        f"escalation: B1 was accepted at level {level_when_accepted} (0 unless the machine stalled)"
    )
    for worker, level in (("desk_a", 2), ("desk_street", 3), ("fire_1", 3)):
        [message] = [parse_task_message(m.payload) for m in listeners[worker].messages]
        assert (message.action, message.escalation_level, message.task_id) == (
            "escalated",
            level,
            task_id,
        )
    escalations = [parse_task_message(m.payload) for m in listeners["head_a"].messages]
    assert [(m.action, m.escalation_level) for m in escalations] == [
        ("assigned", 0),
        ("escalated", 1),
    ]
