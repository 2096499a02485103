"""The field app on a phone (390×844, touch) in real Chromium, through every real part: a
roof camera's smoke in grid B1 → Mosquitto → ingest → the task dispatched to B1's grid
worker → the app's live stream → the full-screen alert (ringing, repeating) → accepted
with one tap. Then the phone goes offline, the worker reports with a photo (shrunk on the
phone), reloads the app offline (the service worker's shell and the task from IndexedDB
are there), comes back online — and exactly one report arrives, its photo uploaded in
chunks that resume after a broken chunk instead of restarting.
"""

from __future__ import annotations

import time
import zlib
from pathlib import Path

import numpy as np

from gis.crs import wgs84_to_bd09
from gis.db import connect
from tests.browser_helpers import WAIT_MS, BrowserSession, map_server_on
from tests.fire_world import (
    DEVICE_IDS,
    FIRE,
    WORKER_IDS,
    b1_ready_for_a_fire,
    camera_sees_smoke,
    ingest_consuming,
)
from tests.ingest_world import scalar
from tests.mqtt_helpers import wait_until

pytest_plugins = ["tests.mqtt_helpers", "tests.browser_helpers"]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "geolocation": {"longitude": FIRE[0] - 0.002, "latitude": FIRE[1] - 0.001},
    "permissions": ["geolocation"],
}
CHUNK = 32 * 1024
MAX_PHOTO = 300 * 1024


