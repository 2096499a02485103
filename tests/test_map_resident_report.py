"""In real headless Chromium on a phone (390×844, touch): a resident reports with a photo
from /report, follows the link, sees the state change as the grid worker handles the task
(driven through the API), and evaluates 不满意 → reopened. And the operators' task panel
shows the urgent ladder's delivery rows (who, channel, sent / seen / accepted)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gis.db import connect
from tests.api_world import GRID_A2, PASSWORD
from tests.browser_helpers import BrowserSession, MapServer, map_server_on

pytest_plugins = ["tests.browser_helpers"]

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
A2_SAMPLE = (109.8125, 40.61)


@pytest.fixture
def report_server(database_url: str, tmp_path: Path) -> Iterator[MapServer]:
    # No minimum fill time here: the API test proves a too-fast form is refused.
    with map_server_on(database_url, tmp_path / "run", report_min_fill_s=0) as server:
        yield server


def big_photo(path: Path) -> Path:
    """A 3200×2400 photo of several MB: fine detail, like a real one, not flat colour."""
    size = (3200, 2400)
    detail = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 200)
    noise = Image.effect_noise(size, 24)
    Image.merge("RGB", (detail, noise, Image.linear_gradient("L").resize(size))).save(
        path, "JPEG", quality=97
    )
    assert path.stat().st_size > 1_000_000
    return path


def follow_state(session: BrowserSession, state: str) -> None:
    session.page.evaluate("window.wangge.reload()")
    session.page.wait_for_function(
        "s => document.getElementById('follow-state')?.dataset.state === s", arg=state
    )


def as_worker(url: str, task: int, *steps: tuple[str, dict | None]) -> None:
    with httpx.Client(base_url=url) as client:
        login = client.post("/api/auth/login", json={"username": "gw_a2", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for step, data in steps:
            answer = client.post(f"/api/tasks/{task}/{step}", headers=bearer, data=data)
            assert answer.status_code == 200, answer.text


def test_resident_reports_follows_and_reopens(report_server, browser_session, tmp_path):
    resident = browser_session(report_server.url, **PHONE)
    page = resident.page
    page.goto(f"{report_server.url}/report")
    page.wait_for_function("window.wangge?.map !== undefined")
    x, y = page.evaluate(
        """([lon, lat]) => { const m = window.wangge.map; const p = m.latLngToContainerPoint([lat, lon]);
            const b = m.getContainer().getBoundingClientRect(); return [b.left + p.x, b.top + p.y]; }""",
        list(A2_SAMPLE),
    )
    page.touchscreen.tap(x, y)
    page.select_option("#report-service", "facility")
    page.fill("#report-description", "路灯不亮")
    page.set_input_files("#report-photo", str(big_photo(tmp_path / "big.jpg")))
    page.tap("#report-submit")
    link = page.wait_for_selector("#report-follow").get_attribute("href")
    assert link.startswith("/report/follow/")

    with connect(report_server.database_url) as conn:
        task, grid, assignee, state = conn.execute(
            "SELECT id, grid_code, assignee_id, state FROM task WHERE location_method = 'resident'"
        ).fetchone()
        [photo] = conn.execute(
            "SELECT data->'photos'->>0 FROM task_transition WHERE task_id = %s "
            "AND to_state = 'reported'",
            (task,),
        ).fetchone()
    assert (grid, assignee, state) == (GRID_A2, "w_a2", "dispatched")
    stored = report_server.app.state.settings.upload_dir / "tasks" / str(task) / photo
    assert stored.stat().st_size <= 300 * 1024
    assert max(Image.open(io.BytesIO(stored.read_bytes())).size) <= 1600

    page.goto(f"{report_server.url}{link}")
    page.wait_for_function("window.wangge?.reload !== undefined")
    follow_state(resident, "dispatched")
    as_worker(report_server.url, task, ("accept", None), ("start", None))
    follow_state(resident, "in_progress")
    as_worker(report_server.url, task, ("handled", {"note": "已更换灯泡"}))
    follow_state(resident, "handled")
    page.tap("#follow-unsatisfied")
    page.wait_for_function("document.getElementById('follow-state')?.dataset.state === 'reopened'")
    shown = page.inner_text("#report-main")
    assert "二次办理" in shown
    assert not any(secret in shown for secret in ("w_a2", "gw_a2", "网格员甲二", "已更换灯泡"))
    assert resident.foreign_requests() == []
    assert resident.console_errors == []
    page.goto(f"{report_server.url}/report/follow/wrong-token")
    assert "没有这个跟踪链接" in page.content()


def test_task_panel_shows_deliveries(map_server, browser_session):
    task = map_server.world.tasks["a1"]
    with connect(map_server.database_url) as conn:
        conn.execute(
            "INSERT INTO delivery (task_id, worker_id, step, channel, state, created_at, sent_at, "
            "seen_at, acknowledged_at) VALUES "
            "(%(t)s, 'w_a1', 'instant', 'wecom_app', 'acknowledged', now() - interval '90 s', "
            "now() - interval '89 s', now() - interval '60 s', now() - interval '30 s'), "
            "(%(t)s, 'head_a', 'sms', 'aliyun_sms', 'sent', now() - interval '30 s', "
            "now() - interval '28 s', NULL, NULL)",
            {"t": task},
        )
    operator = browser_session(map_server.url)
    operator.login("op_a")
    operator.page.click(f"#task-list [data-id='{task}']")
    rows = operator.page.locator("#task-detail table.deliveries tbody tr")
    rows.first.wait_for()
    texts = {
        r.get_attribute("data-worker") + "/" + r.get_attribute("data-channel"): r.inner_text()
        for r in rows.all()
    }
    assert "w_a1/wecom_app" in texts and "head_a/aliyun_sms" in texts
    assert "已签收" in texts["w_a1/wecom_app"] and "(+60 s)" in texts["w_a1/wecom_app"]
    assert "短信" in texts["head_a/aliyun_sms"] and "(+2 s)" in texts["head_a/aliyun_sms"]
