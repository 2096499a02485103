"""The login page in the browser: a wrong password is told in Chinese (or English), a good
one lands on the map, and the ``next`` address can only be a page of this site."""

from __future__ import annotations

import re

from tests.api_world import PASSWORD
from tests.browser_helpers import MapServer

pytest_plugins = ["tests.browser_helpers"]


def test_map_login_wrong_password_then_right(map_server: MapServer, browser_session):
    session = browser_session(map_server.url)
    page = session.page
    page.goto(f"{map_server.url}/login?next=//evil.example/steal")
    page.fill("#username", "op_a")
    page.fill("#password", "not the password")
    page.click("#login-submit")
    error = page.locator("#login-error")
    error.wait_for(state="visible")
    assert error.inner_text() == "用户名或密码错误"
    session.screenshot("wrong_password")
    page.click("#lang-toggle")
    assert page.inner_text("#login-submit") == "Log in"
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/map$"))  # not the other host named in ?next=
    session.wait_until_ready()
    assert page.inner_text(".brand h1") == "Wangge · Operations live map"  # the choice stays
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto(f"{map_server.url}/map")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert session.foreign_requests() == []


def test_map_push_link_opens_its_task_after_login(map_server: MapServer, browser_session):
    """The link in a worker's task push (``/map?task=ID``) survives the login."""
    task = map_server.world.tasks["a1"]
    session = browser_session(map_server.url)
    page = session.page
    page.goto(f"{map_server.url}/map?task={task}")
    page.wait_for_url(re.compile(r"/login\?next=/map%3Ftask%3D"))
    page.fill("#username", "gw_a1")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(rf"/map\?task={task}$"))
    session.wait_until_ready()
    page.wait_for_selector(f"#task-detail .facts >> text=#{task}")
    assert page.locator("#task-detail [data-action=accept]").is_visible()
    session.screenshot("push_link")
