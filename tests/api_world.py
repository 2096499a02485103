"""A small world for the API tests, built with SQL in a fresh test database.

One street with two communities: A (grids A1, A2) and B (grid B1). Each grid has a
building, a household and a resident; A1 has a camera and a fire incident. Workers: one
full-time grid worker per grid, a grid head and a cadre and duty desk for A, a street duty
desk, a fire-brigade department member. Tasks: A1 dispatched to its worker, A2 filed, B1
dispatched to its worker. Logins for every role share one password (hashed once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Polygon, box

from api.app import create_app
from api.users import hash_password
from gis.db import connect
from gis.settings import Settings

PASSWORD = "correct horse 电池"
STREET = "150203001000"
COMMUNITY_A = "150203001001"
COMMUNITY_B = "150203001002"
GRID_A1 = "150203001001001"
GRID_A2 = "150203001001002"
GRID_B1 = "150203001002001"


def _wkt(geom) -> str:  # noqa: ANN001 - any shapely geometry
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    return f"SRID=4326;{geom.wkt}"


def zigzag_grid(minx: float, miny: float, maxx: float, maxy: float, teeth: int) -> Polygon:
    """A rectangle whose top edge is a fine saw (``teeth`` teeth, 1 m high): many vertices
    that a low-zoom simplification should drop."""
    step = (maxx - minx) / teeth
    top = []
    for i in range(teeth):
        top.append((minx + i * step, maxy))
        top.append((minx + (i + 0.5) * step, maxy - 0.00001))
    top.append((maxx, maxy))
    ring = [(minx, miny), (maxx, miny), *reversed(top), (minx, miny)]
    polygon = Polygon(ring)
    assert polygon.is_valid
    return polygon


@dataclass(frozen=True)
class World:
    tasks: dict[str, int]
    households: dict[str, int]
    residents: dict[str, int]
    buildings: dict[str, int]
    incident_a1: int


USERS = {
    # username: (role, scope_level, scope_code, worker_id)
    "admin": ("admin", None, None, None),
    "op_a": ("operator", "community", COMMUNITY_A, None),
    "op_b": ("operator", "community", COMMUNITY_B, None),
    "op_street": ("operator", "street", STREET, None),
    "gw_a1": ("grid_worker", None, None, "w_a1"),
    "gw_a2": ("grid_worker", None, None, "w_a2"),
    "gw_b1": ("grid_worker", None, None, "w_b1"),
    "cadre_a": ("cadre", "community", COMMUNITY_A, "cadre_a"),
    "planner": ("planner", "street", STREET, None),
    "planner_a": ("planner", "community", COMMUNITY_A, None),
    "planner_nowhere": ("planner", None, None, None),
    "fire": ("department", None, None, "fire_1"),
}


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def seed_world(database_url: str) -> World:
    district = box(109.79, 40.59, 109.85, 40.63)
    community_a = box(109.80, 40.60, 109.82, 40.62)
    community_b = box(109.82, 40.60, 109.84, 40.62)
    grids = {
        GRID_A1: zigzag_grid(109.80, 40.60, 109.81, 40.62, teeth=200),
        GRID_A2: box(109.81, 40.60, 109.82, 40.62),
        GRID_B1: community_b,
    }
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO district (code, name, geom, source) VALUES ('150203', '昆都仑区', %s, 't')",
            (_wkt(district),),
        )
        conn.execute(
            "INSERT INTO street (code, district_code, name, source) "
            "VALUES (%s, '150203', '少先路街道', 't')",
            (STREET,),
        )
        for code, name, geom in (
            (COMMUNITY_A, "甲社区", community_a),
            (COMMUNITY_B, "乙社区", community_b),
        ):
            conn.execute(
                "INSERT INTO community (code, street_code, name, geom, source) "
                "VALUES (%s, %s, %s, %s, 't')",
                (code, STREET, name, _wkt(geom)),
            )
        for code, geom in grids.items():
            conn.execute(
                "INSERT INTO grid (code, community_code, name, geom, valid_from, source) "
                "VALUES (%s, left(%s, 12), %s, %s, '2026-01-01', 't')",
                (code, code, f"网格{code[-3:]}", _wkt(geom)),
            )
        buildings, households, residents = {}, {}, {}
        for key, grid in (("a1", GRID_A1), ("a2", GRID_A2), ("b1", GRID_B1)):
            centre = shapely.centroid(grids[grid])
            footprint = box(centre.x - 0.0002, centre.y - 0.0002, centre.x + 0.0002, centre.y)
            buildings[key] = conn.execute(
                "INSERT INTO building (code, community_code, name, geom, households, source) "
                "VALUES (%s, left(%s, 12), %s, %s, 1, 't') RETURNING id",
                (f"B-{key}", grid, f"{key.upper()}号楼", _wkt(footprint)),
            ).fetchone()[0]
            households[key] = conn.execute(
                "INSERT INTO household (code, building_id, unit, room, tags, source) "
                "VALUES (%s, %s, 1, '101', %s, 't') RETURNING id",
                (f"H-{key}", buildings[key], ["独居老人"] if key == "a1" else []),
            ).fetchone()[0]
            residents[key] = conn.execute(
                "INSERT INTO resident (household_id, name, birth_year, id_number_masked, "
                "id_number_hmac, phone, source) VALUES (%s, %s, 1940, %s, %s, '13800000000', 't') "
                "RETURNING id",
                (households[key], f"居民{key}", "150***********123X", f"hmac-{key}"),
            ).fetchone()[0]
        workers = [
            ("w_a1", "网格员甲一", "full_time", None, COMMUNITY_A, None),
            ("w_a2", "网格员甲二", "full_time", None, COMMUNITY_A, None),
            ("w_b1", "网格员乙一", "full_time", None, COMMUNITY_B, None),
            ("head_a", "网格长甲", "grid_head", None, COMMUNITY_A, None),
            ("cadre_a", "甲社区书记", "cadre", None, COMMUNITY_A, None),
            ("desk_a", "甲社区值班台", "duty_desk", None, COMMUNITY_A, None),
            ("desk_street", "街道值班台", "duty_desk", None, None, STREET),
            ("fire_1", "消防员", "department", "消防", None, STREET),
        ]
        conn.cursor().executemany(
            "INSERT INTO worker (id, name, role, department, community_code, street_code, source) "
            "VALUES (%s, %s, %s, %s, %s, %s, 't')",
            workers,
        )
        conn.cursor().executemany(
            "INSERT INTO grid_assignment (worker_id, grid_code, role, valid_from, valid_to) "
            "VALUES (%s, %s, %s, %s, %s)",
            [
                ("w_a1", GRID_A1, "full_time", "2026-01-01", None),
                ("w_a2", GRID_A2, "full_time", "2026-01-01", None),
                ("w_b1", GRID_B1, "full_time", "2026-01-01", None),
                ("head_a", GRID_A1, "grid_head", "2026-01-01", None),
                ("w_b1", GRID_A1, "full_time", "2025-01-01", "2025-12-31"),  # expired
            ],
        )
        conn.execute(
            "INSERT INTO device (id, kind, geom, grid_code, online, source) VALUES "
            "('cam_a1', 'camera', 'SRID=4326;POINT(109.805 40.61)', %s, true, 't'), "
            "('meter_b1', 'water_meter', 'SRID=4326;POINT(109.83 40.61)', %s, false, 't')",
            (GRID_A1, GRID_B1),
        )
        incident_a1 = conn.execute(
            "INSERT INTO incident (type, category, severity, merge_key, grid_code, "
            "community_code, geom, location_method, device_ids, first_seen, last_seen) "
            "VALUES ('fire.smoke', 'fire', 'urgent', 'k-a1', %s, left(%s, 12), "
            "'SRID=4326;POINT(109.805 40.61)', 'device', '{cam_a1}', now(), now()) RETURNING id",
            (GRID_A1, GRID_A1),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO event (event_id, device_id, type, ts, geom, grid_code, payload, "
            "incident_id) VALUES ('e-a1', 'cam_a1', 'fire.smoke', now(), "
            "'SRID=4326;POINT(109.805 40.61)', %s, '{}', %s)",
            (GRID_A1, incident_a1),
        )
        tasks = {}
        for key, grid, state, assignee, incident in (
            ("a1", GRID_A1, "dispatched", "w_a1", incident_a1),
            ("a2", GRID_A2, "filed", None, None),
            ("b1", GRID_B1, "dispatched", "w_b1", None),
        ):
            tasks[key] = conn.execute(
                "INSERT INTO task (incident_id, grid_code, community_code, assignee_id, state, "
                "urgency, category, title, due_at) VALUES (%s, %s, left(%s, 12), %s, %s, "
                "'urgent', 'fire', %s, now() + interval '30 minutes') RETURNING id",
                (incident, grid, grid, assignee, state, f"烟雾报警 {key}"),
            ).fetchone()[0]
        for username, (role, level, code, worker) in USERS.items():
            conn.execute(
                "INSERT INTO app_user (username, password_hash, role, scope_level, scope_code, "
                "worker_id, display_name) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (username, _password_hash(), role, level, code, worker, username),
            )
    return World(tasks, households, residents, buildings, incident_a1)


def login(client: TestClient, username: str) -> dict[str, str]:
    """Log in and return the Authorization header; the cookie jar is emptied so each
    request is authenticated by the header alone."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def api_settings(database_url: str, run_dir: Path) -> Settings:
    return Settings(database_url=database_url, run_dir=run_dir, api_reminder_check_s=0)


PEER = ("testclient", 50000)
"""The TestClient's default client address (not an IP address)."""


@contextmanager
def api_client(
    database_url: str, run_dir: Path, peer: tuple[str, int] = PEER, **overrides: object
) -> Iterator[TestClient]:
    """A TestClient of a real app (pool, live hub) on the test database, connecting from
    ``peer``, with settings ``overrides``."""
    settings = api_settings(database_url, run_dir).model_copy(update=overrides)
    with TestClient(create_app(settings), client=peer) as client:
        yield client
