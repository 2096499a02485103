"""API logins: argon2id password hashes, the User every request carries, demo accounts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg.rows import dict_row

_HASHER = PasswordHasher()
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _HASHER.hash("wangge-no-such-user")

SCOPE_PREFIX_LENGTH = {"district": 6, "street": 9, "community": 12, "grid": 15}
"""How many leading digits of a grid or community code a scope of each level fixes."""

USER_COLUMNS = (
    "app_user.id, app_user.username, app_user.role, app_user.scope_level, "
    "app_user.scope_code, app_user.worker_id, app_user.display_name, app_user.locale"
)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    scope_level: str | None
    scope_code: str | None
    worker_id: str | None
    display_name: str
    locale: str

    @property
    def scope_prefix(self) -> str | None:
        """The code prefix every grid, community or task of this user's area starts with."""
        if self.scope_level is None or self.scope_code is None:
            return None
        return self.scope_code[: SCOPE_PREFIX_LENGTH[self.scope_level]]

    def as_dict(self) -> dict:
        return asdict(self)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The active user with this username and password, or None; upgrades stale hashes."""
    row = conn.execute(
        f"SELECT {USER_COLUMNS}, app_user.password_hash FROM app_user "
        "WHERE username = %s AND active",
        (username,),
    ).fetchone()
    stored = row[-1] if row else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _HASHER.check_needs_rehash(stored):
        conn.execute(
            "UPDATE app_user SET password_hash = %s WHERE id = %s",
            (hash_password(password), row[0]),
        )
    return User(*row[:-1])


def create_user(
    conn: psycopg.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    scope_level: str | None = None,
    scope_code: str | None = None,
    worker_id: str | None = None,
    locale: str = "zh-CN",
    replace: bool = False,
) -> User:
    """Insert a login (or, with ``replace``, overwrite the one with this username).

    A cadre without an explicit scope gets the community of their worker record. The
    database's check constraints refuse roles and scopes that do not fit together.
    """
    if role == "cadre" and scope_code is None and worker_id is not None:
        row = conn.execute("SELECT community_code FROM worker WHERE id = %s", (worker_id,))
        community = row.fetchone()
        if community and community[0]:
            scope_level, scope_code = "community", community[0]
    conflict = (
        "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, "
        "role = EXCLUDED.role, scope_level = EXCLUDED.scope_level, "
        "scope_code = EXCLUDED.scope_code, worker_id = EXCLUDED.worker_id, "
        "display_name = EXCLUDED.display_name, locale = EXCLUDED.locale, active = true"
        if replace
        else ""
    )
    row = conn.execute(
        "INSERT INTO app_user (username, password_hash, role, scope_level, scope_code, "
        "worker_id, display_name, locale) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        f"{conflict} RETURNING {USER_COLUMNS}",
        (
            username,
            hash_password(password),
            role,
            scope_level,
            scope_code,
            worker_id,
            display_name or username,
            locale,
        ),
    ).fetchone()
    return User(*row)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    scope: str


def _demo_password(username: str) -> str:
    return f"{username}-dev"


def create_demo_users(conn: psycopg.Connection) -> list[DemoLogin]:
    """Logins for a loaded demo city (idempotent): an admin, a planner of the first
    district that has communities, an operator per street that has communities, and —
    where the data has them — a grid worker, a cadre and a department member. Passwords
    are ``<username>-dev``: for development only."""
    cur = conn.cursor(row_factory=dict_row)
    wanted: list[dict] = [{"username": "admin", "role": "admin", "display_name": "系统管理员"}]
    district = cur.execute(
        "SELECT left(street_code, 6) AS code FROM community ORDER BY street_code LIMIT 1"
    ).fetchone()
    if district:
        wanted.append(
            {
                "username": "planner",
                "role": "planner",
                "scope_level": "district",
                "scope_code": district["code"],
                "display_name": "网格规划员",
            }
        )
    for street in cur.execute(
        "SELECT street.code, street.name FROM street "
        "WHERE EXISTS (SELECT 1 FROM community WHERE community.street_code = street.code) "
        "ORDER BY street.code"
    ):
        wanted.append(
            {
                "username": f"operator_{street['code'][:9]}",
                "role": "operator",
                "scope_level": "street",
                "scope_code": street["code"],
                "display_name": f"{street['name']}值班员",
            }
        )
    grid_worker = cur.execute(
        "SELECT worker.id, worker.name FROM worker JOIN grid_assignment ga "
        "ON ga.worker_id = worker.id AND ga.valid_to IS NULL "
        "WHERE worker.active AND worker.role = 'full_time' ORDER BY ga.grid_code LIMIT 1"
    ).fetchone()
    if grid_worker:
        wanted.append(
            {
                "username": "gridworker",
                "role": "grid_worker",
                "worker_id": grid_worker["id"],
                "display_name": grid_worker["name"],
            }
        )
    cadre = cur.execute(
        "SELECT id, name FROM worker WHERE active AND role = 'cadre' "
        "AND community_code IS NOT NULL ORDER BY community_code, id LIMIT 1"
    ).fetchone()
    if cadre:
        wanted.append(
            {
                "username": "cadre",
                "role": "cadre",
                "worker_id": cadre["id"],
                "display_name": cadre["name"],
            }
        )
    department = cur.execute(
        "SELECT id, name, department FROM worker WHERE active AND role = 'department' "
        "ORDER BY department, id LIMIT 1"
    ).fetchone()
    if department:
        wanted.append(
            {
                "username": "department",
                "role": "department",
                "worker_id": department["id"],
                "display_name": f"{department['department'] or ''}{department['name']}",
            }
        )
    logins = []
    for spec in wanted:
        password = _demo_password(spec["username"])
        user = create_user(conn, password=password, replace=True, **spec)
        scope = f"{user.scope_level}:{user.scope_code}" if user.scope_level else ""
        logins.append(DemoLogin(user.username, password, user.role, scope or user.worker_id or ""))
    return logins
