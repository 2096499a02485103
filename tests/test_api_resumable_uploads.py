"""Resumable uploads: a transfer broken halfway resumes from the offset the server has;
chunks at the wrong offset, oversize uploads and non-photos are refused with a reason; a
report attaches finished uploads once, and only its author's."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from gis.db import connect
from tests.api_world import World, login
from tests.browser_helpers import png_bytes


def _create(client: TestClient, headers: dict, size: int) -> str:
    answer = client.post("/api/uploads", headers=headers, json={"size": size})
    assert answer.status_code == 201, answer.text
    assert answer.json()["offset"] == 0
    return answer.json()["id"]


def _put(client: TestClient, headers: dict, upload_id: str, offset: int, chunk: bytes):
    return client.put(
        f"/api/uploads/{upload_id}",
        headers=headers | {"Upload-Offset": str(offset)},
        content=chunk,
    )


def test_upload_broken_halfway_resumes_from_its_offset(
    client: TestClient, world: World, tmp_path: Path
) -> None:
    worker = login(client, "gw_a1")
    photo = png_bytes(size=64)
    half = len(photo) // 2
    upload_id = _create(client, worker, len(photo))

    assert _put(client, worker, upload_id, 0, photo[:half]).json()["offset"] == half
    # The link broke; the phone asks where to go on.
    head = client.head(f"/api/uploads/{upload_id}", headers=worker)
    assert head.headers["upload-offset"] == str(half)
    assert client.get(f"/api/uploads/{upload_id}", headers=worker).json()["offset"] == half
    # Sending the first half again (or from anywhere but the offset) is refused.
    again = _put(client, worker, upload_id, 0, photo[:half])
    assert again.status_code == 409
    assert again.json()["offset"] == half
    early = client.post(f"/api/uploads/{upload_id}/complete", headers=worker)
    assert early.status_code == 409

    assert _put(client, worker, upload_id, half, photo[half:]).json()["offset"] == len(photo)
    done = client.post(f"/api/uploads/{upload_id}/complete", headers=worker)
    assert done.json()["complete"] is True

    task = world.tasks["a1"]
    client.post(f"/api/tasks/{task}/accept", headers=worker)
    client.post(f"/api/tasks/{task}/start", headers=worker)
    report = client.post(
        f"/api/tasks/{task}/report",
        headers=worker,
        json={"note": "已处置", "upload_ids": [upload_id]},
    )
    assert report.status_code == 200, report.text
    [url] = report.json()["photos"]
    served = client.get(url, headers=worker).content
    with Image.open(io.BytesIO(served)) as got, Image.open(io.BytesIO(photo)) as sent:
        # Re-encoded on completion (api.uploads.read_photo): the same pixels, fresh file.
        assert got.convert("RGB").tobytes() == sent.convert("RGB").tobytes()
    assert not (tmp_path / "uploads" / "partial" / upload_id).exists()


def test_upload_refusals_say_what_is_wrong(client: TestClient, world: World) -> None:
    worker = login(client, "gw_a1")
    too_big = client.post("/api/uploads", headers=worker, json={"size": 50 * 1024 * 1024})
    assert too_big.status_code == 413
    upload_id = _create(client, worker, 10)
    past_end = _put(client, worker, upload_id, 0, b"x" * 11)
    assert past_end.status_code == 422
    assert _put(client, worker, upload_id, 0, b"not-a-jpeg").status_code == 200
    not_photo = client.post(f"/api/uploads/{upload_id}/complete", headers=worker)
    assert not_photo.status_code == 415
    # Another user's upload does not exist for me.
    other = login(client, "gw_a2")
    assert client.get(f"/api/uploads/{upload_id}", headers=other).status_code == 404


def test_report_attaches_only_my_finished_uploads_once(client: TestClient, world: World) -> None:
    worker = login(client, "gw_a1")
    photo = png_bytes()
    upload_id = _create(client, worker, len(photo))
    unfinished = _create(client, worker, len(photo))
    _put(client, worker, upload_id, 0, photo)
    client.post(f"/api/uploads/{upload_id}/complete", headers=worker)
    task = world.tasks["a1"]
    client.post(f"/api/tasks/{task}/accept", headers=worker)
    client.post(f"/api/tasks/{task}/start", headers=worker)
    refused = client.post(
        f"/api/tasks/{task}/report",
        headers=worker,
        json={"note": "x", "upload_ids": [upload_id, unfinished]},
    )
    assert refused.status_code == 422
    assert unfinished in refused.json()["detail"]
    ok = client.post(
        f"/api/tasks/{task}/report", headers=worker, json={"note": "x", "upload_ids": [upload_id]}
    )
    assert ok.status_code == 200
    # The same upload cannot go into a second report (here: another worker's task).
    other = login(client, "gw_b1")
    b1 = world.tasks["b1"]
    client.post(f"/api/tasks/{b1}/accept", headers=other)
    client.post(f"/api/tasks/{b1}/start", headers=other)
    reuse = client.post(
        f"/api/tasks/{b1}/report", headers=other, json={"note": "x", "upload_ids": [upload_id]}
    )
    assert reuse.status_code == 422


def test_abandoned_uploads_are_dropped_with_their_files(
    client: TestClient, world: World, database_url: str, tmp_path: Path
) -> None:
    worker = login(client, "gw_a1")
    old = _create(client, worker, 100)
    _put(client, worker, old, 0, b"x" * 10)
    partial = tmp_path / "uploads" / "partial" / old
    assert partial.stat().st_size == 10
    with connect(database_url) as conn:
        conn.execute(
            "UPDATE upload SET created_at = now() - interval '3 days' WHERE id = %s", (old,)
        )
    fresh = _create(client, worker, 100)
    assert client.get(f"/api/uploads/{old}", headers=worker).status_code == 404
    assert not partial.exists()
    assert client.get(f"/api/uploads/{fresh}", headers=worker).json()["offset"] == 0


def _finished_upload(client: TestClient, headers: dict, photo: bytes) -> str:
    upload_id = _create(client, headers, len(photo))
    _put(client, headers, upload_id, 0, photo)
    assert client.post(f"/api/uploads/{upload_id}/complete", headers=headers).is_success
    return upload_id


def test_photos_follow_a_report_sent_as_text_first(client: TestClient, world: World) -> None:
    worker = login(client, "gw_a1")
    task = world.tasks["a1"]
    early_photo = _finished_upload(client, worker, png_bytes(size=8))
    client.post(f"/api/tasks/{task}/accept", headers=worker)
    client.post(f"/api/tasks/{task}/start", headers=worker)
    # Before the report there is nothing to add photos to.
    before = client.post(
        f"/api/tasks/{task}/photos", headers=worker, json={"upload_ids": [early_photo]}
    )
    assert before.status_code == 409 and "反馈" in before.json()["detail"]
    text = client.post(f"/api/tasks/{task}/report", headers=worker, json={"note": "已处置"})
    assert (text.json()["state"], text.json()["photos"]) == ("handled", [])

    second = _finished_upload(client, worker, png_bytes(size=16))
    followed = client.post(
        f"/api/tasks/{task}/photos", headers=worker, json={"upload_ids": [early_photo, second]}
    )
    assert followed.status_code == 200, followed.text
    assert followed.json()["state"] == "handled"  # photos are no move
    urls = followed.json()["photos"]
    assert [url.rsplit("/", 1)[1].split(".")[0] for url in urls] == [early_photo, second]
    assert all(client.get(url, headers=worker).status_code == 200 for url in urls)
    # Each upload is attached once; someone who did not report the task cannot add any.
    again = client.post(f"/api/tasks/{task}/photos", headers=worker, json={"upload_ids": [second]})
    assert again.status_code == 422
    desk = login(client, "op_a")
    desk_photo = _finished_upload(client, desk, png_bytes(size=8))
    refused = client.post(
        f"/api/tasks/{task}/photos", headers=desk, json={"upload_ids": [desk_photo]}
    )
    assert refused.status_code == 409
    with connect(client.app.state.settings.database_url) as conn:
        handled = conn.execute(
            "SELECT count(*) FROM task_transition WHERE task_id = %s AND to_state = 'handled'",
            (task,),
        ).fetchone()[0]
    assert handled == 1
