"""Credentials and access rules of the project's Mosquitto: password file and ACL file.

Per-device and per-worker passwords are derived, never stored: HMAC-SHA256 of the id under
``credential_secret``. Provisioning and the credentials export compute the same value, so
only the hash goes into the broker's password file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable

from gis.contract import CHANNELS, TOPIC_ROOT, device_topic, worker_tasks_topic

PBKDF2_ITERATIONS = 101
"""mosquitto_passwd's default. The broker runs PBKDF2 on every CONNECT, and derived passwords
carry 256 bits of entropy, so more iterations would slow reconnect storms and protect nothing."""
_SALT_BYTES = 12


def device_password(secret: str, identity: str) -> str:
    """The MQTT password of a device or worker: hex HMAC-SHA256(secret, id)."""
    return hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()


def mosquitto_hash(password: str, salt: bytes | None = None) -> str:
    """Mosquitto 2.0's password-file hash: ``$7$<iterations>$<b64 salt>$<b64 PBKDF2-SHA512>``."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS, 64)
    b64 = base64.b64encode
    return f"$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def password_file_text(accounts: Iterable[tuple[str, str]]) -> str:
    """Password-file lines ``username:hash`` for (username, plaintext password) pairs."""
    return "".join(f"{user}:{mosquitto_hash(password)}\n" for user, password in accounts)


def acl_text(admin: str, ingest: str, worker_ids: Iterable[str]) -> str:
    """The ACL: devices by pattern, workers and service accounts by name.

    Devices get their rights from ``pattern`` lines (``%u`` = username = device id), because
    Mosquitto 2.0 reads per-user blocks in quadratic time (40,000 blocks: 38 s to start,
    the same devices as patterns: 0.2 s). Patterns apply to every account, so each worker
    and service account also gets a ``deny`` on its would-be device topics: Mosquitto checks
    an account's own rules before patterns, first match first (so a deny comes last).
    Shared subscriptions (``$share/<group>/…``) are checked against the topic after the group.
    """
    lines = [
        "# Written by `wangge broker config` from the database; regenerated, do not edit.",
        f"user {admin}",
        "topic readwrite #",
        "",
        f"user {ingest}",
        f"topic read {TOPIC_ROOT}/devices/+/#",
        f"topic write {worker_tasks_topic('+')}",
        f"topic deny {TOPIC_ROOT}/devices/{ingest}/#",
        "",
    ]
    for worker_id in worker_ids:
        lines.append(f"user {worker_id}")
        lines.append(f"topic read {worker_tasks_topic(worker_id)}")
        lines.append(f"topic deny {TOPIC_ROOT}/devices/{worker_id}/#")
    lines.append("")
    lines.extend(f"pattern write {device_topic('%u', channel)}" for channel in CHANNELS)
    return "\n".join(lines) + "\n"
