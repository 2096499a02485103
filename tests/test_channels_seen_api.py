"""POST /api/tasks/{id}/seen: the app's receipt on the urgent ladder; accept acknowledges."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import World, login


def test_seen_then_accept_mark_the_deliveries(
    client: TestClient, world: World, database_url: str
) -> None:
    task = world.tasks["a1"]
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO task_notification (task_id, worker_id, role) "
            "VALUES (%s, 'w_a1', 'full_time')",
            (task,),
        )
        conn.execute(
            "INSERT INTO delivery (task_id, worker_id, step, channel, address, state, sent_at) "
            "VALUES (%s, 'w_a1', 'instant', 'wecom_app', 'w_a1', 'sent', now())",
            (task,),
        )
        conn.execute(  # the app's MQTT push, as the outbox pusher leaves it
            "INSERT INTO outbox (channel, target, payload, task_id, sent_at, attempts) "
            "VALUES ('mqtt', 'wangge/v1/workers/w_a1/tasks', "
            '\'{"action": "assigned", "escalation_level": 0}\', %s, now(), 1)',
            (task,),
        )
    seen = client.post(f"/api/tasks/{task}/seen", headers=login(client, "gw_a1"))
    assert seen.status_code == 200, seen.text
    assert seen.json()["state"] == "dispatched"  # seeing is not accepting
    not_told = client.post(f"/api/tasks/{task}/seen", headers=login(client, "cadre_a"))
    assert not_told.status_code == 409 and "not notified" in not_told.json()["detail"]
    with connect(database_url) as conn:
        assert conn.execute(
            "SELECT seen_at IS NOT NULL FROM task_notification WHERE task_id = %s", (task,)
        ).fetchone() == (True,)
        assert conn.execute("SELECT state FROM delivery").fetchone() == ("seen",)
    accepted = client.post(f"/api/tasks/{task}/accept", headers=login(client, "gw_a1"))
    assert accepted.json()["state"] == "accepted"
    with connect(database_url) as conn:
        state, acknowledged = conn.execute(
            "SELECT state, acknowledged_at IS NOT NULL FROM delivery"
        ).fetchone()
    assert (state, acknowledged) == ("acknowledged", True)
    detail = client.get(f"/api/tasks/{task}", headers=login(client, "op_a")).json()
    told = {(d["worker_id"], d["channel"], d["state"]) for d in detail["deliveries"]}
    assert told == {("w_a1", "wecom_app", "acknowledged"), ("w_a1", "mqtt", "acknowledged")}
    assert all("address" not in d for d in detail["deliveries"])  # phones stay out
    assert detail["notifications"][0]["seen_at"] is not None
