"""The Alembic migrations produce exactly the schema that gis/models.py describes: tables,
columns, types, nullability, indexes, unique and foreign keys (alembic's autogenerate
comparison of a freshly migrated database against the models)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import pool, text

from gis.db import make_engine
from gis.models import Base

NOT_OURS = frozenset({"spatial_ref_sys", "alembic_version"})
"""PostGIS's own table and Alembic's bookkeeping."""


def _differences(database_url: str) -> list:
    engine = make_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            partitions = set(
                connection.execute(
                    text("SELECT relname FROM pg_class WHERE relispartition AND relkind = 'r'")
                ).scalars()
            )

            def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN202
                if type_ == "table" and (name in NOT_OURS or name in partitions):
                    return False
                return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)

            context = MigrationContext.configure(
                connection,
                opts={"include_object": include_object, "compare_type": True},
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_produce_exactly_the_models_schema(database_url: str) -> None:
    assert _differences(database_url) == []


def test_schema_comparison_sees_a_column_the_models_lack(database_url: str) -> None:
    """The check can fail: a column added outside the models is reported."""
    engine = make_engine(database_url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE task ADD COLUMN stray integer"))
    engine.dispose()
    differences = _differences(database_url)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("remove_column", "task", "stray")]
