"""The project's own Mosquitto 2.0 (not the system one): config, start, stop, reload.

Everything lives under ``<run_dir>/mosquitto/``: mosquitto.conf, the password and ACL
files, the persistence database, the log and the pid file. The broker listens on
``mqtt_host:mqtt_port`` only, refuses anonymous clients and keeps up to
``mqtt_max_queued_messages`` QoS 1 messages per offline or slow persistent session
(Mosquitto's default of 1000 silently drops the rest).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gis.contract import IDENTITY_PATTERN
from gis.settings import Settings
from ingest.broker_auth import acl_text, device_password, password_file_text

MAX_INFLIGHT_MESSAGES = 100
"""Unacknowledged QoS 1 messages in flight per client; the ingest workers' throughput knob."""
AUTOSAVE_INTERVAL_S = 30
"""A broker crash loses at most this much of what it had queued for offline sessions."""
MAX_PACKET_BYTES = 256 * 1024
"""Hard limit; the broker closes the connection of a client that sends more. Payloads over the
contract's 16 KiB but under this reach ingest, which dead-letters them: a device gets no error
it could loop on (Mosquitto 2.0.11's message_size_limit disconnects, and a device replaying
its buffer would then send the same message forever)."""
SESSION_EXPIRY = "30d"
# set_tcp_nodelay: without it Nagle's algorithm and the receiver's delayed ACK hold small
# packets (a fire alert, a PUBACK) for up to 40 ms on Linux.
"""Persistent sessions of clients that never come back are dropped after this long."""


class BrokerError(RuntimeError):
    pass


@dataclass(frozen=True)
class BrokerPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def password_file(self) -> Path:
        return self.root / "passwords"

    @property
    def acl_file(self) -> Path:
        return self.root / "acl"

    @property
    def persistence_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "mosquitto.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "mosquitto.pid"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    host: str
    port: int
    config: Path


def broker_paths(settings: Settings) -> BrokerPaths:
    return BrokerPaths(settings.run_dir / "mosquitto")


def _config_text(settings: Settings, paths: BrokerPaths) -> str:
    # Run as root, Mosquitto 2 switches to user "mosquitto", who cannot write our run_dir;
    # naming the current user keeps it as whoever started it (ignored when not root).
    user = pwd.getpwuid(os.geteuid()).pw_name
    return f"""# Wangge's own Mosquitto, written by `wangge broker config`; regenerated, do not edit.
user {user}
pid_file {paths.pid_file}
persistence true
persistence_location {paths.persistence_dir}/
autosave_interval {AUTOSAVE_INTERVAL_S}
persistent_client_expiration {SESSION_EXPIRY}
log_dest file {paths.log_file}
log_type error
log_type warning
log_type notice
log_type information
log_timestamp_format %Y-%m-%dT%H:%M:%S
allow_anonymous false
password_file {paths.password_file}
acl_file {paths.acl_file}
max_queued_messages {settings.mqtt_max_queued_messages}
max_inflight_messages {MAX_INFLIGHT_MESSAGES}
max_packet_size {MAX_PACKET_BYTES}
set_tcp_nodelay true
listener {settings.mqtt_port} {settings.mqtt_host}
"""


def _check_identities(
    settings: Settings, device_ids: Sequence[str], worker_ids: Sequence[str]
) -> None:
    pattern = re.compile(IDENTITY_PATTERN)
    service = {settings.mqtt_admin_username, settings.mqtt_ingest_username}
    seen: set[str] = set()
    for identity in [*device_ids, *worker_ids]:
        if not pattern.fullmatch(identity):
            raise BrokerError(f"not a valid device/worker id: {identity!r}")
        if identity in service or identity in seen:
            raise BrokerError(f"id used twice (device, worker or service account): {identity}")
        seen.add(identity)


def write_config(
    settings: Settings, device_ids: Sequence[str], worker_ids: Sequence[str]
) -> BrokerPaths:
    """Write mosquitto.conf, the password file and the ACL for these devices and workers."""
    _check_identities(settings, device_ids, worker_ids)
    paths = broker_paths(settings)
    paths.persistence_dir.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    secret = settings.credential_secret
    accounts = [
        (settings.mqtt_admin_username, settings.mqtt_admin_password),
        (settings.mqtt_ingest_username, settings.mqtt_ingest_password),
        *((i, device_password(secret, i)) for i in [*device_ids, *worker_ids]),
    ]
    acl = acl_text(settings.mqtt_admin_username, settings.mqtt_ingest_username, worker_ids)
    for path, text in (
        (paths.password_file, password_file_text(accounts)),
        (paths.acl_file, acl),
        (paths.config, _config_text(settings, paths)),
    ):
        # Written aside and renamed, so a reload never reads a half-written file.
        partial = path.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.chmod(0o600)
        partial.replace(path)
    return paths


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
    return found


def running_pid(settings: Settings) -> int | None:
    """The pid of our broker if it runs: the pid file names a live mosquitto on our config."""
    paths = broker_paths(settings)
    try:
        pid = int(paths.pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ValueError):
        return None
    return pid if str(paths.config).encode() in cmdline else None


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _log_tail(paths: BrokerPaths, lines: int = 5) -> str:
    if not paths.log_file.exists():
        return "(no log)"
    return "\n".join(paths.log_file.read_text(errors="replace").splitlines()[-lines:])


def start(settings: Settings, timeout_s: float = 10.0) -> int:
    """Start the broker as a daemon and wait until it accepts connections; return its pid.

    Idempotent: if our broker already runs, its pid is returned and nothing else happens.
    """
    pid = running_pid(settings)
    if pid is not None:
        return pid
    paths = broker_paths(settings)
    if not paths.config.exists():
        raise BrokerError(f"no broker config at {paths.config}: run `wangge broker config`")
    host, port = settings.mqtt_host, settings.mqtt_port
    if _accepts_connections(host, port):
        raise BrokerError(f"{host}:{port} is already taken by another process")
    paths.pid_file.unlink(missing_ok=True)
    result = subprocess.run(
        [mosquitto_binary(), "-c", str(paths.config), "-d"], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BrokerError(f"mosquitto refused to start: {result.stderr.strip()}")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = running_pid(settings)
        if pid is not None and _accepts_connections(host, port):
            return pid
        time.sleep(0.05)
    raise BrokerError(f"broker did not come up on {host}:{port}; log:\n{_log_tail(paths)}")


def stop(settings: Settings, timeout_s: float = 10.0) -> bool:
    """Stop our broker (it saves its persistence database first); False if it was not running."""
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    raise BrokerError(f"broker pid {pid} did not stop within {timeout_s} s")


def reload(settings: Settings) -> bool:
    """Make a running broker re-read its password and ACL files (SIGHUP)."""
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGHUP)
    return True


def status(settings: Settings) -> BrokerStatus:
    pid = running_pid(settings)
    return BrokerStatus(
        running=pid is not None,
        pid=pid,
        host=settings.mqtt_host,
        port=settings.mqtt_port,
        config=broker_paths(settings).config,
    )
