"""Map benchmark: the operators' map with ~10k grids in real headless Chromium.

Builds its own database (map_city.py: ~10k generated grids tessellating the real 昆都仑区,
2,000 open and 18,000 finished tasks, a district operator), starts the API as its own
process and measures, with the session cookie already set:

* render_interactive_s — from the start of navigation to /map until (1) the map is ready:
  every grid of the district view drawn on the canvas, the open tasks listed and their
  markers placed, and a frame painted (``window.wangge.ready``), and (2) a click on a grid,
  at its place on screen, has opened the grid panel with that grid's details from the API
  (checked against ``/api/grids?point=``). Before every run a task changes, so the API's
  grid-layer cache is cold; every run has a fresh browser context (cold browser cache).
* zoom_in/pan/zoom_in_2/zoom_out_settle_ms — from the call until the grids of the new view
  are on screen: fetched if the loaded ones do not cover it, drawn, painted. One zoom step
  in and small pans reuse what is loaded; two more steps in and back out fetch again.
* live — 1,000 new tasks committed in 10 transactions back to back: seconds from the first
  commit until all 1,000 markers are on the map, the longest frame during the burst and
  the slowest batch of live messages the page applied.

Prints its figures, then one JSON line.

    .venv/bin/python benchmarks/map.py [--grids 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if not __package__:  # run as a file: the repository root, not benchmarks/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx
from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.map_city import WANGGE, City, create_city, drop_city, login_token, serve
from gis.db import connect
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

TARGET_S = 2.0
LIVE_TASKS = 1000
LIVE_COMMITS = 10

# Waits in the page, polling once a frame, then lets the browser paint.
SETTLE_JS = """
async ([action, zoom]) => {
  const w = window.wangge;
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const started = performance.now();
  if (action === 'zoom') w.map.setZoom(zoom, { animate: false });
  else w.map.panBy([400, 250], { animate: false });
  const target = Math.round(w.map.getZoom());
  await frame();
  while (!(w.grids.loader.controller === null && w.grids.loader.covers(w.map.getBounds(), target)))
    await frame();
  await frame();
  await frame();
  return performance.now() - started;
}
"""

# A grid whose centre is not covered by a marker: the click must reach the grid itself.
CLICK_TARGET_JS = """
() => {
  const w = window.wangge;
  const box = w.map.getContainer().getBoundingClientRect();
  const middle = w.map.getSize().divideBy(2);
  const candidates = [...w.grids.byCode.values()]
    .map((layer) => [layer, w.map.latLngToContainerPoint(layer.getBounds().getCenter())])
    .sort((a, b) => a[1].distanceTo(middle) - b[1].distanceTo(middle));
  for (const [layer, p] of candidates) {
    const hit = document.elementFromPoint(box.left + p.x, box.top + p.y);
    if (hit && hit.tagName === 'CANVAS' && hit.closest('.leaflet-grids-pane')) {
      const at = w.map.containerPointToLatLng(p);
      return [box.left + p.x, box.top + p.y, at.lng, at.lat];
    }
  }
  return null;
}
"""

FRAME_WATCH_JS = """
() => {
  window.__frames = [];
  window.__watching = true;
  let last = performance.now();
  const tick = (now) => {
    window.__frames.push(now - last);
    last = now;
    if (window.__watching) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
"""


def _touch_a_task(city: City) -> None:
    """Any task change invalidates the API's grid-layer cache (as on a busy day)."""
    with connect(city.database_url) as conn:
        conn.execute("UPDATE task SET updated_at = now() WHERE id = (SELECT min(id) FROM task)")


def _new_page(browser: Browser, base_url: str, token: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
    context.add_cookies([{"name": "wangge_token", "value": token, "url": base_url}])
    return context.new_page()


def measure_render(browser: Browser, base_url: str, token: str, city: City) -> dict:
    _touch_a_task(city)
    time.sleep(0.3)  # the API's LISTEN connection sees the change
    page = _new_page(browser, base_url, token)
    started = time.monotonic()
    page.goto(f"{base_url}/map")
    page.wait_for_function("window.wangge !== undefined")
    page.evaluate("window.wangge.ready")
    ready_s = time.monotonic() - started
    x, y, lon, lat = page.evaluate(CLICK_TARGET_JS)
    clicked = time.monotonic()
    page.mouse.click(x, y)
    page.wait_for_selector("#grid-detail .chip.code")
    click_s = time.monotonic() - clicked
    shown = page.inner_text("#grid-detail .chip.code")
    with httpx.Client(base_url=base_url, cookies={"wangge_token": token}) as client:
        expected = client.get("/api/grids", params={"point": f"{lon},{lat}"}).json()
    assert [f["id"] for f in expected["features"]] == [shown], (shown, expected)
    figures = {
        "ready_s": ready_s,
        "click_to_panel_s": click_s,
        "render_interactive_s": ready_s + click_s,
        "grids_drawn": page.evaluate("window.wangge.grids.count"),
        "markers": page.evaluate("window.wangge.markers.count"),
        "zoom": page.evaluate("window.wangge.map.getZoom()"),
    }
    page.context.close()
    return figures


def measure_navigation(page: Page) -> dict:
    zoom = page.evaluate("window.wangge.map.getZoom()")
    return {
        "zoom_in_settle_ms": page.evaluate(SETTLE_JS, ["zoom", zoom + 1]),
        "pan_settle_ms": page.evaluate(SETTLE_JS, ["pan", None]),
        "zoom_in_2_settle_ms": page.evaluate(SETTLE_JS, ["zoom", zoom + 3]),
        "zoom_out_settle_ms": page.evaluate(SETTLE_JS, ["zoom", zoom]),
    }


def commit_live_tasks(city: City) -> float:
    """LIVE_TASKS urgent tasks on spread-out grids, in LIVE_COMMITS transactions; returns
    the time of the first commit."""
    per_commit = LIVE_TASKS // LIVE_COMMITS
    codes = city.grid_codes[:: max(1, len(city.grid_codes) // LIVE_TASKS)][:LIVE_TASKS]
    first = None
    with connect(city.database_url) as conn:
        for start in range(0, LIVE_TASKS, per_commit):
            conn.cursor().executemany(
                "INSERT INTO task (grid_code, community_code, state, urgency, category, title, "
                "due_at) VALUES (%s, left(%s, 12), 'dispatched', 'urgent', 'fire', %s, "
                "now() + interval '30 minutes')",
                [
                    (c, c, f"实时压测 {start + i}")
                    for i, c in enumerate(codes[start : start + per_commit])
                ],
            )
            conn.commit()
            first = first or time.monotonic()
    return first


def measure_live(page: Page, city: City) -> dict:
    before = page.evaluate("window.wangge.markers.count")
    page.evaluate(FRAME_WATCH_JS)
    first_commit = commit_live_tasks(city)
    page.wait_for_function(
        "n => window.wangge.markers.count >= n", arg=before + LIVE_TASKS, timeout=60_000
    )
    all_visible_s = time.monotonic() - first_commit
    frames = page.evaluate("() => { window.__watching = false; return window.__frames; }")
    return {
        "live_updates": LIVE_TASKS,
        "live_all_visible_s": all_visible_s,
        "live_max_frame_ms": max(frames),
        "live_p95_frame_ms": statistics.quantiles(frames, n=20)[-1],
        "live_slowest_batch_ms": page.evaluate("window.wangge.stats.slowestBatchMs"),
        "live_resyncs": page.evaluate("window.wangge.stats.resyncs"),
        "markers_after_live": page.evaluate("window.wangge.markers.count"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-zenhei")
    city = create_city("wangge_bench_map", args.grids, open_tasks=2000, closed_tasks=18_000)
    try:
        with (
            serve(
                lambda port: [str(WANGGE), "api", "serve", "--port", str(port)], city.database_url
            ) as url,
            sync_playwright() as playwright,
        ):
            token = login_token(url)
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            runs = []
            for run in range(args.runs):
                runs.append(measure_render(browser, url, token, city))
                print(f"run {run + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()))
            page = _new_page(browser, url, token)
            page.goto(f"{url}/map")
            page.evaluate("window.wangge.ready")
            navigation = measure_navigation(page)
            live = measure_live(page, city)
            navigation_after = {
                f"{key}_with_live": value for key, value in measure_navigation(page).items()
            }
            browser.close()
    finally:
        drop_city(city)
    render = [r["render_interactive_s"] for r in runs]
    figures = {
        "grids": len(city.grid_codes),
        "grids_drawn": runs[-1]["grids_drawn"],
        "open_task_markers": runs[-1]["markers"],
        "district_zoom": runs[-1]["zoom"],
        "runs": args.runs,
        "render_interactive_s": round(statistics.median(render), 3),
        "render_interactive_max_s": round(max(render), 3),
        "ready_s": round(statistics.median(r["ready_s"] for r in runs), 3),
        "click_to_panel_ms": round(1000 * statistics.median(r["click_to_panel_s"] for r in runs)),
        **{k: round(v) for k, v in navigation.items()},
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in live.items()},
        **{k: round(v) for k, v in navigation_after.items()},
        "target_s": TARGET_S,
        "render_interactive_over_target": round(statistics.median(render) / TARGET_S, 3),
    }
    for key, value in figures.items():
        print(f"{key:>32}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
