"""The field app on a phone without the ingest chain: staying logged in, an action made
offline that the server refuses meanwhile (the task was reassigned) shown as a conflict
rather than lost, and the 网格包 — my grid only, ID numbers masked, the read audited, a
visit recorded."""

from __future__ import annotations

from gis.db import connect
from tests.browser_helpers import BrowserSession
from tests.ingest_world import scalar
from tests.mqtt_helpers import wait_until
from tests.test_field_app_e2e import PHONE, log_in, noisy_png

pytest_plugins = ["tests.browser_helpers"]


def _open_urgent_task(phone: BrowserSession, task_id: int) -> None:
    """The urgent task rings at once; "see details first" opens it without accepting."""
    phone.page.wait_for_selector(f"#alarm[data-task-id='{task_id}']:not([hidden])")
    phone.page.tap("#alarm-later")
    phone.page.wait_for_selector("#task-view:not([hidden]) [data-action=accept]")


def test_field_app_offline_conflict_is_shown_and_gridpack_is_scoped(
    map_server, browser_session
) -> None:
    world, url = map_server.world, map_server.database_url
    phone = browser_session(map_server.url, **PHONE)
    page = phone.page
    log_in(phone, "gw_a1")
    task_id = world.tasks["a1"]
    page.wait_for_selector(f"#inbox-list [data-id='{task_id}']")

    # Logged in once: a new tab of the phone opens the app logged in.
    other_tab = phone.context.new_page()
    other_tab.goto(f"{map_server.url}/m/")
    other_tab.wait_for_selector("#main-view:not([hidden])")
    other_tab.close()

    # Offline, the worker accepts; meanwhile the desk gives the task to someone else.
    phone.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    _open_urgent_task(phone, task_id)
    page.tap("#task-view [data-action=accept]")
    page.wait_for_function("document.querySelector('#outbox-count').textContent === '1'")
    with connect(url) as conn:
        conn.execute("UPDATE task SET assignee_id = 'w_a2' WHERE id = %s", (task_id,))
    phone.context.set_offline(False)
    conflict = page.wait_for_selector("#conflicts .conflict", timeout=10_000)
    assert conflict.get_attribute("data-status") == "403"
    assert "承办人" in conflict.inner_text()  # the server's own reason is shown
    phone.screenshot("1_conflict")
    assert scalar(url, "SELECT state FROM task WHERE id = %s", task_id) == "dispatched"
    # The phone shows the task as the server has it again, no longer "waiting to send".
    page.wait_for_selector(
        f"#inbox-list [data-id='{task_id}'][data-state=dispatched]", state="attached"
    )
    assert page.query_selector(f"#inbox-list [data-id='{task_id}'] .chip.pending") is None
    page.tap("#conflicts .conflict button")
    page.wait_for_selector("#conflicts .conflict", state="detached")

    # 网格包: my grid only, masked, audited; a visit goes through the outbox.
    page.tap(".ftabs [data-view=gridpack]")
    cards = page.wait_for_selector("#gridpack-view .household")
    ids = page.eval_on_selector_all(
        "#gridpack-view .household", "cs => cs.map((c) => c.dataset.id)"
    )
    assert ids == [str(world.households["a1"])]
    assert page.inner_text("#gridpack-view .id-number") == "150***********123X"
    assert "独居老人" in cards.inner_text()
    assert (
        scalar(
            url,
            "SELECT count(*) FROM audit_log WHERE actor = 'gw_a1' AND action = 'read' "
            "AND subject_type = 'resident' AND subject_id = %s",
            str(world.residents["a1"]),
        )
        >= 1
    )
    page.select_option("#gridpack-view [data-form=visit] [data-field=outcome]", "needs_help")
    page.fill("#gridpack-view [data-form=visit] [data-field=note]", "冬季取暖需帮扶")
    page.tap("#gridpack-view [data-submit=visit]")
    page.wait_for_selector(
        "#gridpack-view [data-form=visit] [data-field=status]:has-text('已记录')"
    )
    assert wait_until(lambda: scalar(url, "SELECT count(*) FROM household_visit") == 1)
    phone.screenshot("2_gridpack")
    with connect(url) as conn:
        assert conn.execute(
            "SELECT outcome, note FROM household_visit WHERE household_id = %s",
            (world.households["a1"],),
        ).fetchall() == [("needs_help", "冬季取暖需帮扶")]
    assert phone.foreign_requests() == []


