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
