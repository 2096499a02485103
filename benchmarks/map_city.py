"""The city the map benchmarks (map.py, api.py) run against, and the API they measure.

~10k generated grids tessellating the real 昆都仑区 (Kundulun) boundary — built by
spatial_join.py's generator, clearly marked as generated — with open and finished tasks
spread over them and one district operator login. Grid edges get the vertices of real
boundaries, which follow walls and streets (the demo city's grids have ~36 vertices, not a
square's 5): they are split every SEGMENT_M and every vertex moved by a few metres by a
function of its position, so neighbours still share their edges exactly. Each benchmark
creates its own database and drops it at the end; the API runs as its own process.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import shapely

from benchmarks.spatial_join import KUNDULUN, Tessellation, read_kundulun, seed, tessellate
from gis import admin, migrate
from gis.db import connect
from gis.settings import get_settings
from gis.spatial_join.metric import LocalMetric
from tests.ports import on_free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
WANGGE = REPO_ROOT / ".venv" / "bin" / "wangge"
OPERATOR = "bench_operator"
PASSWORD = "bench-operator-password"
OPEN_STATES = ("filed", "dispatched", "accepted", "in_progress")
SEGMENT_M = 17.0
WIGGLE_M = 3.0


@dataclass(frozen=True)
class City:
    database_url: str
    grid_codes: list[str]
    bounds: tuple[float, float, float, float]
    """The district's (min lon, min lat, max lon, max lat)."""
    grid_points: dict[str, tuple[float, float]]
    """A point inside each grid (lon, lat)."""


def _wiggle(coords: np.ndarray, metric: LocalMetric) -> np.ndarray:
    """A smooth displacement of up to WIGGLE_M metres, the same wherever a vertex is shared."""
    x, y = coords[:, 0] * metric.kx, coords[:, 1] * metric.ky
    dx = WIGGLE_M * np.sin(x / 23.0) * np.cos(y / 31.0)
    dy = WIGGLE_M * np.sin(y / 19.0) * np.cos(x / 29.0)
    return np.column_stack((coords[:, 0] + dx / metric.kx, coords[:, 1] + dy / metric.ky))


def roughen(t: Tessellation) -> Tessellation:
    """Grids and communities with boundary-like vertices (see the module docstring)."""
    metric = LocalMetric(round(t.district.centroid.y, 1))
    step = SEGMENT_M / metric.kx

    def rough(geoms: np.ndarray) -> np.ndarray:
        moved = shapely.transform(shapely.segmentize(geoms, step), lambda c: _wiggle(c, metric))
        assert shapely.is_valid(moved).all(), "a wiggle larger than the smallest part"
        parts, owner = shapely.get_parts(moved, return_index=True)  # segmentize drops Multi
        return shapely.multipolygons(parts, indices=owner)

    return dataclasses.replace(
        t, grid_geoms=rough(t.grid_geoms), community_geoms=rough(t.community_geoms)
    )


def _add_tasks(database_url: str, open_tasks: int, closed_tasks: int) -> None:
    """Tasks on random grids: a tenth of the open ones urgent, a fifth overdue."""
    with connect(database_url) as conn:
        conn.execute(
            """
            WITH codes AS (SELECT array_agg(code ORDER BY code) AS c FROM grid),
            spec AS (
                SELECT n, c[1 + floor(random() * array_length(c, 1))::int] AS grid_code
                FROM codes, generate_series(1, %(open)s + %(closed)s) AS n
            )
            INSERT INTO task (grid_code, community_code, state, urgency, category, title,
                              due_at, created_at)
            SELECT grid_code, left(grid_code, 12),
                   CASE WHEN n <= %(open)s THEN (%(states)s::text[])[1 + n %% 4] ELSE 'closed' END,
                   CASE WHEN n <= %(open)s AND n %% 10 = 0 THEN 'urgent' ELSE 'normal' END,
                   CASE WHEN n %% 3 = 0 THEN 'fire' ELSE 'elderly' END,
                   '压测工单 ' || n,
                   now() + CASE WHEN n %% 5 = 0 THEN interval '-2 hours' ELSE interval '1 day' END,
                   now() - n * interval '1 minute'
            FROM spec""",
            {"open": open_tasks, "closed": closed_tasks, "states": list(OPEN_STATES)},
        )
    with connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE task")


def _add_operator(database_url: str) -> None:
    """Through the CLI, as an administrator would."""
    subprocess.run(
        [str(WANGGE), "api", "user", "add", OPERATOR, "--role", "operator", "--scope-level",
         "district", "--scope-code", KUNDULUN, "--password", PASSWORD],
        env=os.environ | {"WANGGE_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )  # fmt: skip


def create_city(name: str, grids: int, open_tasks: int, closed_tasks: int) -> City:
    url = admin.with_database(get_settings().database_url, f"{name}_{os.getpid()}")
    admin.create_database(url)
    migrate.upgrade(url)
    district, streets = read_kundulun()
    tessellation = roughen(tessellate(district, streets, grids))
    seed(url, tessellation)
    _add_tasks(url, open_tasks, closed_tasks)
    _add_operator(url)
    inside = shapely.point_on_surface(tessellation.grid_geoms)
    points = {code: (p.x, p.y) for code, p in zip(tessellation.grid_codes, inside, strict=True)}
    return City(url, list(tessellation.grid_codes), tuple(district.bounds), points)


def drop_city(city: City) -> None:
    admin.drop_database(city.database_url)


@contextmanager
def serve(command_on: Callable[[int], list[str]], database_url: str) -> Iterator[str]:
    """A server process (the API, as in production) started by ``command_on(port)`` on a
    free port (again on another one if that was taken meanwhile); yields its base URL."""
    process, base_url = on_free_port(
        lambda port: start_server(command_on(port), database_url, port)
    )
    try:
        yield base_url
    finally:
        process.terminate()
        process.wait(10)


def start_server(
    command: list[str],
    database_url: str,
    port: int,
    extra_env: dict[str, str] | None = None,
    health_path: str = "/login",
    log_path: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """``command`` serving on ``port`` once ``health_path`` answers: (process, base URL).

    ``extra_env`` adds to the environment (the database and no reminder checks already set).
    The output goes to ``log_path``, or is dropped but for stderr, kept for the error if
    the server exits (a long run should log to a file: nobody drains that pipe)."""
    env = os.environ | {
        "WANGGE_DATABASE_URL": database_url,
        "WANGGE_API_REMINDER_CHECK_S": "0",
        **(extra_env or {}),
    }
    if log_path is None:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    else:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            output = process.stderr.read().decode() if log_path is None else log_path.read_text()
            raise RuntimeError(f"server exited: {output[-2000:]}")
        try:
            httpx.get(f"{base_url}{health_path}", timeout=2)
            return process, base_url
        except httpx.TransportError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def login_token(base_url: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"username": OPERATOR, "password": PASSWORD}
    )
    response.raise_for_status()
    return response.json()["access_token"]
