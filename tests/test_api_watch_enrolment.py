"""The elderly watch in the API: residents tagged 独居老人/空巢/高龄 are offered it, enrolment
with consent and family contacts in my scope only (reads audited), "away until", the worker's visit outcome on the task's report,
and the family's "all fine" link that closes the case."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import World, login

ENROL = {
    "consent_by": "本人 (王大爷)",
    "consent_at": "2026-12-01T10:00:00+08:00",
    "contacts": [{"name": "王女士", "phone": "13900000001", "relation": "女儿"}],
    "quiet_from": 22,
    "quiet_until": 7,
}


def _rows(database_url: str, sql: str, *params) -> list[tuple]:
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def _sent_notice(database_url: str, household: int, kind: str, token: str) -> int:
    """A case of the household (its open incident) whose family notice went out with this
    "all fine" token, as the sweep and the delivery sender leave it: the incident id."""
    with connect(database_url) as conn:
        incident = conn.execute(
            "INSERT INTO incident (type, category, severity, merge_key, household_id, "
            "first_seen, last_seen) VALUES (%s, 'elderly', 'urgent', %s, %s, now(), now()) "
            "RETURNING id",
            (f"watch.{kind}", f"watch.{kind}:household:{household}", household),
        ).fetchone()[0]
        contact = conn.execute("SELECT id FROM watch_contact").fetchone()[0]
        conn.execute(
            "INSERT INTO watch_notice (incident_id, contact_id, channel, address, text, "
            "token_hash, state) VALUES (%s, %s, 'sms', '13900000001', 't', %s, 'sent')",
            (incident, contact, hashlib.sha256(token.encode()).hexdigest()),
        )
    return incident


def test_candidates_enrolment_and_away_in_my_scope_only(
    client: TestClient, world: World, database_url: str
) -> None:
    a1 = world.households["a1"]
    gw_a1 = login(client, "gw_a1")
    offered = client.get("/api/watch/candidates", headers=gw_a1).json()
    assert [h["id"] for h in offered["items"]] == [a1]
    assert client.get("/api/watch/candidates", headers=login(client, "op_b")).json()["items"] == []

    assert (
        client.put(
            f"/api/watch/households/{a1}", json=ENROL, headers=login(client, "gw_b1")
        ).status_code
        == 404
    )
    planner = login(client, "planner")
    assert client.put(f"/api/watch/households/{a1}", json=ENROL, headers=planner).status_code == 403
    bad = client.put(
        f"/api/watch/households/{a1}",
        json=ENROL | {"consent_at": "2026-12-01T10:00"},
        headers=gw_a1,
    )
    assert bad.status_code == 422 and "time zone" in bad.text

    enrolled = client.put(f"/api/watch/households/{a1}", json=ENROL, headers=gw_a1)
    assert enrolled.status_code == 200, enrolled.text
    again = client.put(f"/api/watch/households/{a1}", json=ENROL, headers=gw_a1)
    assert again.json()["contacts"][0]["phone"] == "13900000001"
    assert len(again.json()["contacts"]) == 1  # a retry replaces, never adds
    assert client.get("/api/watch/candidates", headers=gw_a1).json()["items"] == []
    # households are no planner's business (api.scope): not even that it is enrolled
    assert client.get(f"/api/watch/households/{a1}", headers=planner).status_code == 404

    until = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    away = client.put(
        f"/api/watch/households/{a1}/away", json={"until": until, "reason": "住院"}, headers=gw_a1
    )
    assert away.status_code == 200 and away.json()["away"] is True
    back = client.put(f"/api/watch/households/{a1}/away", json={"until": None}, headers=gw_a1)
    assert back.json()["away"] is False

    actions = _rows(
        database_url,
        "SELECT action FROM audit_log WHERE subject_type = 'household' AND actor = 'gw_a1' "
        "AND action <> 'read' ORDER BY id",
    )
    assert [a for (a,) in actions] == ["watch_enrol", "watch_update", "watch_away", "watch_away"]
    reads = _rows(
        database_url,
        "SELECT count(*) FROM audit_log WHERE actor = 'gw_a1' AND action = 'read' "
        "AND subject_id = %s",
        str(a1),
    )
    assert reads[0][0] >= 1


def test_visit_outcome_on_the_report_and_the_familys_all_fine_link(
    client: TestClient, world: World, database_url: str
) -> None:
    a1, task = world.households["a1"], world.tasks["a1"]
    gw_a1 = login(client, "gw_a1")
    assert client.put(f"/api/watch/households/{a1}", json=ENROL, headers=gw_a1).status_code == 200
    for move in ("accept", "start"):
        assert client.post(f"/api/tasks/{task}/{move}", json={}, headers=gw_a1).status_code == 200
    report = {"note": "上门查看", "watch_outcome": "all_well"}
    refused = client.post(f"/api/tasks/{task}/report", json=report, headers=gw_a1)
    assert refused.status_code == 422  # a fire task is no watch case; nothing moved
    with connect(database_url) as conn:
        conn.execute(
            "UPDATE incident SET type = 'watch.no_exit', household_id = %s, "
            "merge_key = 'watch.no_exit:household:' || %s WHERE id = %s",
            (a1, a1, world.incident_a1),
        )
    away = client.post(
        f"/api/tasks/{task}/report", json=report | {"watch_outcome": "away"}, headers=gw_a1
    )
    assert away.status_code == 422 and "away_until" in away.text
    done = client.post(f"/api/tasks/{task}/report", json=report, headers=gw_a1)
    assert done.status_code == 200, done.text
    assert _rows(
        database_url, "SELECT household_id, task_id, outcome, actor FROM watch_outcome"
    ) == [(a1, task, "all_well", "gw_a1")]

    # the family's link: a notice about a newer case of the household
    token = "t" * 43
    incident = _sent_notice(database_url, a1, "not_up", token)
    page = client.get(f"/watch/fine/{token}")
    assert page.status_code == 200 and 'method="post"' in page.text
    assert _rows(database_url, "SELECT status FROM incident WHERE id = %s", incident) == [("open",)]
    for _ in range(2):  # answering twice is answering once
        assert client.post(f"/watch/fine/{token}").status_code == 200
    assert client.post(f"/watch/fine/{'x' * 43}").status_code == 404
    assert _rows(database_url, "SELECT status FROM incident WHERE id = %s", incident) == [
        ("closed",)
    ]
    assert _rows(database_url, "SELECT outcome, actor FROM watch_outcome ORDER BY id") == [
        ("all_well", "gw_a1"),
        ("all_well", "family"),
    ]


def test_the_family_can_answer_away_for_days(
    client: TestClient, world: World, database_url: str
) -> None:
    a1 = world.households["a1"]
    assert (
        client.put(
            f"/api/watch/households/{a1}", json=ENROL, headers=login(client, "gw_a1")
        ).status_code
        == 200
    )
    token = "a" * 43
    incident = _sent_notice(database_url, a1, "no_activity", token)
    assert 'name="away_days"' in client.get(f"/watch/fine/{token}").text
    answered = client.post(f"/watch/fine/{token}", data={"answer": "away", "away_days": "3"})
    assert answered.status_code == 200, answered.text
    [(until, set_by, status, outcome)] = _rows(
        database_url,
        "SELECT e.away_until, e.away_set_by, i.status, o.outcome FROM watch_enrolment e, "
        "incident i, watch_outcome o WHERE i.id = %s",
        incident,
    )
    assert (set_by, status, outcome) == ("family", "closed", "away")
    assert abs(until - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=5)
    refused = client.post(f"/watch/fine/{token}", data={"answer": "away", "away_days": "99"})
    assert refused.status_code == 422
