"""Web Push in the urgent ladder: the field app stores its device session's subscription
(POST/DELETE, with the VAPID public key from the API), and the ladder's first step pushes
to workers who have one — through the local push service, which checks the VAPID JWT and
decrypts the aes128gcm payload with the subscription's keys. Workers without a
subscription get no web_push row; unsubscribing or logging out ends it."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid

from gis.channels.base import RetryPolicy
from gis.channels.web_push import WebPushChannel
from gis.db import connect
from gis.settings import Settings
from ingest.delivery_sender import DeliverySender
from tests.api_world import login
from tests.provider_servers import PushServer, _b64url
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


def test_subscribed_workers_get_the_ladders_web_push(client, database_url, vapid_key):  # noqa: F811
    settings = client.app.state.settings
    web_push = settings.web_push.model_copy(
        update={"vapid_private_key": vapid_key, "allowed_hosts": ["127.0.0.1"]}
    )
    client.app.state.settings = settings.model_copy(update={"web_push": web_push})
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

        ladder = Settings(
            database_url=database_url,
            ladder_sms_after_s=3600,
            ladder_voice_after_s=3600,
            ladder_escalate_after_s=3600,
        )  # the default instant step, which includes web_push
        channel = WebPushChannel(vapid_key, ladder.web_push.vapid_subject, retry=RetryPolicy(2))
        sender = DeliverySender(ladder, {"web_push": channel})
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
