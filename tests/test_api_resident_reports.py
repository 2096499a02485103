"""Residents' reports through Open311 POST requests.json: form and multipart become tasks
dispatched to the grid's worker; outside every grid is 422; limits answer 429 with
Retry-After; the honeypot and a too-fast form are refused; the reporter follows the task
by its token (never seeing staff) and evaluates it: 不满意 reopens, 满意 closes."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from api.resident_reports import form_token, token_hash
from gis.db import connect
from tests.api_world import GRID_A2, GRID_B1, PASSWORD, login

POST = "/api/open311/v2/requests.json"
KEY = "test-key"
A2_POINT = {"lat": "40.61", "long": "109.815"}


@pytest.fixture
def reports(client):
    settings = client.app.state.settings
    client.app.state.settings = settings.model_copy(
        update={"report_api_keys": [KEY], "report_max_per_address": 3, "report_min_fill_s": 2}
    )
    return client


def jpeg_with_exif(size: tuple[int, int] = (3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 40, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def form(**fields: str) -> dict[str, str]:
    return {"service_code": "sanitation", "description": "垃圾堆放", "api_key": KEY} | fields


def test_form_report_becomes_a_task_of_the_grid_worker(reports, database_url):
    answer = reports.post(POST, data=form(**A2_POINT, phone="13900000001"))
    assert answer.status_code == 201, answer.text
    [body] = answer.json()
    assert set(body) == {"service_request_id", "token", "service_notice"}
    task = int(body["service_request_id"])
    with connect(database_url) as conn:
        grid, assignee, state, category = conn.execute(
            "SELECT grid_code, assignee_id, state, category FROM task WHERE id = %s", (task,)
        ).fetchone()
        stored_hash, phone = conn.execute(
            "SELECT token_hash, phone FROM resident_report WHERE task_id = %s", (task,)
        ).fetchone()
        pushes = conn.execute(
            "SELECT target FROM outbox WHERE task_id = %s AND channel = 'mqtt'", (task,)
        ).fetchall()
    assert (grid, assignee, state, category) == (GRID_A2, "w_a2", "dispatched", "sanitation")
    assert stored_hash == token_hash(body["token"]) != body["token"]
    assert phone == "13900000001"
    assert pushes == [("wangge/v1/workers/w_a2/tasks",)]

    desk = login(reports, "op_a")
    services = reports.get("/api/open311/v2/services.json", headers=desk).json()
    assert {"sanitation", "fire"} <= {s["service_code"] for s in services}
    status = reports.get(f"/api/open311/v2/requests/{task}.json", headers=desk)
    assert status.json()[0]["status"] == "open"
    followed = reports.get(f"/api/reports/{body['token']}").json()
    assert [s["state"] for s in followed["steps"]] == ["reported", "filed", "dispatched"]
    assert "13900000001" not in str(followed) and "w_a2" not in str(followed)


def test_multipart_report_with_photo_reencoded(reports, database_url, tmp_path):
    photo = jpeg_with_exif()
    answer = reports.post(
        POST,
        data=form(service_code="facility", lat="40.61", long="109.83"),
        files={"media": ("p.jpg", photo, "image/jpeg")},
    )
    assert answer.status_code == 201, answer.text
    task = int(answer.json()[0]["service_request_id"])
    detail = reports.get(f"/api/tasks/{task}", headers=login(reports, "op_b")).json()
    assert (detail["grid_code"], detail["assignee_id"]) == (GRID_B1, "w_b1")
    [url] = detail["photos"]
    stored = Image.open(io.BytesIO(reports.get(url, headers=login(reports, "op_b")).content))
    assert max(stored.size) == 1600 and stored.format == "JPEG"
    assert not stored.getexif(), "EXIF survived the re-encoding"


def test_refusals_say_what_is_wrong(reports):
    outside = reports.post(POST, data=form(lat="40.70", long="109.70"))
    assert outside.status_code == 422 and "不在任何网格" in outside.json()["detail"]
    honeypot = reports.post(POST, data=form(**A2_POINT, website="http://spam"))
    assert honeypot.status_code == 422 and "honeypot" in honeypot.json()["detail"]
    unknown = reports.post(POST, data=form(**A2_POINT, service_code="nope"))
    assert unknown.status_code == 422 and "service_code" in unknown.json()["detail"]
    anonymous = reports.post(POST, data=form(**A2_POINT) | {"api_key": ""})
    assert anonymous.status_code == 422 and "form_token" in anonymous.json()["detail"]
    fast = reports.post(
        POST,
        data=form(
            **A2_POINT,
            api_key="",
            form_token=form_token(reports.app.state.settings.report_form_secret),
        ),
    )
    assert fast.status_code == 422 and "提交过快" in fast.json()["detail"]
    secret = reports.app.state.settings.report_form_secret
    aged = form_token(secret, time.time() - 5)
    slow = reports.post(POST, data=form(**A2_POINT, api_key="", form_token=aged))
    assert slow.status_code == 201, slow.text
    assert reports.get("/api/reports/not-a-token").status_code == 404


def test_rate_limit_per_address_and_phone(reports):
    for n in range(3):
        assert reports.post(POST, data=form(**A2_POINT, phone=f"1390000000{n}")).status_code == 201
    limited = reports.post(POST, data=form(**A2_POINT))
    assert limited.status_code == 429
    assert 3500 <= int(limited.headers["Retry-After"]) <= 3600
    reports.app.state.settings = reports.app.state.settings.model_copy(
        update={"report_max_per_address": 100, "report_max_per_phone": 1}
    )
    by_phone = reports.post(POST, data=form(**A2_POINT, phone="13900000000"))
    assert by_phone.status_code == 429 and "phone" in by_phone.json()["detail"]


def test_reporter_evaluates_unsatisfied_then_satisfied(reports):
    [body] = reports.post(POST, data=form(**A2_POINT)).json()
    token, task = body["token"], body["service_request_id"]
    early = reports.post(f"/api/reports/{token}/evaluate", json={"satisfied": True})
    assert early.status_code == 409
    worker, url = login(reports, "gw_a2"), f"/api/tasks/{task}"
    for step in ("accept", "start"):
        assert reports.post(f"{url}/{step}", headers=worker).status_code == 200
    reports.post(f"{url}/handled", headers=worker, data={"note": "已清理"})
    reopened = reports.post(f"/api/reports/{token}/evaluate", json={"satisfied": False})
    assert reopened.json()["state"] == "reopened"
    reports.post(f"{url}/start", headers=worker)
    reports.post(f"{url}/handled", headers=worker, data={"note": "复查已清理"})
    closed = reports.post(f"/api/reports/{token}/evaluate", json={"satisfied": True}).json()
    assert closed["state"] == "closed"
    assert "gw_a2" not in str(closed) and "resident:reporter" not in str(closed)


def test_open311_token_names_its_service_request_and_the_request_reads_per_spec(reports):
    [posted] = reports.post(POST, data=form(**A2_POINT)).json()
    answer = reports.get(f"/api/open311/v2/tokens/{posted['token']}.json")  # no login
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {"service_request_id": posted["service_request_id"], "token": posted["token"]}
    ]
    assert reports.get("/api/open311/v2/tokens/not-a-token.json").status_code == 404

    desk = login(reports, "op_a")
    url = f"/api/open311/v2/requests/{posted['service_request_id']}.json"
    [request] = reports.get(url, headers=desk).json()
    spec_keys = {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "requested_datetime", "updated_datetime",
        "expected_datetime", "address", "lat", "long",
    }  # fmt: skip
    assert spec_keys <= set(request)
    assert (request["service_request_id"], request["status"]) == (
        posted["service_request_id"],
        "open",
    )
    assert (round(request["lat"], 3), round(request["long"], 3)) == (40.61, 109.815)
    assert reports.get(url).status_code == 401  # staff data needs a login


def test_a_staff_cookie_neither_needed_nor_acting_on_the_public_routes(reports, database_url):
    """A cross-site POST riding a logged-in desk operator's cookie is refused (CSRF), so it
    can never act as staff; without the cookie the same report is the resident's."""
    [posted] = reports.post(POST, data=form(**A2_POINT)).json()
    token, task = posted["token"], posted["service_request_id"]
    worker = login(reports, "gw_a2")
    for step in ("accept", "start"):
        reports.post(f"/api/tasks/{task}/{step}", headers=worker)
    reports.post(f"/api/tasks/{task}/handled", headers=worker, data={"note": "已清理"})

    staff = reports.post("/api/auth/login", json={"username": "op_a", "password": PASSWORD})
    assert staff.status_code == 200 and "wangge_token" in reports.cookies
    evil = {"Origin": "http://evil.example"}
    forged_post = reports.post(POST, data=form(**A2_POINT), headers=evil)
    forged_eval = reports.post(
        f"/api/reports/{token}/evaluate", json={"satisfied": True}, headers=evil
    )
    assert (forged_post.status_code, forged_eval.status_code) == (403, 403)

    reports.cookies.clear()  # as the pages send it: credentials 'omit'
    assert reports.post(POST, data=form(**A2_POINT), headers=evil).status_code == 201
    evaluated = reports.post(f"/api/reports/{token}/evaluate", json={"satisfied": True})
    assert evaluated.json()["state"] == "closed"
    with connect(database_url) as conn:
        actors = conn.execute(
            "SELECT DISTINCT actor FROM task_transition WHERE task_id = %s", (int(task),)
        ).fetchall()
        reports_count = conn.execute("SELECT count(*) FROM resident_report").fetchone()[0]
    assert {a for (a,) in actors} == {"system:open311", "gw_a2", "resident:reporter"}
    assert reports_count == 2  # the forged one never became a report
