"""The task panel drives the work-order loop from the map: the operator dispatches, the grid
worker accepts, starts and reports back with a photo, the operator's evaluation closes it;
each side sees the other's moves live, only its own buttons, and the API's refusals."""

from __future__ import annotations

import httpx

from tests.api_world import GRID_A2, PASSWORD
from tests.browser_helpers import WAIT_MS, MapServer, hue_degrees, pixel_rgb, screen_point
from tests.task_panel import buttons, dispatch, open_task, report_handled, state_of, wait_state

pytest_plugins = ["tests.browser_helpers"]

A2_SAMPLE = (109.8125, 40.616)


def test_map_task_loop_dispatch_accept_handle_evaluate(map_server: MapServer, browser_session):
    task = map_server.world.tasks["a2"]  # filed, no assignee yet
    operator = browser_session(map_server.url)
    operator.login("op_a")
    open_task(operator, task)
    assert state_of(operator) == "filed"
    assert buttons(operator) == {"dispatch", "invalid", "duplicate"}

    dispatch(operator, "w_a2")
    assert "网格员甲二" in operator.page.inner_text("#task-detail .facts")
    operator.screenshot("1_dispatched")

    worker = browser_session(map_server.url)
    worker.login("gw_a2")
    open_task(worker, task)
    assert buttons(worker) == {"accept", "return", "escalate"}  # no desk actions
    worker.page.click("#task-detail [data-action=accept]")
    wait_state(worker, "accepted")
    wait_state(operator, "accepted")  # live, without a reload
    worker.page.click("#task-detail [data-action=start]")
    wait_state(worker, "in_progress")
    report_handled(worker, "已到场核实，系误报，已清理烟源")
    assert worker.page.locator("#task-detail .photos img").count() == 1
    worker.screenshot("2_handled")

    wait_state(operator, "handled")
    assert buttons(operator) == {"evaluate"}
    operator.page.click("#task-detail [data-action=evaluate][data-satisfied=true]")
    wait_state(operator, "closed")
    history = operator.page.inner_text("#task-detail .history")
    for step in ("派单", "签收", "办理中", "处置反馈", "回访评价", "结案"):
        assert step in history
    assert "已到场核实" in history
    operator.screenshot("3_closed")
    # A2 had no other open task: it turns quiet (green) on the operator's map.
    operator.page.wait_for_function(
        "c => window.wangge.grids.displayState("
        "window.wangge.grids.byCode.get(c).feature.properties) === 'ok'",
        arg=GRID_A2,
        timeout=WAIT_MS,
    )
    assert 90 < hue_degrees(pixel_rgb(operator, *screen_point(operator, *A2_SAMPLE))) < 160
    for session in (operator, worker):
        assert session.foreign_requests() == []
        assert session.console_errors == []


def test_map_task_panel_shows_the_refusal_reason(map_server: MapServer, browser_session):
    task = map_server.world.tasks["a1"]  # dispatched to w_a1
    operator = browser_session(map_server.url)
    operator.login("op_a")
    open_task(operator, task)
    assert buttons(operator) == {"escalate"}

    def escalate_to_grid_head() -> None:
        operator.page.click("#task-detail [data-action=escalate]")
        form = "#task-detail [data-form=escalate]"
        operator.page.select_option(f"{form} [data-field=level]", "grid_head")
        operator.page.click(f"{form} [data-submit=escalate]")

    escalate_to_grid_head()
    wait_state(operator, "escalated")
    with httpx.Client(base_url=map_server.url) as client:  # the grid worker accepts
        login = client.post("/api/auth/login", json={"username": "gw_a1", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert client.post(f"/api/tasks/{task}/accept", headers=bearer).status_code == 200
    wait_state(operator, "accepted")

    escalate_to_grid_head()  # already at the grid-head level: the API answers 409
    error = operator.page.locator("#task-detail .action-error")
    error.wait_for(state="visible", timeout=WAIT_MS)
    assert error.inner_text().startswith("操作未执行（状态冲突）：工单已在第 1 级")
    assert state_of(operator) == "accepted"
    operator.screenshot("refused")
    assert operator.console_errors == [] or all("409" in e for e in operator.console_errors)
