"""The grid layer (``/api/grids``) assembled from two caches that change at different rates.

Geometry changes rarely (a grid edit), task counts every second on a busy day. So:

* tiles: each grid's feature without its counts — code, name, community, version and the
  geometry simplified for the zoom — pre-serialised, per square tile of about the request's
  size (a bbox covers at most 2×2 tiles), per scope WHERE. Only grid changes invalidate them.
* states: one small map grid code → counts of open tasks, from one aggregate query,
  refreshed on the first request after any task change (single-flight, so a burst of
  changes costs one query per request wave, not one per change).
* bodies: the assembled FeatureCollection (and its gzip) per request, so many viewers of
  the same view share one assembly until the next change.

A response is the tiles' features inside the bbox (exactly the grids whose bounding box
meets it, as ``geom && bbox``), deduplicated, in code order, each closed with its counts.
Scope stays in SQL: the tile key is the scope's WHERE, so viewers never share entries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from api.geojson import BBox, add_bbox, geometry_json
from api.layer_cache import LayerBody, LayerCache
from api.scope import Where
from gis.workorders import OPEN_STATES

OPEN_TASK_LOAD = """
    SELECT task.grid_code, count(*)::int AS open_tasks,
           (count(*) FILTER (WHERE task.urgency = 'urgent'))::int AS urgent_tasks,
           (count(*) FILTER (WHERE task.due_at < now()))::int AS overdue_tasks
    FROM task WHERE task.state = ANY(%(open_states)s) AND {counts} GROUP BY task.grid_code"""
"""Open-task counts per grid code (open tasks are few: one aggregate for all grids), of the
tasks ``{counts}`` (a task scope, api.scope.counts_scope) lets through."""

_STATES_KEY = "states"


@dataclass(frozen=True)
class GridFeature:
    code: str
    minx: float
    miny: float
    maxx: float
    maxy: float
    head: bytes
    """The Feature's JSON up to its last property, open: counts and ``}}`` follow."""

    def meets(self, bbox: BBox) -> bool:
        return (
            self.maxx >= bbox.minx
            and self.minx <= bbox.maxx
            and self.maxy >= bbox.miny
            and self.miny <= bbox.maxy
        )


def counts_tail(open_tasks: int, urgent_tasks: int, overdue_tasks: int) -> bytes:
    """The counts that close a feature, with the state the map colours it by."""
    state = "urgent" if urgent_tasks else ("open" if open_tasks else "ok")
    return (
        f', "open_tasks" : {open_tasks}, "urgent_tasks" : {urgent_tasks}, '
        f'"overdue_tasks" : {overdue_tasks}, "state" : "{state}"}}}}'
    ).encode()


_NO_TASKS_TAIL = counts_tail(0, 0, 0)


class GridLayerCache:
    """The grid layer's caches; ``invalidate`` on a task change, ``invalidate_grids`` on a
    grid change (which also changes what the tasks' counts attach to)."""

    def __init__(self, ttl_s: float = 60.0, max_tiles: int = 4096):
        self.tiles: LayerCache[tuple[GridFeature, ...]] = LayerCache(max_tiles, ttl_s)
        self.states: LayerCache[dict[str, bytes]] = LayerCache(64, ttl_s)
        self.bodies: LayerCache[LayerBody] = LayerCache(64, ttl_s)

    def invalidate(self) -> None:
        self.states.invalidate()
        self.bodies.invalidate()

    def invalidate_grids(self) -> None:
        self.tiles.invalidate()
        self.invalidate()


def tiles_of(bbox: BBox) -> list[BBox]:
    """The tiles of the square grid whose tile size is the smallest power-of-two fraction of
    360° not smaller than the bbox: 1, 2 or 4 tiles, the same for every nearby bbox of
    about that size (the map's views at one zoom)."""
    extent = max(bbox.maxx - bbox.minx, bbox.maxy - bbox.miny)
    size = 360.0 / 2 ** max(0, min(30, math.floor(math.log2(360.0 / extent))))
    columns = range(math.floor(bbox.minx / size), math.floor(bbox.maxx / size) + 1)
    rows = range(math.floor(bbox.miny / size), math.floor(bbox.maxy / size) + 1)
    return [BBox(x * size, y * size, (x + 1) * size, (y + 1) * size) for x in columns for y in rows]


def _load_tile(conn: psycopg.Connection, where: Where, zoom: int | None) -> tuple[GridFeature, ...]:
    geometry, geometry_params = geometry_json("grid.geom", zoom)
    rows = conn.execute(
        f"""SELECT grid.code,
                   ST_XMin(grid.geom), ST_YMin(grid.geom), ST_XMax(grid.geom), ST_YMax(grid.geom),
                   json_build_object(
                       'type', 'Feature', 'id', grid.code, 'geometry', {geometry},
                       'properties', json_build_object(
                           'code', grid.code, 'name', grid.name,
                           'community_code', grid.community_code, 'version', grid.version)
                   )::text
            FROM grid WHERE {where.sql} ORDER BY grid.code""",
        where.params | geometry_params,
    ).fetchall()
    # json_build_object's text ends with the properties' and the feature's closing braces.
    return tuple(
        GridFeature(code, minx, miny, maxx, maxy, feature[:-2].encode())
        for code, minx, miny, maxx, maxy, feature in rows
    )


def _load_states(conn: psycopg.Connection, counts: Where) -> dict[str, bytes]:
    rows = conn.execute(
        OPEN_TASK_LOAD.format(counts=counts.sql),
        counts.params | {"open_states": sorted(OPEN_STATES)},
    ).fetchall()
    return {code: counts_tail(*counts) for code, *counts in rows if code is not None}


def _features(
    conn: psycopg.Connection,
    cache: GridLayerCache,
    where: Where,
    bbox: BBox | None,
    zoom: int | None,
) -> dict[str, bytes]:
    """Code → feature head of the grids ``where`` selects whose bounding box meets ``bbox``."""
    tiles: Iterable[BBox | None] = tiles_of(bbox) if bbox else [None]
    features: dict[str, bytes] = {}
    for tile in tiles:
        tile_where = add_bbox(Where(list(where.clauses), dict(where.params)), "grid.geom", tile)
        key = repr((tile_where.sql, sorted(tile_where.params.items()), zoom))
        for feature in cache.tiles.get(key, lambda w=tile_where: _load_tile(conn, w, zoom)):
            if bbox is None or feature.meets(bbox):
                features[feature.code] = feature.head
    return features


def grid_layer(
    conn: psycopg.Connection,
    cache: GridLayerCache,
    where: Where,
    bbox: BBox | None,
    zoom: int | None,
    limit: int,
    counts: Where | None = None,
) -> LayerBody:
    """The FeatureCollection of the grids ``where`` (scope and filters, no bbox) selects
    within ``bbox``, at most ``limit`` in code order, with their current task counts (of
    the tasks ``counts`` lets through, if given: one shared count map otherwise)."""
    counted = counts or Where()
    counts_key = repr((_STATES_KEY, counted.sql, sorted(counted.params.items())))

    def assemble() -> LayerBody:
        features = _features(conn, cache, where, bbox, zoom)
        states = cache.states.get(counts_key, lambda: _load_states(conn, counted))
        parts = (
            features[code] + states.get(code, _NO_TASKS_TAIL) for code in sorted(features)[:limit]
        )
        return LayerBody.of(
            b'{"type" : "FeatureCollection", "features" : [' + b", ".join(parts) + b"]}"
        )

    key = repr((where.sql, sorted(where.params.items()), bbox, zoom, limit, counts_key))
    return cache.bodies.get(key, assemble)
