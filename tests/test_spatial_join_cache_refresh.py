"""GridIndexCache follows the grid table through LISTEN/NOTIFY, then stops cleanly."""

from __future__ import annotations

import threading
import time

import numpy as np
import shapely

from gis.db import connect
from gis.spatial_join import GridIndexCache
from tests.mqtt_helpers import wait_until
from tests.test_spatial_join_semantics import C1, CHANGE, NOW, PAST, _ewkb, seed_layout

HOLE_LON, HOLE_LAT = np.array([109.825]), np.array([40.625])  # C1 has no grid here
HOLE_GRID = f"{C1}007"


def _grid_at_hole(cache: GridIndexCache) -> str | None:
    return cache.index.join(HOLE_LON, HOLE_LAT, NOW).grid_code[0]


def _insert_hole_grid(database_url: str) -> None:
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO grid (code, community_code, name, geom, valid_from, source) "
            "VALUES (%s, %s, 'new', %s, %s, 'test')",
            (HOLE_GRID, C1, _ewkb(shapely.box(109.82, 40.62, 109.83, 40.63)), PAST),
        )


def test_cache_rebuilds_after_grid_insert_and_update(database_url: str) -> None:
    seed_layout(database_url)
    with GridIndexCache(database_url, debounce_s=0.05) as cache:
        assert _grid_at_hole(cache) is None
        _insert_hole_grid(database_url)
        assert wait_until(lambda: _grid_at_hole(cache) == HOLE_GRID, timeout_s=10)
        generation = cache.generation
        assert generation >= 1

        started = time.monotonic()
        with connect(database_url) as conn:
            conn.execute("UPDATE grid SET valid_to = %s WHERE code = %s", (CHANGE, HOLE_GRID))
        assert wait_until(lambda: _grid_at_hole(cache) is None, timeout_s=10)
        assert cache.generation > generation
        print(f"grid index refreshed {time.monotonic() - started:.2f} s after the update")
    assert not any(t.name == "grid-index-cache" for t in threading.enumerate())


def test_concurrent_readers_see_one_whole_index_per_batch(database_url: str) -> None:
    """Readers keep joining while the index is swapped: no errors, and each batch is
    answered entirely by the old or entirely by the new index."""
    seed_layout(database_url)
    rng = np.random.default_rng(3)
    # deep inside the hole: beyond the tolerance from every other grid
    lon, lat = rng.uniform(109.821, 109.829, 20_000), rng.uniform(40.621, 40.629, 20_000)
    answers: list[set[str | None]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read(cache: GridIndexCache) -> None:
        while not stop.is_set():
            try:
                answers.append(set(cache.index.join(lon, lat, NOW).grid_code))
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
                return

    with GridIndexCache(database_url, debounce_s=0.0) as cache:
        readers = [threading.Thread(target=read, args=(cache,)) for _ in range(2)]
        for reader in readers:
            reader.start()
        _insert_hole_grid(database_url)
        assert wait_until(lambda: {HOLE_GRID} in answers, timeout_s=10)
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert {None} in answers
    assert all(answer in ({None}, {HOLE_GRID}) for answer in answers)
