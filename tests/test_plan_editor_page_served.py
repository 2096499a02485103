"""/plan as the API serves it: a session is needed (else /login, then back), planners and
admins only, the same-origin CSP of the live map, zh-CN first and English on request,
every script local."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api_world import COMMUNITY_A, COMMUNITY_B, PASSWORD, api_client, seed_world
from tests.test_map_pages_served import CSP_SAME_ORIGIN, _config


@pytest.fixture
def client(database_url: str, tmp_path: Path):
    seed_world(database_url)
    with api_client(database_url, tmp_path) as client:
        yield client


def _log_in(client: TestClient, username: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200


def test_plan_page_needs_a_session(client: TestClient) -> None:
    response = client.get("/plan?plan=3", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/plan%3Fplan%3D3"


def test_plan_page_for_planners_with_the_maps_csp(client: TestClient) -> None:
    _log_in(client, "planner")
    response = client.get("/plan?plan=3")
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith(CSP_SAME_ORIGIN)
    assert response.headers["cache-control"] == "no-store"
    config = _config(response.text)
    assert config["plan_id"] == 3 and config["lang"] == "zh-CN"
    assert [c["code"] for c in config["communities"]] == [COMMUNITY_A, COMMUNITY_B]
    assert "网格规划编辑器" in response.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(s.startswith(("/", "data:")) for s in sources), sources
    client.cookies.set("wangge_lang", "en")
    assert "Grid plan editor" in client.get("/plan").text


def test_plan_page_refuses_other_roles(client: TestClient) -> None:
    _log_in(client, "op_a")
    response = client.get("/plan")
    assert response.status_code == 403
