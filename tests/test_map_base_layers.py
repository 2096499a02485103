"""Base layers by setting: a local tile folder served by the API (offline), AMap tiles in
GCJ-02 with every overlay shifted onto them by the same formula as gis/crs.py, Tianditu
without a key falling back to outlines; each page's Content Security Policy allows exactly
the configured tile hosts."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np

from gis.crs import wgs84_to_gcj02
from tests.browser_helpers import BrowserSession, map_server_on, png_bytes

pytest_plugins = ["tests.browser_helpers"]

WORLD_BBOX = (109.79, 40.59, 109.85, 40.63)
EARTH_RADIUS = 6378137.0


def _tile_range(zoom: int) -> tuple[range, range]:
    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2**zoom
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    (x0, y0), (x1, y1) = tile(WORLD_BBOX[0], WORLD_BBOX[3]), tile(WORLD_BBOX[2], WORLD_BBOX[1])
    return range(x0 - 1, x1 + 2), range(y0 - 1, y1 + 2)


def _write_tiles(folder: Path) -> None:
    tile = png_bytes((200, 220, 235), size=8)
    for zoom in range(12, 18):
        xs, ys = _tile_range(zoom)
        for x in xs:
            (folder / str(zoom) / str(x)).mkdir(parents=True, exist_ok=True)
            for y in ys:
                (folder / str(zoom) / str(x) / f"{y}.png").write_bytes(tile)


def _open(browser_session, url: str, username: str = "op_street") -> BrowserSession:
    session = browser_session(url)
    session.login(username)
    return session


def test_map_local_tiles_come_from_the_app(database_url: str, tmp_path: Path, browser_session):
    tiles = tmp_path / "tiles"
    _write_tiles(tiles)
    with map_server_on(
        database_url, tmp_path / "run", map_base_layer="local", map_tile_dir=tiles
    ) as server:
        session = browser_session(server.url)
        statuses: dict[str, int] = {}
        session.page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
        session.login("op_street")
        session.page.wait_for_function(
            "document.querySelectorAll('img.leaflet-tile-loaded').length > 0"
        )
        tile_urls = [u for u in statuses if urlsplit(u).path.startswith("/tiles/")]
        assert tile_urls and all(statuses[u] == 200 for u in tile_urls)
        assert session.page.inner_text("#base-notice") == "底图：本地瓦片（离线）"
        assert session.foreign_requests() == []
        csp = httpx.get(f"{server.url}/login").headers["content-security-policy"]
        assert "img-src 'self' data: blob:;" in csp
        session.screenshot("local_tiles")


def test_map_amap_tiles_shift_overlays_to_gcj02(database_url: str, tmp_path: Path, browser_session):
    with map_server_on(database_url, tmp_path / "run", map_base_layer="amap") as server:
        session = browser_session(server.url)
        tile_requests: list[str] = []

        def fake_amap(route) -> None:  # the test machine is offline: answer for AMap
            tile_requests.append(route.request.url)
            route.fulfill(status=200, content_type="image/png", body=png_bytes((230, 230, 220)))

        session.context.route("https://*.is.autonavi.com/**", fake_amap)
        session.login("op_street")
        page = session.page
        page.wait_for_function("document.querySelectorAll('img.leaflet-tile-loaded').length > 0")
        assert "GCJ-02" in page.inner_text("#base-notice")
        assert {urlsplit(u).netloc for u in tile_requests} <= {
            f"webrd0{s}.is.autonavi.com" for s in "1234"
        }
        assert {urlsplit(u).netloc for u in session.foreign_requests()} == {
            urlsplit(u).netloc for u in tile_requests
        }  # nothing else leaves the host
        token = next(c["value"] for c in session.context.cookies() if c["name"] == "wangge_token")
        csp = httpx.get(f"{server.url}/map", cookies={"wangge_token": token}).headers[
            "content-security-policy"
        ]
        assert "https://webrd01.is.autonavi.com" in csp and "connect-src 'self'" in csp

        # The page projects WGS84 through GCJ-02: the same numbers as gis/crs.py.
        points = np.array([[109.805, 40.61], [109.83, 40.615], [111.65, 40.82], [121.5, 31.24]])
        gcj = wgs84_to_gcj02(points)
        expected = np.column_stack(
            (
                EARTH_RADIUS * np.radians(gcj[:, 0]),
                EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(gcj[:, 1]) / 2)),
            )
        )
        projected = np.array(
            page.evaluate(
                """points => points.map(([lon, lat]) => {
                    const p = window.wangge.map.options.crs.projection.project(L.latLng(lat, lon));
                    return [p.x, p.y];
                })""",
                points.tolist(),
            )
        )
        assert np.abs(projected - expected).max() < 0.01  # metres
        back = np.array(
            page.evaluate(
                """points => points.map(([x, y]) => {
                    const ll = window.wangge.map.options.crs.projection.unproject(L.point(x, y));
                    return [ll.lng, ll.lat];
                })""",
                projected.tolist(),
            )
        )
        assert np.abs(back - points).max() < 1e-8  # the inverse lands back on WGS84
        session.screenshot("amap_gcj02")


def test_map_tianditu_without_key_shows_outlines_only(
    database_url: str, tmp_path: Path, browser_session
):
    with map_server_on(database_url, tmp_path / "run", map_base_layer="tianditu") as server:
        session = _open(browser_session, server.url)
        assert session.page.inner_text("#base-notice") == "底图：天地图未配置密钥，仅显示边界"
        assert session.page.locator("img.leaflet-tile").count() == 0
        assert session.foreign_requests() == []
