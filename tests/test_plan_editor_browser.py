"""The plan editor driven in real headless Chromium as a planner: propose for a community,
move buildings by click and lasso (counts change), undo/redo, fix a grid, save, apply from
a date, then the live map's API answers with the new grids and a past date with the old."""

from __future__ import annotations

import os
import re

import pytest

from gis.db import connect
from gis.redistrict_apply import store
from tests.api_world import COMMUNITY_A, GRID_A1, GRID_A2
from tests.browser_helpers import WAIT_MS, screen_point
from tests.editor_world import add_houses

pytest_plugins = ["tests.browser_helpers"]
pytestmark = pytest.mark.skipif(
    os.environ.get("WANGGE_WITH_BROWSER") != "1", reason="browser test: WANGGE_WITH_BROWSER=1"
)


def _totals(page) -> dict[str, int]:
    return page.evaluate("Object.fromEntries(window.wangge.state.draft.totals)")


def _neighbour_in_other_grid(page, grid: str) -> int:
    """Index of a building outside ``grid`` that touches it."""
    return page.evaluate(
        """(grid) => {
            const d = window.wangge.state.draft;
            for (const i of d.members.get(grid))
                for (const v of d.neighbours[i]) if (d.grid[v] !== grid) return v;
            return -1;
        }""",
        grid,
    )


def test_planner_edits_and_applies_a_plan(map_server, browser_session) -> None:
    add_houses(map_server.database_url)
    session = browser_session(map_server.url)
    session.login("planner")
    page = session.page
    page.goto(f"{map_server.url}/plan")
    session.wait_until_ready()
    page.select_option("#community", COMMUNITY_A)
    page.click("#propose")
    page.wait_for_url(re.compile(r"/plan\?plan=\d+"), timeout=WAIT_MS * 4)
    session.wait_until_ready()
    page.wait_for_selector("#grid-rows tr", timeout=WAIT_MS)
    session.screenshot("proposed")

    before = _totals(page)
    grid = sorted(before)[0]
    page.click(f'#grid-rows tr[data-code="{grid}"] td.households')
    # Click: a neighbouring building joins the active grid.
    target = _neighbour_in_other_grid(page, grid)
    lon, lat = page.evaluate("(i) => window.wangge.state.centres[i]", target)
    page.mouse.click(*screen_point(session, lon, lat))
    page.wait_for_function(
        "([g, n]) => window.wangge.state.draft.totals.get(g) > n", arg=[grid, before[grid]]
    )
    after_click = _totals(page)
    assert sum(after_click.values()) == sum(before.values())
    # Lasso: a square around another neighbour.
    page.click('button[data-mode="lasso"]')
    other = _neighbour_in_other_grid(page, grid)
    lon, lat = page.evaluate("(i) => window.wangge.state.centres[i]", other)
    x, y = screen_point(session, lon, lat)
    page.mouse.move(x - 8, y - 8)
    page.mouse.down()
    for dx, dy in ((8, -8), (8, 8), (-8, 8), (-8, -8)):
        page.mouse.move(x + dx, y + dy, steps=3)
    page.mouse.up()
    page.wait_for_function(
        "([g, n]) => window.wangge.state.draft.totals.get(g) > n", arg=[grid, after_click[grid]]
    )
    after_lasso = _totals(page)
    times = page.evaluate("window.wangge.moveTimes")
    print(f"move → counts + contiguity: {', '.join(f'{ms:.2f} ms' for ms in times)} (browser)")
    shown = page.inner_text(f'#grid-rows tr[data-code="{grid}"] td.households')
    assert int(shown) == after_lasso[grid]

    page.click("#undo")
    assert _totals(page) == after_click
    page.click("#redo")
    assert _totals(page) == after_lasso

    # Fix the grid the moves pushed about: every grid comes back into the band.
    page.click('button[data-mode="click"]')
    page.click(f'#grid-rows tr[data-code="{grid}"] td.households')
    page.click("#fix-grid")
    page.wait_for_function(
        "window.wangge.lastFixMs !== undefined && window.wangge.state.draft.problems().length === 0",
        timeout=WAIT_MS,
    )
    print(f"fix this grid: {page.evaluate('window.wangge.lastFixMs'):.0f} ms (browser round trip)")
    fixed = _totals(page)
    assert all(300 <= h <= 500 for h in fixed.values()), fixed
    page.click("#compare")
    page.wait_for_function("window.wangge.currentMap !== undefined")
    session.screenshot("fixed_side_by_side")

    page.click("#save")
    page.wait_for_function("!window.wangge.state.dirty", timeout=WAIT_MS)
    # The planner sends 网格员甲二 (w_a2) to the last grid instead of where it would go.
    last = max(fixed)
    page.wait_for_selector('#worker-rows select[data-worker="w_a2"]')
    page.select_option('#worker-rows select[data-worker="w_a2"]', last)
    page.fill("#valid-from", "2026-06-01")
    page.click("#apply")
    page.wait_for_function("window.wangge.applied !== undefined", timeout=WAIT_MS)
    created = [g["code"] for g in page.evaluate("window.wangge.applied.grids_created")]
    assert set(created) == set(fixed)
    moved = page.evaluate("window.wangge.applied.assignments_moved")
    assert {"worker_id": "w_a2", "role": "full_time", "from": GRID_A2, "to": last} in moved
    session.screenshot("applied")

    page.goto(f"{map_server.url}/map")
    session.wait_until_ready()
    now = page.evaluate("fetch('/api/grids?point=109.815,40.61').then((r) => r.json())")["features"]
    past = page.evaluate(
        "fetch('/api/grids?point=109.815,40.61&at=2026-03-01T00:00:00Z').then((r) => r.json())"
    )["features"]
    assert [f["properties"]["code"] for f in now][0] in created
    assert [f["properties"]["code"] for f in past] == [GRID_A2]
    session.screenshot("live_map_after_apply")
    assert session.foreign_requests() == []
    assert session.console_errors == []


