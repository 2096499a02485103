"""Accept either an open psycopg connection or a database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from gis.db import connect

ConnOrUrl = psycopg.Connection | str


@contextmanager
def connection(conn_or_url: ConnOrUrl) -> Iterator[psycopg.Connection]:
    """The given connection as is, or a new one for a URL (committed and closed after)."""
    if isinstance(conn_or_url, psycopg.Connection):
        yield conn_or_url
        return
    with connect(conn_or_url) as conn:
        yield conn
