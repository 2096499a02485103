"""Browser tests in real headless Chromium (Debian's, through Playwright) against a real
uvicorn on a free port. Use from a test module::

    pytest_plugins = ["tests.browser_helpers"]

    def test_x(map_server, browser_session):
        session = browser_session(map_server.url)
        session.login("op_a")
        ...
        assert session.foreign_requests() == []

Every request a page makes is recorded, so a test can prove the page never leaves its
host. Screenshots go to tests/artifacts/<test name>/ (gitignored) and are kept.
"""

from __future__ import annotations

import colorsys
import re
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from api.app import create_app
from tests.api_world import PASSWORD, World, api_settings, seed_world
from tests.ports import bound_socket
from tests.prerequisites import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}
LOCAL_SCHEMES = ("data", "blob", "about")
WAIT_MS = 30_000
"""How long a page may take to show what a test waits for: a generous deadline, never a
speed claim (a loaded CI machine is slow; benchmarks/map.py measures the speed)."""


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` on a real uvicorn in a thread, on a socket bound here (so no other process
    can take its port before uvicorn listens); yields its base URL."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    try:
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless; never a browser downloaded by Playwright."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-wqy-zenhei")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class MapServer:
    url: str
    app: FastAPI
    world: World
    database_url: str


@contextmanager
def map_server_on(database_url: str, run_dir: Path, **settings: object) -> Iterator[MapServer]:
    """The API (with the map) on the small world of tests/api_world.py, with settings
    changed as given (e.g. ``map_base_layer="local"``)."""
    world = seed_world(database_url)
    app = create_app(api_settings(database_url, run_dir).model_copy(update=settings))
    with serve(app) as url:
        yield MapServer(url, app, world, database_url)


@pytest.fixture
def map_server(database_url: str, tmp_path: Path) -> Iterator[MapServer]:
    with map_server_on(database_url, tmp_path / "run") as server:
        yield server


def _artifact_dir(node_name: str) -> Path:
    return ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name)


@dataclass
class BrowserSession:
    """One browser context (one user) with its page, what it requested and what it logged."""

    base_url: str
    context: BrowserContext
    page: Page
    artifacts: Path
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Every request that went anywhere but the app's own host and port."""
        own = urlsplit(self.base_url).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).netloc != own
        ]

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Through the login page, as a person would; ends on the map, loaded."""
        self.page.goto(f"{self.base_url}/map")
        self.page.wait_for_url(re.compile(r"/login\?next="))
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#login-submit")
        self.page.wait_for_url(re.compile(r"/map$"))
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        self.page.wait_for_function("window.wangge !== undefined")
        self.page.evaluate("window.wangge.ready")

    def screenshot(self, name: str) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def browser_session(
    chromium: Browser, request: pytest.FixtureRequest
) -> Iterator[Callable[..., BrowserSession]]:
    """A factory: ``browser_session(base_url, **context_options)``, one context per user
    (options such as ``viewport`` replace the desktop defaults)."""
    contexts: list[BrowserContext] = []

    def open_session(base_url: str, **options: object) -> BrowserSession:
        # bypass_csp: Playwright's waiting helpers evaluate strings, which the page's CSP
        # forbids; the tests check the requests themselves, which is stricter than a CSP.
        context = chromium.new_context(
            **({"viewport": VIEWPORT, "locale": "zh-CN", "bypass_csp": True} | options)
        )
        contexts.append(context)
        page = context.new_page()
        session = BrowserSession(base_url, context, page, _artifact_dir(request.node.name))
        page.on("request", lambda r: session.requests.append(r.url))
        page.on("console", lambda m: _console(session, m))
        page.on("pageerror", lambda e: session.console_errors.append(str(e)))
        return session

    yield open_session
    for context in contexts:
        context.close()


def _console(session: BrowserSession, message: ConsoleMessage) -> None:
    if message.type == "error":
        session.console_errors.append(message.text)


def screen_point(session: BrowserSession, lon: float, lat: float) -> tuple[float, float]:
    """Where a WGS84 point is on the page, in CSS pixels."""
    return tuple(
        session.page.evaluate(
            """([lon, lat]) => {
                const map = window.wangge.map;
                const p = map.latLngToContainerPoint([lat, lon]);
                const box = map.getContainer().getBoundingClientRect();
                return [box.left + p.x, box.top + p.y];
            }""",
            [lon, lat],
        )
    )


def pixel_rgb(session: BrowserSession, x: float, y: float) -> tuple[int, int, int]:
    """The colour on screen at one CSS pixel, from a 1×1 screenshot.

    A one-pixel PNG needs no unfiltering (every PNG filter of a lone pixel is the identity),
    so zlib alone decodes it.
    """
    png = session.page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    chunks, offset = b"", 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(chunks)
    return raw[1], raw[2], raw[3]


def hue_degrees(rgb: tuple[int, int, int]) -> float:
    hue, _, _ = colorsys.rgb_to_hsv(*(channel / 255 for channel in rgb))
    return hue * 360


def png_bytes(rgb: tuple[int, int, int] = (217, 48, 37), size: int = 1) -> bytes:
    """A valid one-colour PNG (the API checks photos by their content; tiles need one too)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * size
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
