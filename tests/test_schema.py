"""The database enforces the model: code formats, valid geometry, one current grid version."""

from __future__ import annotations

import psycopg
import pytest

from gis.db import connect

SQUARE = (
    "SRID=4326;MULTIPOLYGON(((109.80 40.60,109.81 40.60,109.81 40.61,109.80 40.61,109.80 40.60)))"
)
BOWTIE = (
    "SRID=4326;MULTIPOLYGON(((109.80 40.60,109.81 40.61,109.81 40.60,109.80 40.61,109.80 40.60)))"
)


def _seed_community(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO district (code, name, geom, source) VALUES ('150203', '昆都仑区', %s, 't')",
        (SQUARE,),
    )
    conn.execute(
        "INSERT INTO street (code, district_code, name, source) "
        "VALUES ('150203001000', '150203', '少先路街道', 't')"
    )
    conn.execute(
        "INSERT INTO community (code, street_code, name, geom, source) "
        "VALUES ('150203001001', '150203001000', '测试社区', %s, 't')",
        (SQUARE,),
    )


def _insert_grid(conn, code="150203001001001", geom=SQUARE, valid_from="2026-01-01", valid_to=None):
    conn.execute(
        "INSERT INTO grid (code, community_code, name, geom, valid_from, valid_to, source) "
        "VALUES (%s, left(%s, 12), 'g', %s, %s, %s, 't')",
        (code, code, geom, valid_from, valid_to),
    )


def test_schema_accepts_a_well_formed_grid(database_url: str) -> None:
    with connect(database_url) as conn:
        _seed_community(conn)
        _insert_grid(conn)
        assert conn.execute("SELECT count(*) FROM grid").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("kwargs", "constraint"),
    [
        ({"code": "15020300100101"}, "grid_code_format"),
        ({"geom": BOWTIE}, "grid_geom_valid"),
        ({"valid_to": "2025-01-01"}, "grid_validity_order"),
    ],
)
def test_schema_rejects_malformed_grid(database_url: str, kwargs: dict, constraint: str) -> None:
    with connect(database_url) as conn:
        _seed_community(conn)
        with pytest.raises(psycopg.errors.IntegrityError, match=constraint):
            _insert_grid(conn, **kwargs)


def test_schema_allows_successive_versions_but_not_overlapping_ones(database_url: str) -> None:
    with connect(database_url) as conn:
        _seed_community(conn)
        _insert_grid(conn, valid_from="2025-01-01", valid_to="2026-01-01")
        _insert_grid(conn, valid_from="2026-01-01")  # the successor, back to back
        with pytest.raises(psycopg.errors.IntegrityError, match="grid_one_version_at_a_time"):
            _insert_grid(conn, valid_from="2026-06-01")


def test_schema_never_stores_a_full_id_number(database_url: str) -> None:
    with connect(database_url) as conn:
        _seed_community(conn)
        conn.execute("INSERT INTO building (code, geom, source) VALUES ('B1', %s, 't')", (SQUARE,))
        conn.execute(
            "INSERT INTO household (code, building_id, unit, room, source) "
            "SELECT 'H1', id, 1, '101', 't' FROM building"
        )
        hid = conn.execute("SELECT id FROM household").fetchone()[0]
        conn.execute(
            "INSERT INTO resident (household_id, name, id_number_masked, source) "
            "VALUES (%s, '张三', '150***********123X', 't')",
            (hid,),
        )
        with pytest.raises(psycopg.errors.IntegrityError, match="resident_id_number_masked_only"):
            conn.execute(
                "INSERT INTO resident (household_id, name, id_number_masked, source) "
                "VALUES (%s, '李四', '15020319500101123X', 't')",
                (hid,),
            )
