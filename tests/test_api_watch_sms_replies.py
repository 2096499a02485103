"""Families answer an elderly-watch notice by replying to the SMS: Aliyun's SmsUp batch push
and Tencent's reply callback, posted exactly as documented, to a secret URL; "1" answers
like the link, "外出 3" announces an absence, anything else and unknown numbers are kept
and shown without effect, and a provider's second delivery changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gis.db import connect
from gis.settings import AliyunSettings, Settings, TencentSettings
from gis.sms_replies import REPLY_HINT, Understood, understand
from ingest.family_notices import queue_notices
from tests.api_world import World, api_client, login
from tests.ingest_world import FAMILY_PHONE
from tests.watch_live import enrol_contacts_only, sent_notice

ALIYUN_TOKEN = "aliyun-reply-secret-0123456789"
TENCENT_TOKEN = "tencent-reply-secret-0123456789"
ALIYUN_URL = f"/watch/sms/aliyun/{ALIYUN_TOKEN}"
TENCENT_URL = f"/watch/sms/tencent/{TENCENT_TOKEN}"
MASKED = "139****0001"


def aliyun_body(content: str, phone: str = FAMILY_PHONE, sequence_id: int = 1234567890) -> bytes:
    """Aliyun's documented SmsUp push: a JSON array, one object per reply."""
    return json.dumps(
        [
            {
                "phone_number": phone,
                "send_time": "2026-12-02 08:00:00",
                "content": content,
                "sign_name": "网格关怀",
                "dest_code": "1234",
                "sequence_id": sequence_id,
            }
        ],
        ensure_ascii=False,
    ).encode()


def tencent_body(text: str, mobile: str = FAMILY_PHONE, time: int = 1764633600) -> bytes:
    """Tencent's documented reply callback."""
    return json.dumps(
        {
            "extend": "",
            "mobile": mobile,
            "nationcode": "86",
            "sign": "网格关怀",
            "text": text,
            "time": time,
        },
        ensure_ascii=False,
    ).encode()


def post(client: TestClient, url: str, body: bytes):
    return client.post(url, content=body, headers={"Content-Type": "application/json"})


@pytest.fixture
def sms_client(database_url: str, tmp_path: Path, world: World) -> Iterator[TestClient]:
    with api_client(
        database_url,
        tmp_path,
        aliyun=AliyunSettings(sms_reply_token=ALIYUN_TOKEN),
        tencent=TencentSettings(sms_reply_token=TENCENT_TOKEN),
    ) as client:
        yield client


@pytest.fixture
def open_case(database_url: str, world: World) -> int:
    """H-a1 enrolled with its family contact, an open case and its notice sent."""
    enrol_contacts_only(database_url, world.households["a1"])
    return sent_notice(database_url, world.households["a1"], "s" * 43)


def _one(database_url: str, sql: str, *params):
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchone()


def _state(database_url: str, incident: int) -> tuple:
    """Everything a reply may change: the case, the notice, outcomes, absence, replies."""
    return _one(
        database_url,
        "SELECT (SELECT status FROM incident WHERE id = %s), "
        "(SELECT count(*) FROM watch_notice WHERE answered_at IS NOT NULL), "
        "(SELECT count(*) FROM watch_outcome), (SELECT max(away_until) FROM watch_enrolment), "
        "(SELECT count(*) FROM watch_reply), (SELECT count(*) FROM audit_log)",
        incident,
    )


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("1", Understood("fine")),
        ("１", Understood("fine")),
        ("好", Understood("fine")),
        ("平安。", Understood("fine")),
        ("没事!", Understood("fine")),
        ("OK", Understood("fine")),
        ("fine", Understood("fine")),
        ("2 5", Understood("away", 5)),
        ("外出 3", Understood("away", 3)),
        ("外出3天", Understood("away", 3)),
        ("不在家 十四", Understood("away", 14)),
        ("外出：三十", Understood("away", 30)),
        ("2", None),
        ("外出 31", None),
        ("外出 0", None),
        ("谢谢, 我马上去看", None),
        ("12", None),
    ],
)
def test_what_a_reply_is_understood_as(text: str, understood: Understood | None) -> None:
    assert understand(text) == understood


def test_aliyun_smsup_push_of_1_answers_all_fine_like_the_link(
    sms_client: TestClient, database_url: str, open_case: int
) -> None:
    answered = post(sms_client, ALIYUN_URL, aliyun_body("1"))
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"code": 0, "msg": "接收成功"}
    assert _one(database_url, "SELECT status FROM incident WHERE id = %s", open_case) == ("closed",)
    assert _one(database_url, "SELECT outcome, actor FROM watch_outcome") == ("all_well", "family")
    assert _one(
        database_url, "SELECT provider, provider_key, outcome, understood FROM watch_reply"
    ) == ("aliyun_sms", "1234567890", "answered", "fine")
    action, detail = _one(
        database_url,
        "SELECT action, detail FROM audit_log WHERE actor = 'family' AND subject_type = 'household'",
    )
    assert (action, detail["phone"], detail["via"]) == ("watch_family_fine", MASKED, "aliyun_sms")
    assert _one(
        database_url,
        "SELECT count(*) FROM audit_log WHERE detail::text LIKE %s",
        f"%{FAMILY_PHONE}%",
    ) == (0,)

    before = _state(database_url, open_case)
    again = post(sms_client, ALIYUN_URL, aliyun_body("1"))  # Aliyun pushes again
    assert again.json() == {"code": 0, "msg": "接收成功"}
    assert _state(database_url, open_case) == before


