"""Starting, reloading and restarting the project's broker; the password file it reads."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

from ingest import broker as broker_control
from ingest.broker_auth import mosquitto_hash
from tests.mqtt_helpers import RunningBroker
from tests.prerequisites import unavailable

pytest_plugins = ["tests.mqtt_helpers"]


def test_password_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        unavailable("mosquitto_passwd not installed (Debian package mosquitto)")
    path = tmp_path / "pw"
    subprocess.run([tool, "-b", "-c", str(path), "dev-1", "s3cret"], check=True)
    reference = path.read_text().strip().split(":", 1)[1]
    _, kind, iterations, salt_b64, _ = reference.split("$")
    assert (kind, iterations) == ("7", "101")
    assert mosquitto_hash("s3cret", base64.b64decode(salt_b64)) == reference
    assert mosquitto_hash("other", base64.b64decode(salt_b64)) != reference


def test_start_is_idempotent_and_status_follows(broker: RunningBroker) -> None:
    pid = broker_control.status(broker.settings).pid
    assert pid is not None
    assert broker_control.start(broker.settings) == pid
    assert broker_control.stop(broker.settings)
    assert not broker_control.status(broker.settings).running
    assert not broker_control.stop(broker.settings)


def test_reload_admits_a_newly_provisioned_device(broker: RunningBroker) -> None:
    assert broker.client("cam-new-01").wait_connected().is_failure
    broker_control.write_config(broker.settings, [*broker.device_ids, "cam-new-01"], [])
    assert broker_control.reload(broker.settings)
    assert not broker.client("cam-new-01", "cam-new-01b").wait_connected().is_failure


def test_retained_status_and_queued_messages_survive_a_restart(broker: RunningBroker) -> None:
    topic = "wangge/v1/devices/cam-roof-01/status"
    session = {"clean_start": False, "session_expiry_s": 3600}
    ingest = broker.client("wangge-ingest", "ingest-a", **session)
    ingest.subscribe("wangge/v1/devices/+/events")
    ingest.close()
    device = broker.client("cam-roof-01")
    device.publish(topic, b"online", retain=True)
    device.publish("wangge/v1/devices/cam-roof-01/events", b"queued")
    device.close()

    broker.stop()
    broker.start()

    assert [
        m.payload for m in broker.client("wangge-ingest", "ingest-a", **session).wait_for(1)
    ] == [b"queued"]
    later = broker.client("wangge-admin")
    later.subscribe(topic)
    assert [(m.payload, m.retain) for m in later.wait_for(1)] == [(b"online", True)]
