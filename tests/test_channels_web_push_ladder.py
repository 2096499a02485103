"""Web Push in the urgent ladder: the field app stores its device session's subscription
(POST/DELETE, with the VAPID public key from the API), and the ladder's first step pushes
to workers who have one — through the local push service, which checks the VAPID JWT and
decrypts the aes128gcm payload with the subscription's keys. Workers without a
subscription get no web_push row; unsubscribing or logging out ends it, and so does the
push service reporting the subscription gone (410)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from gis.channels.base import RetryPolicy
from gis.channels.web_push import WebPushChannel
from gis.channels.wecom_app import WeComAppChannel
from gis.db import connect
from gis.settings import Settings
from ingest.delivery_sender import DeliverySender
from tests.api_world import login
from tests.provider_servers import PushServer, WeComServer, _b64url
from tests.test_channels_providers import vapid_key  # noqa: F401 - fixture
from tests.test_channels_sender import _new_alert

SUBSCRIPTION = "/api/field/push/subscription"


def _alert_for(conn, worker: str, number: int) -> int:
    task_id = _new_alert(conn, number)
    conn.execute("UPDATE task SET assignee_id = %s WHERE id = %s", (worker, task_id))
    conn.execute(
        "UPDATE task_notification SET worker_id = %s WHERE task_id = %s", (worker, task_id)
    )
    return task_id


def _enable_push(client, private_key: str) -> None:
    """The API with Web Push on, subscriptions to the local push service allowed."""
    settings = client.app.state.settings
    web_push = settings.web_push.model_copy(
        update={"vapid_private_key": private_key, "allowed_hosts": ["127.0.0.1"]}
    )
    client.app.state.settings = settings.model_copy(update={"web_push": web_push})


def _ladder(database_url: str) -> Settings:
    """The default instant step (web_push first) with nothing later due in a test."""
    return Settings(
        database_url=database_url,
        ladder_sms_after_s=3600,
        ladder_voice_after_s=3600,
        ladder_escalate_after_s=3600,
    )


def _web_push(ladder: Settings, private_key: str) -> WebPushChannel:
    return WebPushChannel(private_key, ladder.web_push.vapid_subject, retry=RetryPolicy(2))


def test_subscribed_workers_get_the_ladders_web_push(client, database_url, vapid_key):  # noqa: F811
    _enable_push(client, vapid_key)
    worker = login(client, "gw_a1")
    config = client.get("/api/field/push", headers=worker).json()
    expected_key = Vapid.from_string(vapid_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert config == {"enabled": True, "public_key": _b64url(expected_key)}

    with PushServer() as push:
        subscription = push.subscription()
        stored = client.post(SUBSCRIPTION, headers=worker, json=subscription)
        assert stored.status_code == 201, stored.text
        bad = client.post(SUBSCRIPTION, headers=worker, json={"endpoint": "ftp://x", "keys": {}})
        assert bad.status_code == 422
        elsewhere = dict(subscription, endpoint="http://intranet.example/admin")
        refused = client.post(SUBSCRIPTION, headers=worker, json=elsewhere)
        assert refused.status_code == 422 and "push service" in refused.json()["detail"]
        desk = client.post(SUBSCRIPTION, headers=login(client, "op_a"), json=subscription)
        assert desk.status_code == 403  # no worker: nothing of the ladder comes to them

        ladder = _ladder(database_url)
        sender = DeliverySender(ladder, {"web_push": _web_push(ladder, vapid_key)})
        with connect(database_url, autocommit=True) as conn:
            pushed = _alert_for(conn, "w_a1", 1)
            unsubscribed = _alert_for(conn, "w_a2", 2)
            assert sender.sweep(conn) == 1
            rows = conn.execute(
                "SELECT task_id, worker_id, step, channel, state, provider_id FROM delivery"
            ).fetchall()
            assert [r[:5] for r in rows] == [(pushed, "w_a1", "instant", "web_push", "sent")]
            assert "/message/" in rows[0][5]
            assert not push.rejected()
            [payload] = push.payloads
            assert "烟雾报警 #1" in payload["title"] and payload["url"].endswith(f"task={pushed}")
            assert unsubscribed not in {r[0] for r in rows}

            # Unsubscribed (the app's DELETE): the next alert has no push row.
            assert client.delete(SUBSCRIPTION, headers=worker).status_code == 204
            after = _alert_for(conn, "w_a1", 3)
            sender.sweep(conn)
            channels = conn.execute(
                "SELECT channel FROM delivery WHERE task_id = %s", (after,)
            ).fetchall()
            assert channels == []

            # Subscribed again, then logged out: the subscription goes with the session.
            assert client.post(SUBSCRIPTION, headers=worker, json=subscription).is_success
            client.post("/api/auth/logout", headers=worker)
            left = conn.execute("SELECT count(*) FROM push_subscription").fetchone()[0]
            assert left == 0


def test_a_subscription_the_push_service_reports_gone_is_deleted(
    client,
    database_url,
    vapid_key,  # noqa: F811
):
    _enable_push(client, vapid_key)
    worker = login(client, "gw_a1")
    ladder = _ladder(database_url)
    with PushServer() as push, WeComServer(users=("w_a1",)) as wecom:
        subscription = push.subscription()
        assert client.post(SUBSCRIPTION, headers=worker, json=subscription).status_code == 201
        wecom_app = WeComAppChannel(wecom.url, wecom.corp_id, wecom.corp_secret, wecom.agent_id)
        sender = DeliverySender(
            ladder, {"web_push": _web_push(ladder, vapid_key), "wecom_app": wecom_app}
        )
        push.drop(subscription)  # the browser let it go: the push service answers 410
        with connect(database_url, autocommit=True) as conn:
            first = _alert_for(conn, "w_a1", 1)
            sender.sweep(conn)
            rows = conn.execute(
                "SELECT channel, state, error FROM delivery WHERE task_id = %s ORDER BY channel",
                (first,),
            ).fetchall()
            assert [r[:2] for r in rows] == [("web_push", "failed"), ("wecom_app", "sent")]
            assert "410" in rows[0][2] and "subscription gone" in rows[0][2]
            left = conn.execute("SELECT count(*) FROM push_subscription").fetchone()[0]
            assert left == 0

            # The next alert goes to the other channel only: no push to a dead endpoint.
            after = _alert_for(conn, "w_a1", 2)
            sender.sweep(conn)
            channels = conn.execute(
                "SELECT channel, state FROM delivery WHERE task_id = %s", (after,)
            ).fetchall()
            assert channels == [("wecom_app", "sent")]
        assert not push.payloads
        assert len(wecom.app_messages()) == 2