def test_tencent_reply_callback_away_3_days_sets_the_absence(
    sms_client: TestClient, database_url: str, open_case: int
) -> None:
    answered = post(sms_client, TENCENT_URL, tencent_body("外出 3"))
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"result": 0, "errmsg": "OK"}
    until, set_by, status, outcome, days = _one(
        database_url,
        "SELECT e.away_until, e.away_set_by, i.status, o.outcome, r.away_days "
        "FROM watch_enrolment e, incident i, watch_outcome o, watch_reply r WHERE i.id = %s",
        open_case,
    )
    assert (set_by, status, outcome, days) == ("family", "closed", "away", 3)
    assert abs(until - (datetime.now(UTC) + timedelta(days=3))) < timedelta(minutes=5)

    before = _state(database_url, open_case)
    assert post(sms_client, TENCENT_URL, tencent_body("外出 3")).json()["result"] == 0
    assert _state(database_url, open_case) == before


def test_a_wrong_or_unset_token_is_refused_and_changes_nothing(
    sms_client: TestClient, client: TestClient, database_url: str, open_case: int
) -> None:
    before = _state(database_url, open_case)
    for url, body in (
        ("/watch/sms/aliyun/guessed", aliyun_body("1")),
        ("/watch/sms/tencent/guessed", tencent_body("1")),
        (ALIYUN_URL.replace("aliyun", "tencent", 1), aliyun_body("1")),
    ):
        refused = post(sms_client, url, body)
        assert refused.status_code == 404 and "unknown callback address" in refused.text
    # a wrong path is refused before the body's fields are looked at
    assert post(sms_client, "/watch/sms/aliyun/guessed", b'[{"x": 1}]').status_code == 404
    # no token configured (the default): the routes are off
    assert post(client, ALIYUN_URL, aliyun_body("1")).status_code == 404
    assert post(client, TENCENT_URL, tencent_body("1")).status_code == 404
    assert _state(database_url, open_case) == before
    assert post(sms_client, ALIYUN_URL, b'[{"content": "1"}]').status_code == 422


def test_unknown_numbers_and_other_words_are_recorded_and_shown_without_effect(
    sms_client: TestClient, database_url: str, world: World, open_case: int
) -> None:
    unknown = post(sms_client, ALIYUN_URL, aliyun_body("1", phone="13700000009", sequence_id=7))
    assert unknown.json()["code"] == 0
    other = post(sms_client, TENCENT_URL, tencent_body("谢谢, 我下班去看"))
    assert other.json()["result"] == 0
    assert _one(database_url, "SELECT status FROM incident WHERE id = %s", open_case) == ("open",)
    assert _one(database_url, "SELECT count(*) FROM watch_outcome") == (0,)

    a1 = world.households["a1"]
    desk = sms_client.get("/api/watch/replies", headers=login(sms_client, "admin")).json()
    assert [(r["outcome"], r["household_id"], r["phone"]) for r in desk["items"]] == [
        ("not_understood", a1, FAMILY_PHONE),
        ("no_notice", None, "13700000009"),
    ]
    mine = sms_client.get("/api/watch/replies", headers=login(sms_client, "gw_a1")).json()
    assert [(r["text"], r["household_code"]) for r in mine["items"]] == [
        ("谢谢, 我下班去看", "H-a1")
    ]
    # another community's desk sees the reply nobody's notice was answered by, not H-a1's
    other_desk = sms_client.get("/api/watch/replies", headers=login(sms_client, "op_b")).json()
    assert [r["outcome"] for r in other_desk["items"]] == ["no_notice"]
    details = [
        d
        for (d,) in _all(
            database_url, "SELECT detail FROM audit_log WHERE action = 'watch_family_reply'"
        )
    ]
    assert sorted(d["outcome"] for d in details) == ["no_notice", "not_understood"]
    assert {d["phone"] for d in details} == {MASKED, "137****0009"}


def _all(database_url: str, sql: str, *params) -> list[tuple]:
    with connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_notice_by_sms_tells_the_family_what_to_reply(database_url: str, world: World) -> None:
    a1 = world.households["a1"]
    enrol_contacts_only(database_url, a1)
    incident = sent_notice(database_url, a1, "h" * 43)
    with connect(database_url) as conn:
        conn.execute("DELETE FROM watch_notice")
        queue_notices(conn, incident, a1, lambda name, code, link: f"{name} {link}", Settings())
        (text,) = conn.execute("SELECT text FROM watch_notice").fetchone()
    assert text.endswith(REPLY_HINT) and "/watch/fine/" in text
