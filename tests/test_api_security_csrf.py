"""CSRF (api.csrf): cookie sessions' state-changing requests need our Origin (or Referer)
AND the double-submit token; bearer tokens are exempt; the form login is checked too.
Also: cookies are ``Secure`` over HTTPS (setting, or a trusted proxy's X-Forwarded-Proto)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api_world import PASSWORD, World, api_client, login
from tests.test_api_workorder_loop import tiny_png

OURS = "http://testserver"


def _cookie_session(client: TestClient, username: str) -> str:
    """Log in as a browser does (the cookies stay in the jar); the CSRF token."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return client.cookies["wangge_csrf"]


def _handled(client: TestClient, task_id: int, headers: dict, data: dict | None = None):  # noqa: ANN202
    return client.post(
        f"/api/tasks/{task_id}/handled",
        headers=headers,
        data={"note": "已处置"} | (data or {}),
        files={"photo": ("scene.png", tiny_png(), "image/png")},
    )


def _state(client: TestClient, task_id: int) -> str:
    return client.get(f"/api/tasks/{task_id}", headers=login(client, "admin")).json()["state"]


def _start(client: TestClient, task_id: int, username: str) -> int:
    """Accept and start the task as its worker (bearer), ready to be reported handled."""
    worker = login(client, username)
    for action in ("accept", "start"):
        assert client.post(f"/api/tasks/{task_id}/{action}", headers=worker).is_success
    return task_id


FORGED = [
    {"Origin": "http://evil.example"},
    {"Origin": "http://evil.example", "X-CSRF-Token": "{token}"},
    {"Origin": "null", "X-CSRF-Token": "{token}"},
    {"Referer": "http://evil.example/page", "X-CSRF-Token": "{token}"},
    {"X-CSRF-Token": "{token}"},  # neither Origin nor Referer
    {"Origin": OURS},  # our origin but no token
    {"Origin": OURS, "X-CSRF-Token": "not-the-cookie"},
]


def test_forged_multipart_upload_on_a_cookie_session_is_refused_but_bearer_is_exempt(
    client: TestClient, world: World
) -> None:
    task = _start(client, world.tasks["a1"], "gw_a1")
    token = _cookie_session(client, "gw_a1")
    for headers in FORGED:
        sent = {name: value.format(token=token) for name, value in headers.items()}
        response = _handled(client, task, sent)
        assert response.status_code == 403, (headers, response.text)
        assert "CSRF" in response.json()["detail"]
    assert _state(client, task) == "in_progress"
    bearer = login(client, "gw_a1") | {"Origin": "http://evil.example"}
    assert _handled(client, task, bearer).status_code == 200  # no cookie: nothing to forge


def test_upload_from_our_page_with_the_token_goes_through(client: TestClient, world: World) -> None:
    a1 = _start(client, world.tasks["a1"], "gw_a1")
    b1 = _start(client, world.tasks["b1"], "gw_b1")
    token = _cookie_session(client, "gw_a1")
    by_header = _handled(client, a1, {"Origin": OURS, "X-CSRF-Token": token})
    assert by_header.status_code == 200, by_header.text
    token = _cookie_session(client, "gw_b1")
    by_field = _handled(client, b1, {"Origin": OURS}, {"csrf_token": token})
    assert by_field.status_code == 200, by_field.text
    assert (by_header.json()["state"], by_field.json()["state"]) == ("handled", "handled")


def test_json_action_and_logout_on_a_cookie_session_need_the_token(
    client: TestClient, world: World
) -> None:
    token = _cookie_session(client, "gw_a1")
    url = f"/api/tasks/{world.tasks['a1']}/accept"
    assert client.post(url, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/auth/logout", headers={"Origin": OURS}).status_code == 403
    referer = {"Referer": f"{OURS}/map?task=1", "X-CSRF-Token": token}
    assert client.post(url, headers=referer).json()["state"] == "accepted"
    ours = {"Origin": OURS, "X-CSRF-Token": token}
    assert client.post("/api/auth/logout", headers=ours).status_code == 204


def test_form_login_is_checked_and_only_the_csrf_cookie_is_script_readable(
    client: TestClient,
) -> None:
    form = {"username": "admin", "password": PASSWORD}
    forged = client.post("/api/auth/login", data=form, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403
    assert "wangge_token" not in forged.cookies
    client.get("/login")  # the login page hands out the csrf cookie
    token = client.cookies["wangge_csrf"]
    assert client.post("/api/auth/login", data=form, headers={"Origin": OURS}).status_code == 403
    ours = client.post(
        "/api/auth/login", data=form | {"csrf_token": token}, headers={"Origin": OURS}
    )
    assert ours.status_code == 200
    cookies = {c.split("=", 1)[0]: c.lower() for c in ours.headers.get_list("set-cookie")}
    assert "httponly" in cookies["wangge_token"]
    assert "httponly" not in cookies["wangge_csrf"]
    assert "samesite=strict" in cookies["wangge_csrf"]
    assert cookies["wangge_csrf"] != f"wangge_csrf={token.lower()}"  # a fresh token per login


def _set_cookies(client: TestClient, headers: dict | None = None) -> list[str]:
    response = client.post(
        "/api/auth/login", json={"username": "admin", "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200
    return [c.lower() for c in response.headers.get_list("set-cookie")]


SECURE_CASES = [
    # peer, settings, request headers, whether cookies must be Secure
    (("192.0.2.1", 1), {}, None, False),
    (("192.0.2.1", 1), {"api_cookie_secure": True}, None, True),
    (("10.0.0.1", 1), {"api_trusted_proxies": ["10.0.0.1"]}, {"X-Forwarded-Proto": "https"}, True),
    (
        ("192.0.2.1", 1),
        {"api_trusted_proxies": ["10.0.0.1"]},
        {"X-Forwarded-Proto": "https"},
        False,
    ),
]


def test_cookies_are_secure_over_https(database_url: str, tmp_path: Path, world: World) -> None:
    for peer, overrides, headers, secure in SECURE_CASES:
        with api_client(database_url, tmp_path, peer, **overrides) as client:
            cookies = _set_cookies(client, headers)
        assert len(cookies) == 2
        assert all(("; secure" in cookie) is secure for cookie in cookies), (overrides, headers)
    with api_client(database_url, tmp_path) as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        assert all("; secure" in cookie for cookie in _set_cookies(client))
