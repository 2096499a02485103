"""Photos are decoded and re-encoded on upload (api.uploads): only real images are stored,
without their metadata, within a pixel bound; served files carry ``nosniff``."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.api_world import World, api_client, login
from tests.test_api_workorder_loop import tiny_png

GPS_TAG = 0x8825


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_TAG] = {1: "N", 2: (40.0, 36.0, 36.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif, comment=b"secret")
    return out.getvalue()


def _start(client: TestClient, task_id: int) -> dict[str, str]:
    worker = login(client, "gw_a1")
    for action in ("accept", "start"):
        client.post(f"/api/tasks/{task_id}/{action}", headers=worker)
    return worker


def _report(client: TestClient, task_id: int, worker: dict, content: bytes, kind: str):  # noqa: ANN202
    return client.post(
        f"/api/tasks/{task_id}/handled",
        headers=worker,
        data={"note": "已处置"},
        files={"photo": ("scene", content, kind)},
    )


def test_a_png_signature_followed_by_script_is_refused_and_nothing_is_stored(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    task = world.tasks["a1"]
    worker = _start(client, task)
    fake = b"\x89PNG\r\n\x1a\n<script>alert(document.cookie)</script>"
    response = _report(client, task, worker, fake, "image/png")
    assert response.status_code == 422, response.text
    assert "解码" in response.json()["detail"]
    assert client.get(f"/api/tasks/{task}", headers=worker).json()["state"] == "in_progress"
    assert not list((tmp_path / "uploads").rglob("*.*"))


def test_stored_photo_is_re_encoded_without_metadata_and_served_with_nosniff(
    client: TestClient, world: World
) -> None:
    task = world.tasks["a1"]
    worker = _start(client, task)
    original = _jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as sent:
        assert GPS_TAG in sent.getexif()  # the test photo does carry a position
    handled = _report(client, task, worker, original + b"<script>x</script>", "image/jpeg")
    assert handled.status_code == 200, handled.text
    [url] = handled.json()["photos"]
    served = client.get(url, headers=worker)
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"] == "image/jpeg"
    assert b"<script>" not in served.content and b"secret" not in served.content
    with Image.open(io.BytesIO(served.content)) as stored:
        assert (stored.format, stored.size) == ("JPEG", (64, 48))
        assert len(stored.getexif()) == 0
        assert "comment" not in stored.info


def test_a_decompression_bomb_is_refused_by_its_pixel_count(
    database_url: str, tmp_path: Path, world: World
) -> None:
    bomb = io.BytesIO()
    Image.new("1", (4000, 4000)).save(bomb, "PNG")  # 16 MP in a few kB
    assert len(bomb.getvalue()) < 20_000
    with api_client(database_url, tmp_path, api_upload_max_pixels=1_000_000) as client:
        task = world.tasks["a1"]
        worker = _start(client, task)
        refused = _report(client, task, worker, bomb.getvalue(), "image/png")
        fine = _report(client, task, worker, tiny_png(), "image/png")
    assert refused.status_code == 413, refused.text
    assert "像素" in refused.json()["detail"]
    assert fine.status_code == 200
