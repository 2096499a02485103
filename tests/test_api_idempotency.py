"""Idempotency-Key: a retry with the same key never acts twice (on several routes), the
same key on another request is refused, concurrent duplicates act once, keys expire."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import World, login
from tests.test_api_workorder_loop import tiny_png


def _key() -> str:
    return f"test-{uuid.uuid4().hex}"


def _count(database_url: str, sql: str, *params: object) -> int:
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _transitions(database_url: str, task_id: int, to_state: str) -> int:
    return _count(
        database_url,
        "SELECT count(*) FROM task_transition WHERE task_id = %s AND to_state = %s",
        task_id,
        to_state,
    )


def test_retries_on_several_routes_act_once(
    client: TestClient, world: World, database_url: str
) -> None:
    worker = login(client, "gw_a1")
    task = world.tasks["a1"]
    moves = [
        (f"/api/tasks/{task}/accept", None, "accepted"),
        (f"/api/tasks/{task}/start", {"note": "到场"}, "in_progress"),
    ]
    for url, body, state in moves:
        headers = worker | {"Idempotency-Key": _key()}
        first = client.post(url, headers=headers, json=body)
        assert first.status_code == 200, first.text
        again = client.post(url, headers=headers, json=body)
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert _transitions(database_url, task, state) == 1

    # Multipart reports are keyed too (same bytes: the same boundary).
    report = worker | {"Idempotency-Key": _key(), "Content-Type": "multipart/form-data; boundary=b"}
    body = (
        b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nok\r\n'
        b'--b\r\nContent-Disposition: form-data; name="photo"; filename="p.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + tiny_png() + b"\r\n--b--\r\n"
    )
    for _ in range(2):
        answer = client.post(f"/api/tasks/{task}/handled", headers=report, content=body)
        assert answer.status_code == 200, answer.text
    assert _transitions(database_url, task, "handled") == 1

    # A different route: the desk's dispatch, retried, dispatches and pushes once.
    desk = login(client, "op_a") | {"Idempotency-Key": _key()}
    a2 = world.tasks["a2"]
    for _ in range(3):
        answer = client.post(f"/api/tasks/{a2}/dispatch", headers=desk, json={"worker_id": "w_a2"})
        assert answer.status_code == 200, answer.text
    assert _transitions(database_url, a2, "dispatched") == 1
    assert _count(database_url, "SELECT count(*) FROM outbox WHERE task_id = %s", a2) == 1

    # The field app's own routes: a 走访 visit and a resumable upload, each created once.
    visit = worker | {"Idempotency-Key": _key()}
    url = f"/api/households/{world.households['a1']}/visits"
    answers = [client.post(url, headers=visit, json={"outcome": "ok"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert _count(database_url, "SELECT count(*) FROM household_visit") == 1
    upload = worker | {"Idempotency-Key": _key()}
    ids = {
        client.post("/api/uploads", headers=upload, json={"size": 10}).json()["id"] for _ in "ab"
    }
    assert len(ids) == 1
    assert _count(database_url, "SELECT count(*) FROM upload") == 1


def test_same_key_other_request_is_refused(client: TestClient, world: World) -> None:
    headers = login(client, "gw_a1") | {"Idempotency-Key": _key()}
    task = world.tasks["a1"]
    assert client.post(f"/api/tasks/{task}/accept", headers=headers).status_code == 200
    other = client.post(f"/api/tasks/{task}/start", headers=headers)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    bad = client.post(f"/api/tasks/{task}/start", headers=headers | {"Idempotency-Key": "x"})
    assert bad.status_code == 400


def test_failed_action_leaves_no_claim_and_keys_are_per_user(
    client: TestClient, world: World, database_url: str
) -> None:
    key = _key()
    task = world.tasks["a1"]
    # Not the assignee: 403, rolled back with its claim, so nothing is stored.
    refused = client.post(
        f"/api/tasks/{task}/accept", headers=login(client, "gw_a2") | {"Idempotency-Key": key}
    )
    assert refused.status_code in (403, 404)
    assert _count(database_url, "SELECT count(*) FROM idempotency_key") == 0
    # The same key string from another user is a key of its own.
    done = client.post(
        f"/api/tasks/{task}/accept", headers=login(client, "gw_a1") | {"Idempotency-Key": key}
    )
    assert done.status_code == 200
    assert "idempotent-replayed" not in done.headers


def test_concurrent_duplicates_act_once(
    client: TestClient, world: World, database_url: str
) -> None:
    headers = login(client, "gw_a1") | {"Idempotency-Key": _key()}
    url = f"/api/tasks/{world.tasks['a1']}/accept"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client.post(url, headers=headers), range(4)))
    assert {a.status_code for a in answers} <= {200, 409}
    assert sum(a.status_code == 200 for a in answers) >= 1
    assert _transitions(database_url, world.tasks["a1"], "accepted") == 1


def test_expired_key_can_be_used_again(client: TestClient, world: World, database_url: str) -> None:
    headers = login(client, "gw_a1") | {"Idempotency-Key": _key()}
    task = world.tasks["a1"]
    assert client.post(f"/api/tasks/{task}/accept", headers=headers).status_code == 200
    with connect(database_url) as conn:
        conn.execute("UPDATE idempotency_key SET expires_at = now() - interval '1 second'")
    started = client.post(f"/api/tasks/{task}/start", headers=headers)
    assert started.status_code == 200, started.text
    assert _transitions(database_url, task, "in_progress") == 1
