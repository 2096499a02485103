"""The map's pages and files as the API serves them: /map needs a session and opens on the
user's own area, /login keeps visitors on this site, static files stay inside their folder,
every vendored library ships with its licence, and every page carries a same-origin CSP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis.db import connect
from maps import STATIC_DIR
from tests.api_world import COMMUNITY_A, PASSWORD, api_client, seed_world

CSP_SAME_ORIGIN = "default-src 'self'; script-src 'self'"


@pytest.fixture
def client(database_url: str, tmp_path: Path):
    seed_world(database_url)
    with api_client(database_url, tmp_path) as client:
        yield client


def _config(html: str) -> dict:
    block = re.search(r'<script id="wangge-config" type="application/json">(.*?)</script>', html)
    return json.loads(block.group(1))


def _log_in(client: TestClient, username: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200  # the cookie stays in the client's jar


def test_map_page_needs_a_session(client: TestClient):
    response = client.get("/map", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/map"
    linked = client.get("/map?task=7", follow_redirects=False)
    assert linked.headers["location"] == "/login?next=/map%3Ftask%3D7"
    login = client.get("/login?next=/map")
    assert login.status_code == 200
    assert login.headers["content-security-policy"].startswith(CSP_SAME_ORIGIN)
    assert "<title>网格化管理平台 · 登录</title>" in login.text


def test_map_page_opens_on_the_users_area(client: TestClient):
    _log_in(client, "op_a")
    response = client.get("/map")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith(CSP_SAME_ORIGIN)
    config = _config(response.text)
    assert config["user"]["username"] == "op_a"
    assert config["user"]["scope_code"] == COMMUNITY_A
    assert config["bounds"] == pytest.approx([109.80, 40.60, 109.82, 40.62])  # community A
    assert config["lang"] == "zh-CN"
    assert 'lang="zh-CN"' in response.text and "指挥中心实时地图" in response.text
    client.cookies.set("wangge_lang", "en")
    english = client.get("/map")
    assert _config(english.text)["lang"] == "en"
    assert "Operations live map" in english.text


def test_map_config_cannot_close_its_script_block(client: TestClient, database_url: str):
    with connect(database_url) as conn:
        conn.execute("UPDATE app_user SET display_name = '</script><b>x' WHERE username = 'op_a'")
    _log_in(client, "op_a")
    html = client.get("/map").text
    assert "</script><b>" not in html
    assert _config(html)["user"]["display_name"] == "</script><b>x"


def test_map_static_files_stay_in_their_folder(client: TestClient):
    script = client.get("/static/map/js/main.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "max-age" in script.headers["cache-control"]
    etag = script.headers["etag"]
    assert client.get("/static/map/js/main.js", headers={"If-None-Match": etag}).status_code == 304
    for path in ("../../api/app.py", "..%2F..%2Fapi%2Fapp.py", "%2e%2e/%2e%2e/pyproject.toml"):
        assert client.get(f"/static/map/{path}").status_code == 404, path
    assert client.get("/tiles/1/1/1.png").status_code == 404  # local tiles are off


def test_map_vendored_libraries_have_their_licences_and_no_source_maps():
    vendor = STATIC_DIR / "vendor"
    sources = (vendor / "SOURCES.md").read_text()
    for library in ("leaflet", "markercluster", "swagger-ui"):
        assert (vendor / library / "LICENSE").read_text().strip()
        assert f"`{library}/`" in sources
    for script in vendor.rglob("*.js"):
        assert "sourceMappingURL" not in script.read_text(), script
    assert not list(vendor.rglob("*.map"))
