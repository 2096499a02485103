"""Body-size limits on every route (api.body_limit, counted on the streamed bytes), security
headers on every response (api.security_headers), and the API docs behind a setting."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from tests.api_world import GRID_A1, World, api_client, api_settings, login
from tests.browser_helpers import serve

MB = 1024 * 1024


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 × side² bytes."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)).save(out, "PNG")
    return out.getvalue()


def test_a_20_mb_json_body_is_413_before_the_route_runs(client: TestClient, world: World) -> None:
    worker = login(client, "gw_a1")
    url = f"/api/tasks/{world.tasks['a1']}/accept"
    body = b'{"note": "' + b"x" * (20 * MB) + b'"}'
    declared = client.post(url, headers=worker | {"Content-Type": "application/json"}, content=body)
    assert declared.status_code == 413, declared.text[:200]
    assert "上限" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"note": "'
        for _ in range(20):
            yield b"x" * MB
        yield b'"}'

    streamed = client.post(
        url, headers=worker | {"Content-Type": "application/json"}, content=chunks()
    )
    assert streamed.status_code == 413
    assert client.get(f"/api/tasks/{world.tasks['a1']}", headers=worker).json()["state"] == (
        "dispatched"
    )
    # A body that lies about its length is cut off at the limit all the same.
    lying = client.post(
        "/api/auth/login",
        headers={"Content-Type": "application/json", "Content-Length": "20"},
        content=chunks(),
    )
    assert lying.status_code == 413


def test_the_photo_upload_keeps_its_larger_limit(
    database_url: str, tmp_path: Path, world: World
) -> None:
    photo = _noise_png(200)
    assert len(photo) > 100_000
    with api_client(database_url, tmp_path, api_body_max_bytes=50_000) as client:
        worker = login(client, "gw_a1")
        url = f"/api/tasks/{world.tasks['a1']}"
        note = client.post(f"{url}/accept", headers=worker, json={"note": "x" * 60_000})
        assert note.status_code == 413
        for action in ("accept", "start"):
            client.post(f"{url}/{action}", headers=worker)
        handled = client.post(
            f"{url}/handled",
            headers=worker,
            data={"note": "ok"},
            files={"photo": ("p.png", photo, "image/png")},
        )
    assert handled.status_code == 200, handled.text


def test_every_response_carries_the_security_headers(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    responses = {
        "health": client.get("/api/health"),
        "unauthorised": client.get("/api/tasks"),
        "missing": client.get("/api/nowhere", headers=admin),
        "layer": client.get("/api/grids", headers=admin),
        "login page": client.get("/login"),
        "redirect": client.get("/map", follow_redirects=False),
        "asset": client.get("/static/map/js/api.js"),
        "refused": client.post("/api/tasks/1/accept", headers={"Origin": "http://evil.example"}),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["x-frame-options"] == "DENY", name
        assert headers["referrer-policy"] == "same-origin", name
        assert "frame-ancestors 'none'" in headers["content-security-policy"], name
    assert responses["asset"].status_code == 200
    # The map pages keep their own strict policy (scripts from this site only).
    assert "script-src 'self';" in responses["login page"].headers["content-security-policy"]
    assert responses["health"].headers["content-security-policy"].startswith("default-src 'none'")


def test_personal_data_is_never_cached(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    for url in (
        "/api/households",
        f"/api/households/{world.households['a1']}",
        "/api/residents",
        "/api/workers",
        f"/api/grids/{GRID_A1}",
        "/api/auth/me",
    ):
        response = client.get(url, headers=admin)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-store", url
    login_answer = client.post(
        "/api/auth/login", json={"username": "admin", "password": "correct horse 电池"}
    )
    assert login_answer.headers["cache-control"] == "no-store"


def test_api_docs_follow_the_setting(database_url: str, tmp_path: Path, world: World) -> None:
    with api_client(database_url, tmp_path) as development:
        assert development.get("/docs").status_code == 200
        assert development.get("/openapi.json").status_code == 200
        assert development.get("/redoc").status_code == 404  # its script is not vendored
    with api_client(database_url, tmp_path, api_docs_enabled=False) as hidden:
        for url in ("/docs", "/redoc", "/openapi.json"):
            assert hidden.get(url).status_code == 404, url


def test_api_docs_load_nothing_from_outside(
    database_url: str, tmp_path: Path, world: World
) -> None:
    """Every asset /docs names is a same-origin path the API serves (offline intranets)."""
    with api_client(database_url, tmp_path) as client:
        for url in ("/docs", "/docs/oauth2-redirect"):
            page = client.get(url)
            assert page.status_code == 200, url
            assert not re.findall(r"https?://", page.text), url
        assets = re.findall(
            r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", client.get("/docs").text
        )
        assert {a.rsplit("/", 1)[-1] for a in assets} >= {
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "favicon-32x32.png",
            "openapi.json",
        }
        for asset in assets:
            assert asset.startswith("/"), asset
            assert client.get(asset).status_code == 200, asset


def test_a_chunked_body_over_the_limit_is_cut_off_by_a_real_server(
    database_url: str, tmp_path: Path, world: World
) -> None:
    """Through uvicorn the body arrives in many ``http.request`` messages, without a
    Content-Length: the count across them is what stops it."""
    settings = api_settings(database_url, tmp_path).model_copy(update={"api_body_max_bytes": 8_000})

    def chunks() -> Iterator[bytes]:
        yield b'{"username": "'
        for _ in range(50):
            yield b"x" * 1000
        yield b'", "password": "x"}'

    with serve(create_app(settings)) as url:
        small = httpx.post(f"{url}/api/auth/login", json={"username": "nobody", "password": "x"})
        large = httpx.post(
            f"{url}/api/auth/login",
            headers={"Content-Type": "application/json"},
            content=chunks(),
        )
    assert small.status_code == 401
    assert large.status_code == 413, large.text
