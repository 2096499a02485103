"""Login throttle: per account and per client address, with a lock that doubles.

Failures are counted in PostgreSQL (table ``login_throttle``), so every API process behind
a load balancer sees the same counts. Each key may fail ``free`` times within the failure
window; each further failure locks the key for ``base × 2^(n-1)`` seconds (n = failures
past the free ones), at most ``max``. While a key is locked every attempt — the right
password included — is refused with 429 and Retry-After, and does not count. A successful
login clears the account's count, not the address's: one valid account must not let an
address keep guessing at others. Addresses get more free failures than accounts, since
many users may share one (an office NAT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

from gis.settings import Settings

_FAILED = """
    INSERT INTO login_throttle (key, failures, last_failure_at) VALUES (%(key)s, 1, now())
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE
            WHEN login_throttle.last_failure_at < now() - make_interval(secs => %(window)s)
            THEN 1 ELSE login_throttle.failures + 1 END,
        last_failure_at = now()
    RETURNING failures"""


def account_key(username: str) -> str:
    return f"account:{username[:200]}"


def address_key(address: str) -> str:
    return f"address:{address}"


@dataclass(frozen=True)
class LoginThrottle:
    settings: Settings

    def _keys(self, username: str, address: str) -> dict[str, int]:
        """Each key with its number of free failures."""
        return {
            account_key(username): self.settings.login_account_free_failures,
            address_key(address): self.settings.login_address_free_failures,
        }

    def lock_seconds(self, failures: int, free: int) -> float | None:
        """How long ``failures`` within the window lock a key that has ``free`` of them."""
        past = failures - free
        if past <= 0:
            return None
        return min(
            self.settings.login_lock_max_s, self.settings.login_lock_base_s * 2 ** (past - 1)
        )

    def retry_after(self, conn: psycopg.Connection, username: str, address: str) -> int | None:
        """Whole seconds until the account and the address are both unlocked, if locked."""
        row = conn.execute(
            "SELECT extract(epoch FROM max(locked_until) - now()) FROM login_throttle "
            "WHERE key = ANY(%s) AND locked_until > now()",
            (list(self._keys(username, address)),),
        ).fetchone()
        return None if row[0] is None else max(1, math.ceil(float(row[0])))

    def failed(self, conn: psycopg.Connection, username: str, address: str) -> None:
        for key, free in self._keys(username, address).items():
            failures = conn.execute(
                _FAILED, {"key": key, "window": self.settings.login_failure_window_s}
            ).fetchone()[0]
            lock = self.lock_seconds(failures, free)
            if lock is not None:
                conn.execute(
                    "UPDATE login_throttle SET locked_until = now() + make_interval(secs => %s) "
                    "WHERE key = %s",
                    (lock, key),
                )

    def succeeded(self, conn: psycopg.Connection, username: str) -> None:
        """Clear the account's count, and forget keys quiet for longer than the window."""
        conn.execute("DELETE FROM login_throttle WHERE key = %s", (account_key(username),))
        conn.execute(
            "DELETE FROM login_throttle WHERE last_failure_at < now() - make_interval(secs => %s) "
            "AND (locked_until IS NULL OR locked_until < now())",
            (self.settings.login_failure_window_s,),
        )
