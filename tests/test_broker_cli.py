"""`wangge broker …` and `wangge sim …` end to end: devices and workers come from the database."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt

from gis.db import connect
from gis.settings import Settings
from tests.mqtt_helpers import Client
from tests.ports import on_free_port

WANGGE = [sys.executable, "-m", "gis.cli"]


def _wangge(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*WANGGE, *args], env=env, capture_output=True, text=True, timeout=60)


def _connects(port: int, username: str, password: str) -> bool:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=username)
    client.username_pw_set(username, password)
    try:
        client.connect("127.0.0.1", port)
        while client.loop(timeout=0.1) == mqtt.MQTT_ERR_SUCCESS and not client.is_connected():
            pass
        return client.is_connected()
    finally:
        client.disconnect()


def test_broker_cli_provisions_database_devices(database_url: str, tmp_path: Path) -> None:
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO device (id, kind, model, geom, range_m, source) VALUES "
            "('CAM-T-0001', 'camera', 'tower', 'SRID=4326;POINT(109.8 40.6)', 4000, 't')"
        )
        conn.execute(
            "INSERT INTO worker (id, name, role, source) VALUES ('gw-01', '王芳', 'full_time', 't')"
        )

    def start(port: int) -> tuple[dict[str, str], subprocess.CompletedProcess]:
        env = os.environ | {
            "WANGGE_DATABASE_URL": database_url,
            "WANGGE_RUN_DIR": str(tmp_path / "run"),
            "WANGGE_MQTT_PORT": str(port),
        }
        started = _wangge(env, "broker", "start")
        if started.returncode != 0:
            raise RuntimeError(started.stderr)
        return env, started

    env, started = on_free_port(start)
    port = int(env["WANGGE_MQTT_PORT"])
    try:
        assert "1 台设备" in started.stdout and "1 名网格员" in started.stdout
        assert _wangge(env, "broker", "start").returncode == 0  # already running: reload
        assert _wangge(env, "broker", "status").returncode == 0

        out = tmp_path / "devices.csv"
        assert _wangge(env, "broker", "credentials", "--out", str(out)).returncode == 0
        (row,) = csv.DictReader(out.open())
        assert (row["id"], row["kind"], row["model"], float(row["lon"])) == (
            "CAM-T-0001",
            "camera",
            "tower",
            109.8,
        )
        assert _connects(port, row["id"], row["password"])
        assert not _connects(port, row["id"], row["password"][::-1])

        # The platform's side: an ingest listener on the shared subscription (without one,
        # the broker answers 0x10 and the firmware keeps the message for a retry).
        settings = Settings()
        raw = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="ingest-test", protocol=mqtt.MQTTv5
        )
        raw.username_pw_set(settings.mqtt_ingest_username, settings.mqtt_ingest_password)
        ingest = Client(raw)
        raw.connect("127.0.0.1", port)
        raw.loop_start()
        ingest.wait_connected()
        ingest.subscribe("$share/wangge-ingest/wangge/v1/devices/+/events")

        fire = _wangge(
            env,
            "sim",
            "--devices",
            str(out),
            "scenario",
            "fire",
            "--lon",
            "109.81",
            "--lat",
            "40.6",
        )
        assert fire.returncode == 0, fire.stdout + fire.stderr
        assert "CAM-T-0001" in fire.stdout
        (heard,) = ingest.wait_for(1)
        ingest.close()
        assert heard.topic == "wangge/v1/devices/CAM-T-0001/events"
    finally:
        assert _wangge(env, "broker", "stop").returncode == 0
    assert _wangge(env, "broker", "status").returncode == 3