def noisy_png(width: int, height: int) -> bytes:
    """A photo-sized PNG of noise: JPEG cannot squeeze it, so the phone must shrink it."""
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    offset = 2
    while offset < len(data):
        marker, length = data[offset + 1], int.from_bytes(data[offset + 2 : offset + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height = int.from_bytes(data[offset + 5 : offset + 7], "big")
            width = int.from_bytes(data[offset + 7 : offset + 9], "big")
            return width, height
        offset += 2 + length
    raise ValueError("no start-of-frame marker")


def log_in(phone: BrowserSession, username: str) -> None:
    phone.page.goto(f"{phone.base_url}/m")
    phone.page.wait_for_selector("#login-view:not([hidden])")
    phone.page.fill("#f-username", username)
    phone.page.fill("#f-password", "correct horse 电池")
    phone.page.tap("#f-login")
    phone.page.wait_for_selector("#main-view:not([hidden])")
    # The service worker controls the page and has cached the shell.
    phone.page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)


def _handled(database_url: str, task_id: int) -> int:
    return scalar(
        database_url,
        "SELECT count(*) FROM task_transition WHERE task_id = %s AND to_state = 'handled'",
        task_id,
    )


def test_field_app_fire_alert_offline_report_arrives_once(
    database_url, tmp_path: Path, broker_factory, browser_session
):
    broker = broker_factory(DEVICE_IDS, WORKER_IDS)
    with map_server_on(
        database_url,
        tmp_path / "api",
        field_upload_chunk_max_bytes=CHUNK,
        field_outbox_retry_s=0.5,
    ) as server:
        with connect(database_url) as conn:
            b1_ready_for_a_fire(conn)
        phone = browser_session(server.url, **PHONE)
        page = phone.page
        refused: list[str] = []
        page.on("response", lambda r: r.status >= 400 and refused.append(r.url))
        log_in(phone, "gw_b1")
        assert page.evaluate("window.wanggeField.user.username") == "gw_b1"
        page.wait_for_function(
            "document.querySelector('#live-status').dataset.state === 'live'", timeout=WAIT_MS
        )

        with ingest_consuming(database_url, broker, tmp_path / "ingest"):
            fired = camera_sees_smoke(broker, tmp_path)
            page.wait_for_selector("#alarm:not([hidden])", timeout=WAIT_MS)
            alert_s = time.monotonic() - fired
            task_id = int(page.get_attribute("#alarm", "data-task-id"))
            # Repeating: the alarm rings again while nobody has tapped.
            page.wait_for_function("window.wanggeField.alarm.rings >= 2", timeout=WAIT_MS)
            # The sound is really made: the login tap unlocked WebAudio.
            assert page.evaluate("window.wanggeField.alarm.audio.state") == "running"
            phone.screenshot("1_alert")
            print(f"camera publish → full-screen alert on the phone: {alert_s:.2f} s")
            assert (
                scalar(database_url, "SELECT assignee_id FROM task WHERE id = %s", task_id)
                == "w_b1"
            )

            page.tap("#alarm-accept")  # one tap
            assert page.is_hidden("#alarm")
            assert wait_until(
                lambda: (
                    scalar(database_url, "SELECT state FROM task WHERE id = %s", task_id)
                    == "accepted"
                ),
                10,
            )
            page.wait_for_selector("#task-view:not([hidden]) [data-form=report]", timeout=WAIT_MS)
            page.wait_for_function(
                "document.querySelector('#task-where')?.dataset.distance !== undefined",
                timeout=WAIT_MS,
            )
            shown_m = int(page.get_attribute("#task-where", "data-distance"))
            assert 100 < shown_m < 300, shown_m  # the phone stands ~190 m south-west
            links = page.eval_on_selector_all("#task-nav a", "as => as.map((a) => a.href)")
            assert any("uri.amap.com" in link for link in links)
            assert any("api.map.baidu.com" in link for link in links)
            phone.screenshot("2_accepted")

            # Offline: report with a photo; it waits in the outbox.
            phone.context.set_offline(True)
            page.wait_for_function("!navigator.onLine")
            page.tap("#task-view [data-action=checkin]")
            form = "#task-view [data-form=report]"
            page.fill(f"{form} [data-field=note]", "现场为楼顶杂物焚烧，已扑灭")
            page.set_input_files(
                f"{form} [data-field=photo]",
                files=[
                    {"name": "scene.png", "mimeType": "image/png", "buffer": noisy_png(2400, 1800)}
                ],
            )
            page.tap(f"{form} [data-submit=report]")
            page.wait_for_function(
                "document.querySelector('#outbox-count').textContent === '4'", timeout=WAIT_MS
            )
            phone.screenshot("3_offline_report_waiting")
            assert _handled(database_url, task_id) == 0

            # Reload with no network: the shell from the service worker, the task from
            # IndexedDB, the outbox still full.
            page.reload()
            page.wait_for_function("window.wanggeField && window.wanggeField.outbox")
            page.evaluate("window.wanggeField.ready")
            page.wait_for_selector(f"#inbox-list [data-id='{task_id}']", timeout=WAIT_MS)
            assert page.evaluate("navigator.serviceWorker.controller !== null")
            assert page.evaluate("navigator.onLine") is False
            assert page.evaluate("window.wanggeField.outbox.items().then((i) => i.length)") == 4
            phone.screenshot("4_offline_reloaded")

            # Back online with a broken link: one chunk of the photo is lost on the way.
            puts: list[int] = []
            broken: list[int] = []

            def one_chunk_breaks(route) -> None:  # noqa: ANN001 - Playwright's Route
                request = route.request
                if request.method == "PUT":
                    offset = int(request.headers["upload-offset"])
                    puts.append(offset)
                    if offset >= 2 * CHUNK and not broken:
                        broken.append(offset)
                        route.abort("connectionreset")
                        return
                route.continue_()

            page.route("**/api/uploads/*", one_chunk_breaks)
            phone.context.set_offline(False)
            # (Waiting inside Playwright, which must be running for the route to act.)
            page.wait_for_function(
                "document.querySelector('#outbox-count').textContent === '0'", timeout=WAIT_MS
            )
            assert page.inner_text("#conflicts") == ""
            assert _handled(database_url, task_id) == 1
            phone.screenshot("5_back_online_sent")

        # Exactly one report, with one photo, shrunk on the phone.
        assert _handled(database_url, task_id) == 1
        assert (
            scalar(database_url, "SELECT count(*) FROM task_checkin WHERE task_id = %s", task_id)
            == 1
        )
        photos = scalar(
            database_url,
            "SELECT data->'photos' FROM task_transition WHERE task_id = %s "
            "AND to_state = 'handled'",
            task_id,
        )
        assert len(photos) == 1
        stored = (tmp_path / "api" / "uploads" / "tasks" / str(task_id) / photos[0]).read_bytes()
        assert stored.startswith(b"\xff\xd8\xff") and len(stored) <= MAX_PHOTO
        assert max(jpeg_dimensions(stored)) <= 1600  # from a 2400×1800 original
        # The broken chunk was sent again from its own offset: the upload resumed.
        assert broken and puts.count(broken[0]) == 2, (broken, puts)
        assert puts.count(0) == 1
        assert len(stored) > 2 * CHUNK  # several chunks indeed

        # The JS BD-09 conversion agrees with gis.crs.
        points = np.array([[109.8262, 40.6135], [116.3975, 39.9087], [121.4998, 31.2397]])
        js = page.evaluate(
            "pts => import('/static/map/js/bd09.js').then((m) => pts.map((p) => m.wgsToBd(...p)))",
            points.tolist(),
        )
        assert np.abs(np.array(js) - wgs84_to_bd09(points)).max() < 1e-9
        assert phone.foreign_requests() == []
        # Only the "seen" receipt may be refused (the urgent ladder answers it, or has no
        # such route yet: the app ignores both), and only offline requests may fail.
        assert all(url.endswith("/seen") for url in refused), refused
        unexpected = [
            e
            for e in phone.console_errors
            if "net::ERR_" not in e and "the server responded with a status of" not in e
        ]
        assert unexpected == []
