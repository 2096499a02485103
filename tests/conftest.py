"""Shared fixtures: every test database is created here and dropped afterwards.

A migrated template database is built once per session; each test that needs a database
gets a fresh copy of it (CREATE DATABASE … TEMPLATE is much faster than migrating).
The demo database named by WANGGE_DATABASE_URL is never touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis import admin, migrate
from gis.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BOUNDARIES = REPO_ROOT / "data" / "boundaries"


def _unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    url = admin.with_database(get_settings().database_url, _unique("wangge_test_tmpl"))
    admin.create_database(url)
    try:
        migrate.upgrade(url)
        yield admin.database_name(url)
    finally:
        admin.drop_database(url)


def _fresh_database(template_database: str) -> Iterator[str]:
    url = admin.with_database(get_settings().database_url, _unique("wangge_test"))
    admin.create_database(url, template=template_database)
    try:
        yield url
    finally:
        admin.drop_database(url)


@pytest.fixture
def database_url(template_database: str) -> Iterator[str]:
    """A fresh, migrated, empty database for one test."""
    yield from _fresh_database(template_database)


@pytest.fixture
def baseline_database_url(template_database: str) -> Iterator[str]:
    """A second fresh database, for a run to compare with (e.g. the same stream, no fault)."""
    yield from _fresh_database(template_database)


@pytest.fixture
def world(database_url: str):
    """A small seeded world (2 communities, 3 grids, people, workers, logins) for API tests."""
    from tests.api_world import seed_world

    return seed_world(database_url)


@pytest.fixture
def client(database_url: str, tmp_path: Path, world):
    """A TestClient of the API app over the seeded world."""
    from tests.api_world import api_client

    with api_client(database_url, tmp_path) as test_client:
        yield test_client
