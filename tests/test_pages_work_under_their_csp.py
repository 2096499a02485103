"""The public report page and the field app work under their own Content Security Policy
in real Chromium — no ``bypass_csp``: any inline script/style, eval or foreign source the
policy refuses fires ``securitypolicyviolation`` (or logs a console error) and fails the
test. And a logged-in staff member's cookie session neither is needed by /report nor
acts there: the report is the resident's (actor ``system:open311``)."""

from __future__ import annotations

import pytest

from gis.db import connect
from tests.api_world import PASSWORD
from tests.browser_helpers import BrowserSession
from tests.test_field_app_e2e import PHONE, log_in
from tests.test_map_resident_report import A2_SAMPLE, report_server  # noqa: F401 - fixture

pytest_plugins = ["tests.browser_helpers"]

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def strict_session(browser_session):
    """A phone-sized session that keeps the page's CSP and records its violations."""

    def open_session(base_url: str) -> BrowserSession:
        session = browser_session(base_url, **PHONE, bypass_csp=False)
        session.context.add_init_script(WATCH_VIOLATIONS)
        return session

    return open_session


def assert_no_violations(session: BrowserSession) -> None:
    assert session.page.evaluate("window.__cspViolations") == []
    # An HTTP refusal the page handles (the ladder's "seen" receipt for a task this worker
    # was not notified of: 409) is logged by Chromium too; a CSP refusal is not one of them.
    http = "Failed to load resource: the server responded with a status of"
    assert [e for e in session.console_errors if not e.startswith(http)] == []
    assert session.foreign_requests() == []


def test_report_page_works_under_its_csp_and_a_staff_cookie_does_not_act(
    report_server,  # noqa: F811 - the fixture imported above
    strict_session,
) -> None:
    resident = strict_session(report_server.url)
    page = resident.page
    # A desk operator logged in on this phone: the session cookie sits in the jar.
    # (logged in by the browser context's own request, which keeps the cookies it is given)
    answer = resident.context.request.post(
        f"{report_server.url}/api/auth/login", data={"username": "op_a", "password": PASSWORD}
    )
    assert answer.ok, answer.text()
    assert "wangge_token" in {c["name"] for c in resident.context.cookies()}

    served = page.goto(f"{report_server.url}/report")
    assert "script-src 'self'" in served.headers["content-security-policy"]
    page.wait_for_selector(".leaflet-container")
    x, y = page.evaluate(
        """([lon, lat]) => { const m = window.wangge.map; const p = m.latLngToContainerPoint([lat, lon]);
            const b = m.getContainer().getBoundingClientRect(); return [b.left + p.x, b.top + p.y]; }""",
        list(A2_SAMPLE),
    )
    page.touchscreen.tap(x, y)
    page.select_option("#report-service", "facility")
    page.fill("#report-description", "井盖缺失")
    page.tap("#report-submit")
    page.wait_for_selector("#report-follow")
    with connect(report_server.database_url) as conn:
        actors = conn.execute(
            "SELECT DISTINCT tt.actor FROM task_transition tt JOIN task ON task.id = tt.task_id "
            "WHERE task.location_method = 'resident'"
        ).fetchall()
    assert actors == [("system:open311",)]  # never the logged-in operator

    page.click("#report-follow")
    page.wait_for_selector("#follow-state[data-state='dispatched']")
    assert_no_violations(resident)


def test_field_app_works_under_its_csp(map_server, strict_session) -> None:
    phone = strict_session(map_server.url)
    log_in(phone, "gw_a1")
    task_id = map_server.world.tasks["a1"]
    phone.page.wait_for_selector(f"#alarm[data-task-id='{task_id}']:not([hidden])")
    phone.page.tap("#alarm-later")
    phone.page.wait_for_selector("#task-view:not([hidden]) [data-action=accept]")
    phone.page.wait_for_selector("#task-map.leaflet-container")
    phone.page.tap(".ftabs [data-view=gridpack]")
    phone.page.wait_for_selector("#gridpack-view .household")
    assert_no_violations(phone)
