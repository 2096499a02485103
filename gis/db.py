"""Database connections: SQLAlchemy engines for the ORM and raw psycopg for bulk work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url


def make_engine(database_url: str, **kwargs) -> Engine:
    return create_engine(database_url, pool_pre_ping=True, future=True, **kwargs)


def libpq_dsn(database_url: str) -> str:
    """The SQLAlchemy URL rewritten as a libpq connection string for psycopg."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@contextmanager
def connect(database_url: str, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A raw psycopg 3 connection (COPY, LISTEN/NOTIFY, bulk SQL)."""
    with psycopg.connect(libpq_dsn(database_url), autocommit=autocommit) as conn:
        yield conn