def test_field_app_cadre_reopens_a_handled_task(map_server, browser_session) -> None:
    """回访 from the phone: a cadre (desk role) finds the report unsatisfying → 二次办理."""
    world, url = map_server.world, map_server.database_url
    task_id = world.tasks["a2"]
    with connect(url) as conn:
        conn.execute(
            "UPDATE task SET state = 'handled', assignee_id = 'w_a2' WHERE id = %s", (task_id,)
        )
    phone = browser_session(map_server.url, **PHONE)
    log_in(phone, "cadre_a")
    phone.page.tap(f"#inbox-list [data-id='{task_id}']")
    phone.page.tap("#task-view [data-action=reopen]")
    assert wait_until(
        lambda: scalar(url, "SELECT state FROM task WHERE id = %s", task_id) == "reopened"
    )
    # Sent: the phone shows the server's answer, no longer "waiting to send".
    phone.page.wait_for_function(
        "document.querySelector('#task-view .chip.state')?.dataset.state === 'reopened' "
        "&& !document.querySelector('#task-view .chip.pending')"
    )
    assert phone.foreign_requests() == []


def test_field_app_report_text_arrives_while_its_photos_still_travel(
    map_server, browser_session
) -> None:
    """The text goes first: with every upload request held back (a link too slow for
    photos), the report is already on the server; released, the photos follow and are
    attached to that same report."""
    world, url = map_server.world, map_server.database_url
    task_id = world.tasks["a1"]
    phone = browser_session(map_server.url, **PHONE)
    page = phone.page
    log_in(phone, "gw_a1")
    _open_urgent_task(phone, task_id)
    page.tap("#task-view [data-action=accept]")
    # Sent and answered (the view is drawn again then): the report form of the accepted task.
    page.wait_for_function(
        "document.querySelector('#task-view .chip.state')?.dataset.state === 'accepted' "
        "&& !document.querySelector('#task-view .chip.pending')"
    )
    held: list = []
    holding = [True]

    def hold_uploads(route) -> None:  # noqa: ANN001 - Playwright's Route
        if holding[0]:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/uploads**", hold_uploads)
    form = "#task-view [data-form=report]"
    page.fill(f"{form} [data-field=note]", "已清理, 照片随后")
    page.set_input_files(
        f"{form} [data-field=photo]",
        files=[{"name": "a.png", "mimeType": "image/png", "buffer": noisy_png(1200, 900)}],
    )
    page.tap(f"{form} [data-submit=report]")

    def waiting_kinds() -> list[str]:  # (evaluating also lets Playwright see the routes)
        return page.evaluate("window.wanggeField.outbox.items().then((i) => i.map((x) => x.kind))")

    assert wait_until(lambda: waiting_kinds() == ["photos"] and held, 30)
    photos_sql = (
        "SELECT data->'photos' FROM task_transition WHERE task_id = %s AND to_state = 'handled'"
    )
    assert scalar(url, "SELECT state FROM task WHERE id = %s", task_id) == "handled"
    assert scalar(url, photos_sql, task_id) is None  # the text only, so far

    holding[0] = False
    for route in held:
        route.continue_()
    assert wait_until(lambda: waiting_kinds() == [], 30)
    [photo] = scalar(url, photos_sql, task_id)
    stored = map_server.app.state.settings.upload_dir / "tasks" / str(task_id) / photo
    assert stored.read_bytes().startswith(b"\xff\xd8\xff")
    assert page.inner_text("#conflicts") == ""
