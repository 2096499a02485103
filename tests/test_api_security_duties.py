"""Separation of duties (api.actions): nobody evaluates (评单) a task they handled, admin
included; an admin dispatches outside the task's street only with a reason, audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import World, login
from tests.test_api_workorder_loop import tiny_png


def test_nobody_evaluates_a_task_they_handled_admin_included(
    client: TestClient, world: World
) -> None:
    admin = login(client, "admin")
    url = f"/api/tasks/{world.tasks['a2']}"
    assert client.post(f"{url}/dispatch", headers=admin, json={"worker_id": "w_a2"}).is_success
    for action in ("accept", "start"):
        assert client.post(f"{url}/{action}", headers=admin).is_success
    handled = client.post(
        f"{url}/handled",
        headers=admin,
        data={"note": "已处理"},
        files={"photo": ("p.png", tiny_png(), "image/png")},
    )
    assert handled.json()["state"] == "handled"
    own = client.post(f"{url}/evaluate", headers=admin, json={"satisfied": True})
    assert own.status_code == 403, own.text
    assert "separation of duties" in own.json()["detail"]
    assert client.get(url, headers=admin).json()["state"] == "handled"
    other = client.post(f"{url}/evaluate", headers=login(client, "op_a"), json={"satisfied": True})
    assert other.json()["state"] == "closed"


def test_the_assignee_cadre_cannot_evaluate_its_own_task(client: TestClient, world: World) -> None:
    cadre = login(client, "cadre_a")
    url = f"/api/tasks/{world.tasks['a2']}"
    client.post(f"{url}/dispatch", headers=cadre, json={"worker_id": "cadre_a"})
    for action in ("accept", "start"):
        client.post(f"{url}/{action}", headers=cadre)
    client.post(f"{url}/handled", headers=cadre, data={"note": "好了"})
    assert (
        client.post(f"{url}/evaluate", headers=cadre, json={"satisfied": True}).status_code == 403
    )


def test_admin_dispatch_outside_the_tasks_street_needs_an_audited_reason(
    client: TestClient, world: World, database_url: str
) -> None:
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO street (code, district_code, name, source) "
            "VALUES ('150203002000', '150203', '另一街道', 't')"
        )
        conn.execute(
            "INSERT INTO worker (id, name, role, street_code, phone, source) "
            "VALUES ('w_far', '外街网格员', 'full_time', '150203002000', '13900009999', 't')"
        )
    url = f"/api/tasks/{world.tasks['a2']}/dispatch"
    admin = login(client, "admin")
    bare = client.post(url, headers=admin, json={"worker_id": "w_far"})
    assert bare.status_code == 422, bare.text
    assert "outside_area_reason" in bare.json()["detail"]
    operator = client.post(
        url,
        headers=login(client, "op_street"),
        json={"worker_id": "w_far", "outside_area_reason": "支援"},
    )
    assert operator.status_code == 422  # a reason does not widen an operator's area
    reason = "本街道网格员全部在处置火情, 临时调派"
    done = client.post(
        url, headers=admin, json={"worker_id": "w_far", "outside_area_reason": reason}
    )
    assert done.status_code == 200, done.text
    assert done.json()["assignee_id"] == "w_far"
    inside = client.post(
        f"/api/tasks/{world.tasks['b1']}/return", headers=login(client, "gw_b1"), json={"note": "x"}
    )
    assert inside.is_success
    ordinary = client.post(
        f"/api/tasks/{world.tasks['b1']}/dispatch", headers=admin, json={"worker_id": "w_a1"}
    )
    assert ordinary.status_code == 200  # same street: no reason needed
    with connect(database_url) as conn:
        audited = conn.execute(
            "SELECT actor, subject_id, detail FROM audit_log WHERE action = 'dispatch_outside_area'"
        ).fetchall()
    assert audited == [
        ("admin", str(world.tasks["a2"]), {"worker_id": "w_far", "reason": reason}),
    ]
