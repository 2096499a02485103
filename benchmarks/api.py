"""API benchmark: p95 latency of the viewport grid query and of the task list under 50
concurrent clients, against a naive grid query (indexed, but built whole in PostgreSQL on
every request and unsimplified) in the same run.

Builds its own database (map_city.py: ~10k generated grids tessellating the real 昆都仑区,
2,000 open and 18,000 finished tasks, a district operator) and runs the API as its own
process (one uvicorn worker, as ``wangge api serve``) with one extra route, the naive query.
50 asyncio clients in this process, logged in as the operator, for each scenario:

* bbox — ``/api/grids?bbox=…&zoom=15``: a random street-level view of the district (what the
  map requests: the view and its margin, 2100×1700 px), a different one every time, so no
  assembled body is ever reused (the geometry tiles of api.grid_layer are).
* naive_bbox — the same views as a good first version would serve them: the bbox tested with
  ``&&`` on the grid GiST index (as the real route does), but the whole body built in
  PostgreSQL on every request and the geometry unsimplified, with all decimals; same login,
  scope, pool, process and clients. What is compared is the grid layer's design — geometry
  cached per tile and zoom, simplified and rounded, gzipped once — and nothing else.
* tasks — ``/api/tasks`` (the first page, newest first, with the total) of the operator.
* district — ``/api/grids`` of the whole district at its zoom (12): every operator's opening
  view, one URL for all (the map snaps its boxes), so the cache would serve it — but
  throughout the run a task changes every second (a busy day), which invalidates the
  assembled body and the counts (not the geometry).

Open loop first: each client thinks 0.5–1.5 × --think-ms between requests (operators at
work); then saturated: no think time (``*_saturated_*``). Prints its figures, then one JSON
line.

    .venv/bin/python benchmarks/api.py [--seconds 15] [--clients 50] [--think-ms 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if not __package__:  # run as a file: the repository root, not benchmarks/, on the path
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import httpx
from fastapi import FastAPI, Query
from fastapi.responses import Response

from api.app import create_app
from api.deps import Conn, CurrentUser
from api.geojson import feature_collection
from api.routes.geo import GRID_LOAD, GRID_STATE, grid_where
from api.scope import Where, counts_scope
from benchmarks.map_city import City, create_city, drop_city, login_token, serve
from gis.db import connect

TARGET_MS = 100.0
VIEW_PX = (2100, 1700)
VIEW_ZOOM = 15
DISTRICT_ZOOM = 12

# A first version of the grid layer: the whole body built in PostgreSQL on every request
# (api.geojson.feature_collection with the grid layer's joins and properties), no zoom (full
# geometry, all decimals); its bbox test uses the GiST index like the real route.
NAIVE_PROPERTIES = f"""json_build_object(
    'code', grid.code, 'name', grid.name, 'community_code', grid.community_code,
    'version', grid.version, {GRID_STATE})"""
NAIVE_BBOX = "grid.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"


def naive_grids(conn: Conn, user: CurrentUser, bbox: str = Query()) -> Response:
    minx, miny, maxx, maxy = (float(part) for part in bbox.split(","))
    where = grid_where(user, None).add(NAIVE_BBOX, minx=minx, miny=miny, maxx=maxx, maxy=maxy)
    counts = counts_scope(user) or Where()
    where.params.update(counts.params)  # the counts' scope, as the real route applies it
    body = feature_collection(
        conn,
        id_sql="grid.code",
        geom_column="grid.geom",
        properties_sql=NAIVE_PROPERTIES,
        from_sql=GRID_LOAD.format(counts=counts.sql),
        where=where,
        order_by="grid.code",
        limit=50_000,
    )
    return Response(body, media_type="application/geo+json")


def bench_app() -> FastAPI:
    """The API plus the naive route (``uvicorn benchmarks.api:bench_app --factory``)."""
    app = create_app()
    app.add_api_route("/bench/naive-grids", naive_grids, methods=["GET"])
    return app


def view_bbox(city: City, rng: random.Random) -> str:
    """A random street-level view inside the district."""
    minx, miny, maxx, maxy = city.bounds
    width = VIEW_PX[0] * 360 / (256 * 2**VIEW_ZOOM)
    height = width * VIEW_PX[1] / VIEW_PX[0] * 0.758  # cos(40.7°): mercator pixels are square
    x = rng.uniform(minx, maxx - width)
    y = rng.uniform(miny, maxy - height)
    return f"{x:.6f},{y:.6f},{x + width:.6f},{y + height:.6f}"


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    bytes: list[int] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    def figures(self) -> dict:
        q = statistics.quantiles(self.latencies_ms, n=100)
        return {
            "requests": len(self.latencies_ms),
            "errors": self.errors,
            "rps": round(len(self.latencies_ms) / self.seconds, 1),
            "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1),
            "max_ms": round(max(self.latencies_ms), 1),
            "kb": round(statistics.mean(self.bytes) / 1024, 1),
        }


async def run_clients(
    base_url: str, token: str, url_for: Callable[[random.Random], str], args, think: bool
) -> Result:
    result = Result()
    deadline = time.monotonic() + args.seconds
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)

    async def client(number: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        if think:
            await asyncio.sleep(rng.uniform(0, args.think_ms / 1000))
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                response = await http.get(url_for(rng))
                response.raise_for_status()
            except httpx.HTTPError:
                result.errors += 1
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.bytes.append(len(response.content))
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think_ms / 1000)

    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=60,
    ) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(n, http) for n in range(args.clients)))
        result.seconds = time.monotonic() - started
    return result


class TaskChurn:
    """One task change a second (the cache is invalidated as on a busy day)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with connect(self.database_url, autocommit=True) as conn:
            while not self.stop.wait(1.0):
                conn.execute(
                    "UPDATE task SET updated_at = now() WHERE id = (SELECT min(id) FROM task)"
                )

    def __enter__(self) -> TaskChurn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0, help="per scenario and mode")
    parser.add_argument("--think-ms", type=float, default=1000.0)
    args = parser.parse_args()
    city = create_city("wangge_bench_api", args.grids, open_tasks=2000, closed_tasks=18_000)
    minx, miny, maxx, maxy = city.bounds
    district = f"{minx:.6f},{miny:.6f},{maxx:.6f},{maxy:.6f}"
    scenarios: dict[str, Callable[[random.Random], str]] = {
        "bbox": lambda rng: f"/api/grids?bbox={view_bbox(city, rng)}&zoom={VIEW_ZOOM}",
        "naive_bbox": lambda rng: f"/bench/naive-grids?bbox={view_bbox(city, rng)}",
        "tasks": lambda rng: "/api/tasks",
        "district": lambda rng: f"/api/grids?bbox={district}&zoom={DISTRICT_ZOOM}",
    }
    command = [sys.executable, "-m", "uvicorn", "benchmarks.api:bench_app", "--factory"]
    command += ["--log-level", "warning", "--port"]
    figures: dict = {"grids": len(city.grid_codes), "clients": args.clients}
    try:
        with (
            serve(lambda port: [*command, str(port)], city.database_url) as url,
            TaskChurn(city.database_url),
        ):
            token = login_token(url)
            for think in (True, False):
                for name, url_for in scenarios.items():
                    result = asyncio.run(run_clients(url, token, url_for, args, think))
                    mode = "" if think else "saturated_"
                    for key, value in result.figures().items():
                        figures[f"{name}_{mode}{key}"] = value
                    print(f"{name} {'open loop' if think else 'saturated'}: {result.figures()}")
    finally:
        drop_city(city)
    figures |= {
        "think_ms": args.think_ms,
        "target_ms": TARGET_MS,
        "naive_over_bbox_p95": round(figures["naive_bbox_p95_ms"] / figures["bbox_p95_ms"], 2),
        "naive_over_bbox_kb": round(figures["naive_bbox_kb"] / figures["bbox_kb"], 2),
        "naive_over_bbox_saturated_rps": round(
            figures["naive_bbox_saturated_rps"] / figures["bbox_saturated_rps"], 2
        ),
        "bbox_p95_over_target": round(figures["bbox_p95_ms"] / TARGET_MS, 2),
        "tasks_p95_over_target": round(figures["tasks_p95_ms"] / TARGET_MS, 2),
    }
    for key, value in figures.items():
        print(f"{key:>36}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
