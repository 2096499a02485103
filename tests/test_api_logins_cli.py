"""`wangge api user add|demo`: logins created through the CLI work at the login endpoint."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import World


def _wangge(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"WANGGE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "gis.cli", "api", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _can_log_in(client: TestClient, username: str, password: str) -> bool:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    return response.status_code == 200


def test_cli_user_add_creates_a_working_scoped_login(client: TestClient, database_url: str) -> None:
    done = _wangge(
        database_url,
        "user", "add", "duty_b", "--role", "operator", "--scope-level", "community",
        "--scope-code", "150203001002", "--password", "s3cret-值班",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _can_log_in(client, "duty_b", "s3cret-值班")
    assert not _can_log_in(client, "duty_b", "wrong")


def test_cli_user_add_refuses_an_operator_without_area(database_url: str, world: World) -> None:
    done = _wangge(database_url, "user", "add", "nowhere", "--role", "operator", "--password", "x")
    assert done.returncode == 1
    assert "app_user_operator_scoped" in done.stdout


def test_cli_demo_logins_are_printed_and_work(client: TestClient, database_url: str) -> None:
    done = _wangge(database_url, "user", "demo")
    assert done.returncode == 0, done.stderr
    printed = {
        line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:] if line.strip()
    }
    expected = {"admin", "planner", "operator_150203001", "gridworker", "cadre", "department"}
    assert expected <= set(printed)
    for username, password in printed.items():
        assert _can_log_in(client, username, password), username
    again = _wangge(database_url, "user", "demo")  # idempotent
    assert again.returncode == 0
    with connect(database_url) as conn:
        users = dict(conn.execute("SELECT username, worker_id FROM app_user").fetchall())
    assert (users["gridworker"], users["cadre"], users["department"]) == (
        "w_a1",
        "cadre_a",
        "fire_1",
    )
