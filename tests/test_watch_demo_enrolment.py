"""The demo city enrols its consenting residents living alone in the elderly watch (with
their family contact), once: ``wangge demo ensure`` run again enrols nobody twice."""

from __future__ import annotations

from gis.db import connect
from gis.demo.ensure import enrol_demo_watch
from tests.ingest_world import FAMILY_PHONE, seed_world


def test_demo_enrols_consenting_lone_residents_once(database_url: str) -> None:
    world = seed_world(database_url)
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO device (id, kind, geom, source) "
            "VALUES ('DOOR-B-a1-1', 'door', 'SRID=4326;POINT(109.805 40.61)', 't')"
        )
    assert enrol_demo_watch(database_url) == 1
    assert enrol_demo_watch(database_url) == 0
    with connect(database_url) as conn:
        enrolled = conn.execute(
            "SELECT e.household_id, e.door_device_id, c.name, c.phone FROM watch_enrolment e "
            "JOIN watch_contact c ON c.household_id = e.household_id"
        ).fetchall()
    assert enrolled == [(world.households["a1"], "DOOR-B-a1-1", "王女士", FAMILY_PHONE)]
