"""Login throttle (api.throttle): per account and per client address, a lock that grows,
429 with Retry-After, audited, shared through PostgreSQL by every API process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from gis.db import connect
from tests.api_world import PASSWORD, World, api_client

LOCK_S = 30.0
"""The first lock; far longer than a test, so a lock never ends by itself mid-test."""


@contextmanager
def throttled_client(
    database_url: str, run_dir: Path, peer: tuple[str, int] = ("192.0.2.10", 4000), **overrides
) -> Iterator[TestClient]:
    settings = {
        "login_account_free_failures": 3,
        "login_address_free_failures": 50,
        "login_lock_base_s": LOCK_S,
    } | overrides
    with api_client(database_url, run_dir, peer, **settings) as client:
        yield client


def _login(client: TestClient, username: str, password: str):  # noqa: ANN202 - httpx response
    return client.post("/api/auth/login", json={"username": username, "password": password})


def _expire_locks(database_url: str) -> None:
    """Let every lock run out now instead of waiting for it."""
    with connect(database_url) as conn:
        conn.execute("UPDATE login_throttle SET locked_until = now() - interval '1 second'")


def _rows(database_url: str) -> dict[str, int]:
    with connect(database_url) as conn:
        return dict(conn.execute("SELECT key, failures FROM login_throttle").fetchall())


def test_account_lock_refuses_even_the_right_password_and_grows_with_each_failure(
    database_url: str, tmp_path: Path, world: World
) -> None:
    retry_after = []
    with throttled_client(database_url, tmp_path) as client:
        answers = [_login(client, "op_a", "wrong").status_code for _ in range(4)]
        locked = _login(client, "op_a", PASSWORD)
        retry_after.append(int(locked.headers["Retry-After"]))
        for _ in range(2):  # after each lock, one more failure locks for twice as long
            _expire_locks(database_url)
            assert _login(client, "op_a", "wrong").status_code == 401
            retry_after.append(int(_login(client, "op_a", PASSWORD).headers["Retry-After"]))
    assert answers == [401, 401, 401, 401]  # the 4th failure is the one that locks
    assert locked.status_code == 429
    assert "access_token" not in locked.text and "wangge_token" not in locked.cookies
    assert (
        0 < retry_after[0] <= LOCK_S < retry_after[1] <= 2 * LOCK_S < retry_after[2] <= 4 * LOCK_S
    )
    with connect(database_url) as conn:
        audited = conn.execute(
            "SELECT action, detail->>'address' FROM audit_log WHERE actor = 'op_a' ORDER BY id"
        ).fetchall()
    assert audited[:5] == [("login_failed", "192.0.2.10")] * 4 + [("login_throttled", "192.0.2.10")]
    assert [action for action, _ in audited].count("login_throttled") == 3


def test_success_after_the_lock_resets_the_account_count(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with throttled_client(database_url, tmp_path) as client:
        for _ in range(4):
            _login(client, "op_a", "wrong")
        _expire_locks(database_url)
        assert _login(client, "op_a", PASSWORD).status_code == 200
        assert "account:op_a" not in _rows(database_url)
        # Counting starts again from zero: three more failures are free.
        assert [_login(client, "op_a", "wrong").status_code for _ in range(3)] == [401] * 3
        assert _login(client, "op_a", PASSWORD).status_code == 200
    assert _rows(database_url)["address:192.0.2.10"] == 7  # the address is not forgiven


def test_an_address_guessing_at_many_accounts_is_locked_for_all_of_them(
    database_url: str, tmp_path: Path, world: World
) -> None:
    overrides = {"login_account_free_failures": 100, "login_address_free_failures": 4}
    with throttled_client(database_url, tmp_path, **overrides) as client:
        for username in ("op_a", "op_b", "gw_a1", "gw_a2", "gw_b1"):
            assert _login(client, username, "wrong").status_code == 401
        assert _login(client, "admin", PASSWORD).status_code == 429
    with throttled_client(database_url, tmp_path, ("192.0.2.99", 4000), **overrides) as other:
        assert _login(other, "admin", PASSWORD).status_code == 200


def test_the_lock_holds_across_api_processes(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with throttled_client(database_url, tmp_path) as first:
        for _ in range(4):
            _login(first, "op_b", "wrong")
    with throttled_client(database_url, tmp_path, ("192.0.2.77", 4000)) as second:
        assert _login(second, "op_b", PASSWORD).status_code == 429  # same account, new app


def test_forwarded_for_counts_only_from_a_trusted_proxy(
    database_url: str, tmp_path: Path, world: World
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}
    trusted = {"api_trusted_proxies": ["10.0.0.0/24"]}
    with throttled_client(database_url, tmp_path, ("10.0.0.1", 4000), **trusted) as proxied:
        proxied.post(
            "/api/auth/login", json={"username": "op_a", "password": "x"}, headers=forwarded
        )
    with throttled_client(database_url, tmp_path, ("198.51.100.5", 4000), **trusted) as direct:
        direct.post(
            "/api/auth/login", json={"username": "op_b", "password": "x"}, headers=forwarded
        )
    keys = set(_rows(database_url))
    assert "address:203.0.113.7" in keys  # through the proxy: the client it names
    assert "address:198.51.100.5" in keys  # not a proxy: its header is ignored
    assert not {"address:10.0.0.1", "address:10.0.0.2"} & keys
