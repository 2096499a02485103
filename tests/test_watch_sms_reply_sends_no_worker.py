"""The family's SMS reply "1" to a watch notice closes the family step as the link does: the
sweep, going on hour by hour past the family's wait, sends no grid worker — and without the
reply it does. PostgreSQL and the sweep, no MQTT (the week goes straight into the rollup)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gis.db import connect
from gis.settings import AliyunSettings, Settings
from ingest.watch.config import WatchConfig
from ingest.watch_job import complete_end, run_sweeps, start_new_households, sweep_batch
from tests.api_world import api_client
from tests.ingest_world import FAMILY_PHONE, seed_world
from tests.watch_live import WEEK_H, enrol_a1, hour_floor, store_week

TOKEN = "aliyun-reply-secret-0123456789"
JSON = {"Content-Type": "application/json"}


def _count(database_url: str, sql: str) -> int:
    with connect(database_url) as conn:
        return conn.execute(sql).fetchone()[0]


def _sweep_until_the_family_is_asked(database_url: str, settings: Settings, start: datetime):
    """Sweep the week one hour at a time until the family notice is queued."""
    config = WatchConfig.from_settings(settings)
    with connect(database_url) as conn:
        conn.autocommit = False
        with conn.transaction():
            start_new_households(conn, complete_end(datetime.now(UTC), 0), settings)
        for hours in range(1, WEEK_H):
            with conn.transaction():
                sweep_batch(conn, settings, config, start + timedelta(hours=hours))
            if conn.execute("SELECT count(*) FROM watch_notice").fetchone()[0]:
                # the delivery sender would send it now
                conn.execute("UPDATE watch_notice SET state = 'sent', sent_at = now()")
                conn.commit()
                return
    raise AssertionError("the family was never asked")


@pytest.mark.parametrize("reply", ["1", None])
def test_a_reply_1_means_no_worker_is_sent(
    database_url: str, tmp_path: Path, reply: str | None
) -> None:
    world = seed_world(database_url)
    household = world.households["a1"]
    start = hour_floor(datetime.now(UTC)) - timedelta(hours=WEEK_H)
    store_week(database_url, household, start, stops_going_out_h=72)
    enrol_a1(database_url, household)
    settings = Settings(
        database_url=database_url,
        watch_lateness_s=0,
        watch_sweep_batch=1,
        watch_sweep_max_hours=12,
    )
    _sweep_until_the_family_is_asked(database_url, settings, start)
    assert _count(database_url, "SELECT count(*) FROM task") == 0  # the family first

    if reply is not None:
        body = [
            {
                "phone_number": FAMILY_PHONE,
                "send_time": "2026-12-02 08:00:00",
                "content": reply,
                "sign_name": "网格关怀",
                "dest_code": "1234",
                "sequence_id": 42,
            }
        ]
        aliyun = AliyunSettings(sms_reply_token=TOKEN)
        with api_client(database_url, tmp_path, aliyun=aliyun) as client:
            answered = client.post(
                f"/watch/sms/aliyun/{TOKEN}", content=json.dumps(body), headers=JSON
            )
        assert answered.status_code == 200, answered.text

    with connect(database_url) as conn:  # the rest of the week, past the family's wait
        conn.autocommit = False
        run_sweeps(conn, settings, WatchConfig.from_settings(settings), 60.0)
    assert _count(database_url, "SELECT count(*) FROM task") == (0 if reply else 1)
