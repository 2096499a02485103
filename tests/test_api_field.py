"""The field app's API: the 网格包 in my scope only (masked IDs, every read audited),
走访 visits, GPS check-in with its distance, and the long-lived, revocable phone login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import GRID_A1, GRID_A2, PASSWORD, World, login
from tests.test_api_logins_cli import _wangge


def _reads(database_url: str, actor: str, subject_type: str) -> list[str]:
    with connect(database_url) as conn:
        rows = conn.execute(
            "SELECT subject_id FROM audit_log WHERE actor = %s AND action = 'read' "
            "AND subject_type = %s ORDER BY subject_id",
            (actor, subject_type),
        ).fetchall()
    return [row[0] for row in rows]


def test_gridpack_shows_my_grid_only_masked_and_audited(
    client: TestClient, world: World, database_url: str
) -> None:
    pack = client.get("/api/field/gridpack", headers=login(client, "gw_a1")).json()
    assert [g["code"] for g in pack["grids"]] == [GRID_A1]
    assert [h["id"] for h in pack["households"]] == [world.households["a1"]]
    [resident] = pack["households"][0]["residents"]
    assert resident["id_number"] == "150***********123X"
    assert "id_number_hmac" not in resident
    assert pack["special_groups"]["独居老人"] == 1
    assert _reads(database_url, "gw_a1", "household") == [str(world.households["a1"])]
    assert _reads(database_url, "gw_a1", "resident") == [str(world.residents["a1"])]

    cadre = client.get("/api/field/gridpack", headers=login(client, "cadre_a")).json()
    assert {g["code"] for g in cadre["grids"]} == {GRID_A1, GRID_A2}
    assert {h["id"] for h in cadre["households"]} == {
        world.households["a1"],
        world.households["a2"],
    }
    lonely = client.get(
        "/api/field/gridpack", params={"tag": "独居老人"}, headers=login(client, "cadre_a")
    ).json()
    assert [h["id"] for h in lonely["households"]] == [world.households["a1"]]


def test_visits_only_to_households_of_my_grid(
    client: TestClient, world: World, database_url: str
) -> None:
    worker = login(client, "gw_a1")
    mine = client.post(
        f"/api/households/{world.households['a1']}/visits",
        headers=worker,
        json={"outcome": "ok", "note": "老人身体良好"},
    )
    assert mine.status_code == 201, mine.text
    other = client.post(
        f"/api/households/{world.households['b1']}/visits", headers=worker, json={"outcome": "ok"}
    )
    assert other.status_code == 404
    bad = client.post(
        f"/api/households/{world.households['a1']}/visits",
        headers=worker,
        json={"outcome": "fine"},
    )
    assert bad.status_code == 422
    pack = client.get("/api/field/gridpack", headers=worker).json()
    assert pack["households"][0]["last_visit"]["outcome"] == "ok"
    assert pack["households"][0]["visits"] == 1
    with connect(database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'visit' AND actor = 'gw_a1'"
        ).fetchone() == (1,)


def test_checkin_records_the_distance_to_the_incident(
    client: TestClient, world: World, database_url: str
) -> None:
    worker = login(client, "gw_a1")
    task = world.tasks["a1"]  # its incident is at 109.805, 40.61
    near = client.post(
        f"/api/tasks/{task}/checkin", headers=worker, json={"lon": 109.806, "lat": 40.61}
    ).json()
    assert 80 < near["distance_m"] < 90 and near["on_site"] is True
    far = client.post(
        f"/api/tasks/{task}/checkin", headers=worker, json={"lon": 109.84, "lat": 40.61}
    ).json()
    assert far["distance_m"] > 2900 and far["on_site"] is False
    with connect(database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM task_checkin WHERE task_id = %s", (task,)
        ).fetchone() == (2,)
    detail = client.get(f"/api/tasks/{task}", headers=login(client, "op_a")).json()
    assert [round(c["distance_m"]) for c in detail["checkins"]] == [
        round(near["distance_m"]),
        round(far["distance_m"]),
    ]
    outside = client.post(
        f"/api/tasks/{world.tasks['b1']}/checkin", headers=worker, json={"lon": 1, "lat": 1}
    )
    assert outside.status_code == 404


def test_device_login_lasts_long_without_a_cookie_and_logout_revokes_it(
    client: TestClient, world: World
) -> None:
    answer = client.post(
        "/api/auth/login", json={"username": "gw_a1", "password": PASSWORD, "device": True}
    )
    assert answer.status_code == 200
    assert "set-cookie" not in answer.headers
    expires = datetime.fromisoformat(answer.json()["expires_at"])
    assert expires > datetime.now(UTC) + timedelta(days=60)
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_cli_revokes_a_lost_phones_device_session(client: TestClient, database_url: str) -> None:
    answer = client.post(
        "/api/auth/login", json={"username": "gw_a1", "password": PASSWORD, "device": True}
    )
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    done = _wangge(database_url, "user", "revoke", "gw_a1")
    assert done.returncode == 0, done.stderr
    assert "1" in done.stdout
    assert client.get("/api/auth/me", headers=headers).status_code == 401
