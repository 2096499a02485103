"""The operators' map loads offline: every script, style and data request goes to the app's
own host, the page is Chinese first with English on a toggle, and grids are drawn in the
colours of their state."""

from __future__ import annotations

from gis.db import connect
from tests.api_world import GRID_A1, GRID_A2, GRID_B1
from tests.browser_helpers import (
    BrowserSession,
    MapServer,
    hue_degrees,
    pixel_rgb,
    screen_point,
)

pytest_plugins = ["tests.browser_helpers"]

# Inside each grid, away from task markers and outlines (the world's grids are 0.01° wide).
SAMPLE_POINTS = {
    GRID_A1: (109.8025, 40.616),
    GRID_A2: (109.8125, 40.616),
    GRID_B1: (109.825, 40.616),
}


def grid_hue(session: BrowserSession, code: str) -> float:
    return hue_degrees(pixel_rgb(session, *screen_point(session, *SAMPLE_POINTS[code])))


def test_map_offline_chinese_first_no_foreign_request(map_server: MapServer, browser_session):
    with connect(map_server.database_url) as conn:
        # A1 stays urgent; A2 becomes an ordinary open task; B1's task is closed: quiet.
        conn.execute(
            "UPDATE task SET urgency = 'normal' WHERE id = %s", (map_server.world.tasks["a2"],)
        )
        conn.execute(
            "UPDATE task SET state = 'closed' WHERE id = %s", (map_server.world.tasks["b1"],)
        )
    session = browser_session(map_server.url)
    session.login("op_street")
    page = session.page
    session.screenshot("map_zh")

    assert page.inner_text(".brand h1") == "网格化管理 · 指挥中心实时地图"
    assert page.evaluate("window.wangge.grids.count") == 3
    page.wait_for_function("document.querySelector('#live-status').dataset.state === 'live'")
    assert page.inner_text("#live-status") == "实时已连接"
    assert page.inner_text("#base-notice").startswith("底图：无（离线")
    rows = page.locator("#task-list .task-row")
    assert rows.count() == 2  # the two open tasks of the street
    hues = {code: grid_hue(session, code) for code in SAMPLE_POINTS}
    assert hues[GRID_A1] < 12 or hues[GRID_A1] > 350, hues  # urgent: red
    assert 25 < hues[GRID_A2] < 50, hues  # open: orange
    assert 90 < hues[GRID_B1] < 160, hues  # quiet: green

    page.click("#lang-toggle")
    assert page.inner_text(".brand h1") == "Wangge · Operations live map"
    assert page.inner_text("#live-status") == "Live"
    assert page.locator("#task-list .badge.urgent").first.inner_text() == "Urgent"
    session.screenshot("map_en")
    page.reload()
    session.wait_until_ready()
    assert page.inner_text(".brand h1") == "Wangge · Operations live map"  # remembered

    assert session.foreign_requests() == []
    assert session.console_errors == []
    assert any("/static/map/vendor/leaflet/leaflet.js" in url for url in session.requests)
