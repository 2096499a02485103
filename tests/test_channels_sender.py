"""The delivery sender over PostGIS: due rows claimed, sent outside the transaction,
receipts recorded; a robot's limit merges the rows it holds back and loses none."""

from __future__ import annotations

import time

from gis.channels.base import RetryPolicy
from gis.channels.wecom_robot import WeComRobotChannel
from gis.db import connect
from gis.settings import Settings
from ingest.delivery_sender import DeliverySender
from tests.api_world import World
from tests.provider_servers import WeComServer


def _new_alert(conn, number: int) -> int:
    """An urgent task for w_a1 and its notification, as ingest or the API would write."""
    task_id = conn.execute(
        "INSERT INTO task (grid_code, community_code, assignee_id, state, urgency, category, "
        "title) SELECT grid_code, community_code, 'w_a1', 'dispatched', 'urgent', 'fire', %s "
        "FROM task WHERE assignee_id = 'w_a1' LIMIT 1 RETURNING id",
        (f"烟雾报警 #{number}",),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO task_notification (task_id, worker_id, role) VALUES (%s, 'w_a1', 'full_time')",
        (task_id,),
    )
    return task_id


ROBOT_LIMIT = (3, 3.0)


def test_sender_merges_rows_a_robot_limit_holds_and_loses_none(
    database_url: str, world: World
) -> None:
    settings = Settings(
        database_url=database_url,
        ladder_instant_channels=["wecom_robot"],
        ladder_sms_after_s=3600,
        ladder_voice_after_s=3600,
        ladder_escalate_after_s=3600,
    )
    # 3 per 3 s: the eight sweeps below take milliseconds, so even a badly loaded machine
    # sends exactly the first three before the window reopens (1 s was a matter of luck).
    with WeComServer(robot_limit=ROBOT_LIMIT) as wecom:
        robot = WeComRobotChannel(
            wecom.url, wecom.robot_key, limit=ROBOT_LIMIT, retry=RetryPolicy(base_s=0.05)
        )
        sender = DeliverySender(settings, {"wecom_robot": robot})
        with connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE worker SET phone = '13900000001' WHERE id = 'w_a1'")
            tasks = []
            for number in range(8):  # alerts arriving one by one, each swept at once
                tasks.append(_new_alert(conn, number))
                sender.sweep(conn)
            held = conn.execute(
                "SELECT state, count(*) FROM delivery GROUP BY 1 ORDER BY 1"
            ).fetchall()
            assert held == [("queued", 5), ("sent", 3)]
            deadline = time.monotonic() + 30
            while conn.execute("SELECT count(*) FROM delivery WHERE state <> 'sent'").fetchone()[0]:
                assert time.monotonic() < deadline, "rows still unsent"
                time.sleep(0.1)  # the sender loop's pace: sweep again, until all are sent
                sender.sweep(conn)
            rows = conn.execute(
                "SELECT task_id, attempts, error FROM delivery ORDER BY task_id"
            ).fetchall()
        assert [r[0] for r in rows] == tasks
        sent = wecom.robot_messages()
        assert not wecom.rejected()
        listed = "\n".join(m["text"]["content"] for m in sent)
        assert all(f"烟雾报警 #{i}" in listed for i in range(8))
        assert len(sent) == 4  # 3 single messages, then one listing the 5 held back
        assert [r[2] for r in rows[3:]] == ["合并发送 5 条 (merged)"] * 5
        assert all(attempts >= 1 for _, attempts, _ in rows)


def test_provider_down_requeues_a_round_later_then_sends(database_url: str, world: World) -> None:
    settings = Settings(
        database_url=database_url,
        ladder_instant_channels=["wecom_robot"],
        channel_retry_attempts=2,
    )
    with WeComServer() as wecom:
        robot = WeComRobotChannel(wecom.url, wecom.robot_key, retry=RetryPolicy(2, base_s=0.05))
        sender = DeliverySender(settings, {"wecom_robot": robot})
        with connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE worker SET phone = '13900000001' WHERE id = 'w_a1'")
            _new_alert(conn, 1)
            wecom.fail_next(2, status=502)  # both in-process attempts of this round
            before = conn.execute("SELECT clock_timestamp()").fetchone()[0]
            sender.sweep(conn)
            state, attempts, error, after_before_s, before_next_s = conn.execute(
                "SELECT state, attempts, error, extract(epoch FROM clock_timestamp() - %(b)s), "
                "extract(epoch FROM next_attempt_at - %(b)s) FROM delivery",
                {"b": before},
            ).fetchone()
            assert (state, attempts) == ("queued", 2) and "502" in error
            # The next round, not a hot loop: 25-30 s after the sweep, however slow the machine.
            assert 25 < before_next_s <= 30 + after_before_s
            conn.execute("UPDATE delivery SET next_attempt_at = now()")  # the round is due
            sender.sweep(conn)
            assert conn.execute("SELECT state, attempts FROM delivery").fetchone() == ("sent", 3)
    assert [r.status for r in wecom.received] == [502, 502, 200]