def _grid_of_point(page, lon: float, lat: float) -> str:
    return page.evaluate(
        """([lon, lat]) => {
            const s = window.wangge.state;
            let best = -1, dist = Infinity;
            s.centres.forEach(([x, y], i) => {
                const d = (x - lon) ** 2 + (y - lat) ** 2;
                if (d < dist) { dist = d; best = i; }
            });
            return s.draft.grid[best];
        }""",
        [lon, lat],
    )


def test_brush_lock_conflict_import_and_english(map_server, browser_session, tmp_path) -> None:
    add_houses(map_server.database_url)
    with connect(map_server.database_url) as conn:
        plan_id = store.create_plan(
            conn, COMMUNITY_A, "现状", "planner", store.current_grids(conn, COMMUNITY_A)
        )
    session = browser_session(map_server.url)
    session.login("planner")
    page = session.page
    page.goto(f"{map_server.url}/plan?plan={plan_id}")
    session.wait_until_ready()
    page.wait_for_selector("#grid-rows tr", timeout=WAIT_MS)

    # The current grids hold ~1,600 households each: both are problems.
    page.click("#next-problem")
    assert page.evaluate("window.wangge.state.active") == GRID_A1
    assert "户数过多" in page.inner_text("#banner-text")
    page.evaluate(
        "void window.wangge.map.fitBounds([[40.60, 109.80], [40.62, 109.82]], { animate: false })"
    )

    # Brush along the southern row: three buildings of 001 join 002.
    row = [(109.801, 40.6015), (109.803, 40.6015), (109.805, 40.6015)]
    assert {_grid_of_point(page, *p) for p in row} == {GRID_A1}
    page.click(f'#grid-rows tr[data-code="{GRID_A2}"] td.households')
    page.click('button[data-mode="brush"]')
    x0, y0 = screen_point(session, 109.8003, 40.6015)
    x1, y1 = screen_point(session, 109.8052, 40.6015)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=25)
    page.mouse.up()
    assert {_grid_of_point(page, *p) for p in row} == {GRID_A2}

    # A locked grid gives nothing away.
    page.check(f'#grid-rows tr[data-code="{GRID_A2}"] input[type="checkbox"]')
    page.click('button[data-mode="click"]')
    page.click(f'#grid-rows tr[data-code="{GRID_A1}"] td.households')
    page.mouse.click(*screen_point(session, *row[0]))
    assert _grid_of_point(page, *row[0]) == GRID_A2
    page.uncheck(f'#grid-rows tr[data-code="{GRID_A2}"] input[type="checkbox"]')

    # Someone else saves meanwhile: saving says so and offers to reload.
    with connect(map_server.database_url) as conn:
        conn.execute("UPDATE grid_plan SET version = version + 1 WHERE id = %s", (plan_id,))
    page.click("#save")
    page.wait_for_selector("#reload:not([hidden])", timeout=WAIT_MS)
    assert "其他人已保存" in page.inner_text("#banner-text")
    page.click("#reload")
    page.wait_for_function("!window.wangge.state.dirty && window.wangge.state.version === 2")
    assert _grid_of_point(page, *row[0]) == GRID_A1  # the server's draft again

    # Export GeoJSON and import it back.
    with page.expect_download() as download:
        page.click("#export-geojson")
    path = tmp_path / "plan.geojson"
    download.value.save_as(path)
    page.set_input_files("#import", str(path))
    page.wait_for_function(
        "document.getElementById('banner-text').textContent.includes('已导入')", timeout=WAIT_MS
    )
    assert page.evaluate("window.wangge.state.version") == 3

    page.click("#lang-toggle")
    assert page.inner_text("#save") == "Save draft"
    assert "2 grids" in page.inner_text("#summary")
    assert session.foreign_requests() == []
    # Chromium logs the refused save (409) itself; nothing else may go wrong.
    assert [e for e in session.console_errors if "409 (Conflict)" not in e] == []
