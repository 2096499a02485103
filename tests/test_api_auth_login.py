"""Login: argon2 hashes, opaque tokens stored only as SHA-256, bearer or HttpOnly cookie."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import PASSWORD, login


def test_login_returns_a_token_that_identifies_the_user(client: TestClient) -> None:
    headers = login(client, "op_a")
    me = client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["role"]) == ("op_a", "operator")
    assert me.json()["scope_code"] == "150203001001"


def test_login_accepts_the_oauth2_password_form(client: TestClient) -> None:
    response = client.post("/api/auth/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


@pytest.mark.parametrize(
    ("username", "password"), [("op_a", "wrong"), ("nobody", PASSWORD), ("op_a", "")]
)
def test_login_refuses_bad_credentials(client: TestClient, username: str, password: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code in (401, 422)
    assert "access_token" not in response.text
    assert "wangge_token" not in response.cookies


def test_login_wrong_password_is_401_with_a_chinese_message(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "op_a", "password": "x"})
    assert response.status_code == 401
    assert response.json()["detail"].startswith("用户名或密码错误")


def test_login_sets_an_httponly_cookie_that_authenticates(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "gw_a1", "password": PASSWORD})
    set_cookie = response.headers["set-cookie"].lower()
    assert "wangge_token=" in set_cookie and "httponly" in set_cookie
    assert client.get("/api/auth/me").json()["username"] == "gw_a1"  # cookie only


def test_requests_without_a_valid_token_are_401(client: TestClient) -> None:
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_logout_ends_the_session(client: TestClient) -> None:
    headers = login(client, "admin")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_only_digests_and_argon2id_hashes_are_stored(client: TestClient, database_url: str) -> None:
    token = login(client, "admin")["Authorization"].removeprefix("Bearer ")
    with connect(database_url) as conn:
        digests = [r[0] for r in conn.execute("SELECT token_sha256 FROM app_session")]
        hashes = [r[0] for r in conn.execute("SELECT password_hash FROM app_user")]
        logins = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'login' AND actor = 'admin'"
        ).fetchone()[0]
    assert hashlib.sha256(token.encode()).hexdigest() in digests
    assert token not in digests
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert logins == 1
