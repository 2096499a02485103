"""The work-order loop over HTTP: who may move a task, 409 on illegal moves, photo uploads,
escalation with acknowledgement, and the audit/outbox rows every move leaves behind."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from gis.contract import TaskMessage
from gis.db import connect
from tests.api_world import World, api_settings, login


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_workorder_full_loop_over_http_with_photo_and_second_round(
    client: TestClient, world: World, database_url: str
) -> None:
    task = world.tasks["a1"]
    worker = login(client, "gw_a1")
    desk = login(client, "op_a")
    url = f"/api/tasks/{task}"

    assert client.post(f"{url}/accept", headers=worker).json()["state"] == "accepted"
    assert client.post(f"{url}/start", headers=worker, json={"note": "到场"}).json()["state"] == (
        "in_progress"
    )
    handled = client.post(
        f"{url}/handled",
        headers=worker,
        data={"note": "已扑灭, 无人员受伤"},
        files={"photo": ("scene.png", tiny_png(), "image/png")},
    )
    assert handled.status_code == 200, handled.text
    assert handled.json()["state"] == "handled"
    [photo] = handled.json()["photos"]
    served = client.get(photo, headers=desk).content
    with Image.open(io.BytesIO(served)) as image:  # re-encoded (api.uploads): same pixels
        assert (image.format, image.size, image.getpixel((0, 0))) == ("PNG", (1, 1), (255, 0, 0))
    assert client.get(photo, headers=login(client, "op_b")).status_code == 404

    first_due = handled.json()["due_at"]
    reopened = client.post(
        f"{url}/evaluate", headers=desk, json={"satisfied": False, "note": "仍有烟"}
    )
    assert reopened.json()["state"] == "reopened"
    assert reopened.json()["due_at"] != first_due  # a new deadline for 二次办理
    client.post(f"{url}/start", headers=worker)
    client.post(f"{url}/handled", headers=worker, data={"note": "复查无烟"})
    closed = client.post(f"{url}/evaluate", headers=desk, json={"satisfied": True})
    assert closed.json()["state"] == "closed"

    path = [(t["from_state"], t["to_state"]) for t in closed.json()["transitions"]]
    assert path == [
        ("dispatched", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "handled"),
        ("handled", "evaluating"),
        ("evaluating", "reopened"),
        ("reopened", "in_progress"),
        ("in_progress", "handled"),
        ("handled", "evaluating"),
        ("evaluating", "closed"),
    ]
    with connect(database_url) as conn:
        audited = conn.execute(
            "SELECT actor, detail->>'to' FROM audit_log WHERE action = 'transition' "
            "AND subject_type = 'task' AND subject_id = %s ORDER BY id",
            (str(task),),
        ).fetchall()
        incident = conn.execute(
            "SELECT status FROM incident WHERE id = %s", (world.incident_a1,)
        ).fetchone()[0]
    assert [to for _, to in audited] == [to for _, to in path]
    assert audited[0][0] == "gw_a1" and audited[-1][0] == "op_a"
    assert incident == "closed"  # its only task is finished


def test_workorder_illegal_transition_is_409_with_the_reason(
    client: TestClient, world: World
) -> None:
    desk = login(client, "op_a")
    response = client.post(
        f"/api/tasks/{world.tasks['a2']}/evaluate", headers=desk, json={"satisfied": True}
    )
    assert response.status_code == 409
    body = response.json()
    assert (body["from_state"], body["to_state"]) == ("filed", "closed")
    assert "cannot become closed" in body["detail"] and "立案" in body["detail"]


def test_workorder_moves_are_refused_to_the_wrong_people(client: TestClient, world: World) -> None:
    a1 = f"/api/tasks/{world.tasks['a1']}"
    assert client.post(f"{a1}/accept", headers=login(client, "op_a")).status_code == 403
    assert client.post(f"{a1}/accept", headers=login(client, "gw_a2")).status_code == 404
    evaluate = client.post(
        f"{a1}/evaluate", headers=login(client, "gw_a1"), json={"satisfied": True}
    )
    assert evaluate.status_code == 403
    assert evaluate.json()["detail"].startswith("只有")


def test_workorder_dispatch_pushes_a_contract_message_and_return_goes_back(
    client: TestClient, world: World, database_url: str
) -> None:
    desk = login(client, "op_a")
    a2 = f"/api/tasks/{world.tasks['a2']}"
    outside = client.post(f"{a2}/dispatch", headers=desk, json={"worker_id": "w_b1"})
    assert outside.status_code == 422  # w_b1 works in community B
    dispatched = client.post(f"{a2}/dispatch", headers=desk, json={"worker_id": "w_a2"})
    assert (dispatched.json()["state"], dispatched.json()["assignee_id"]) == ("dispatched", "w_a2")
    with connect(database_url) as conn:
        target, payload = conn.execute(
            "SELECT target, payload FROM outbox WHERE task_id = %s", (world.tasks["a2"],)
        ).fetchone()
    assert target == "wangge/v1/workers/w_a2/tasks"
    message = TaskMessage.model_validate_json(json.dumps(payload))
    assert (message.action, message.task_id) == ("assigned", world.tasks["a2"])
    public_url = client.app.state.settings.api_public_url.rstrip("/")
    assert message.links.map == f"{public_url}/map?task={world.tasks['a2']}"

    no_note = client.post(f"{a2}/return", headers=login(client, "gw_a2"), json={})
    assert no_note.status_code == 422
    returned = client.post(
        f"{a2}/return", headers=login(client, "gw_a2"), json={"note": "不是我网格的"}
    )
    assert returned.status_code == 200
    assert returned.json()["state"] == "returned"
    assert returned.json()["assignee_id"] is None


def test_workorder_escalation_to_community_then_department_must_be_acknowledged(
    client: TestClient, world: World, database_url: str
) -> None:
    a1 = f"/api/tasks/{world.tasks['a1']}"
    worker = login(client, "gw_a1")
    up = client.post(
        f"{a1}/escalate", headers=worker, json={"level": "community", "note": "需要社区协调"}
    )
    assert up.json()["state"] == "escalated" and up.json()["escalation_level"] == 2
    assert {n["worker_id"] for n in up.json()["notifications"] if n["level"] == 2} == {
        "cadre_a",
        "desk_a",
    }
    cadre = login(client, "cadre_a")
    accepted = client.post(f"{a1}/accept", headers=cadre)
    assert (accepted.json()["state"], accepted.json()["assignee_id"]) == ("accepted", "cadre_a")
    down = client.post(f"{a1}/escalate", headers=cadre, json={"level": "grid_head"})
    assert down.status_code == 409  # escalation only goes up
    nameless = client.post(f"{a1}/escalate", headers=cadre, json={"level": "department"})
    assert nameless.status_code == 422
    whistle = client.post(
        f"{a1}/escalate", headers=cadre, json={"level": "department", "department": "消防"}
    )
    assert whistle.status_code == 200, whistle.text

    fire = login(client, "fire")
    pending = client.get(a1, headers=fire).json()["notifications"]
    assert [(n["worker_id"], n["acknowledged_at"]) for n in pending if n["level"] == 3] == [
        ("fire_1", None)
    ]
    acknowledged = client.post(f"{a1}/acknowledge", headers=fire, json={"note": "消防已出动"})
    fire_row = [n for n in acknowledged.json()["notifications"] if n["worker_id"] == "fire_1"]
    assert fire_row[0]["acknowledged_at"] is not None
    assert client.post(f"{a1}/acknowledge", headers=fire).status_code == 409
    with connect(database_url) as conn:
        pushed = conn.execute(
            "SELECT target FROM outbox WHERE payload->>'action' = 'escalated' ORDER BY id"
        ).fetchall()
    assert [t for (t,) in pushed] == [
        "wangge/v1/workers/cadre_a/tasks",
        "wangge/v1/workers/desk_a/tasks",
        "wangge/v1/workers/fire_1/tasks",
    ]


def test_workorder_invalid_and_duplicate_within_scope(client: TestClient, world: World) -> None:
    a1, a2, b1 = world.tasks["a1"], world.tasks["a2"], world.tasks["b1"]
    op_b = login(client, "op_b")
    hidden = client.post(f"/api/tasks/{b1}/duplicate", headers=op_b, json={"duplicate_of": a1})
    assert hidden.status_code == 404  # a1 is not op_b's to point at
    dup = client.post(
        f"/api/tasks/{a2}/duplicate", headers=login(client, "op_a"), json={"duplicate_of": a1}
    )
    assert dup.json()["state"] == "duplicate", dup.text
    assert dup.json()["transitions"][-1]["data"] == {"duplicate_of": a1}
    # A dispatched task must come back to the desk before it can be declared invalid.
    early = client.post(f"/api/tasks/{b1}/invalid", headers=op_b, json={"note": "误报"})
    assert early.status_code == 409
    client.post(f"/api/tasks/{b1}/return", headers=login(client, "gw_b1"), json={"note": "误报"})
    invalid = client.post(f"/api/tasks/{b1}/invalid", headers=op_b, json={"note": "误报"})
    assert invalid.json()["state"] == "invalid"


@pytest.mark.parametrize(
    ("content", "declared", "status", "message"),
    [
        (b"just text, not a picture", "image/png", 415, "JPEG"),
        (b"", "image/png", 422, "为空"),
        (tiny_png(), "image/jpeg", 415, "不符"),
        (tiny_png() + b"\0" * 2000, "image/png", 413, "上限"),
    ],
)
def test_workorder_bad_upload_is_refused_and_changes_nothing(
    database_url: str,
    tmp_path: Path,
    world: World,
    content: bytes,
    declared: str,
    status: int,
    message: str,
) -> None:
    settings = api_settings(database_url, tmp_path).model_copy(
        update={"api_upload_max_bytes": 1000}
    )
    with TestClient(create_app(settings)) as client:
        worker = login(client, "gw_a1")
        url = f"/api/tasks/{world.tasks['a1']}"
        client.post(f"{url}/accept", headers=worker)
        client.post(f"{url}/start", headers=worker)
        response = client.post(
            f"{url}/handled",
            headers=worker,
            data={"note": "done"},
            files={"photo": ("x.png", content, declared)},
        )
        state = client.get(url, headers=worker).json()["state"]
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert state == "in_progress"
    assert not list((tmp_path / "uploads").rglob("*.*"))
