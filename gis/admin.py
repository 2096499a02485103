"""Creating and dropping whole databases (set-up and tests), with PostGIS enabled."""

from __future__ import annotations

import re

import psycopg
from sqlalchemy.engine import make_url

from gis.db import libpq_dsn

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _server_dsn(database_url: str) -> str:
    return libpq_dsn(make_url(database_url).set(database="postgres").render_as_string(False))


def database_name(database_url: str) -> str:
    return make_url(database_url).database or ""


def with_database(database_url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


def _check(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"unsafe database name: {name!r}")
    return name


def database_exists(database_url: str) -> bool:
    name = database_name(database_url)
    with psycopg.connect(_server_dsn(database_url), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def create_database(database_url: str, template: str | None = None) -> None:
    name = _check(database_name(database_url))
    with psycopg.connect(_server_dsn(database_url), autocommit=True) as conn:
        sql = f'CREATE DATABASE "{name}"'
        if template:
            sql += f' TEMPLATE "{_check(template)}"'
        conn.execute(sql)


def drop_database(database_url: str) -> None:
    name = _check(database_name(database_url))
    with psycopg.connect(_server_dsn(database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
