"""One batch joined by PostGIS over several connections at once.

A single query runs on a single server process, so one connection keeps one core busy.
Split across connections, the parts run on as many server processes; psycopg waits for
the server without holding the GIL, so plain threads drive them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import psycopg

from gis.settings import DEFAULT_JOIN_TOLERANCE_M
from gis.spatial_join.arrays import as_coordinates
from gis.spatial_join.moments import moments_us
from gis.spatial_join.postgis import join_postgis
from gis.spatial_join.result import JoinResult


def join_postgis_parallel(
    connections: Sequence[psycopg.Connection],
    lon: np.ndarray,
    lat: np.ndarray,
    at: datetime | np.ndarray,
    tolerance_m: float = DEFAULT_JOIN_TOLERANCE_M,
    lat0: float | None = None,
) -> JoinResult:
    """join_postgis of equal consecutive parts of the batch, one per connection, at once.

    Each part runs in its own transaction: a grid change committed meanwhile may be seen
    by some parts and not by others. Pass ``lat0`` to save each part its own query of it.
    """
    if not connections:
        raise ValueError("at least one connection is needed")
    lon, lat = as_coordinates(lon, lat)
    moments = moments_us(at, len(lon)).astype("datetime64[us]")
    bounds = np.linspace(0, len(lon), len(connections) + 1).astype(int)
    with ThreadPoolExecutor(len(connections), thread_name_prefix="join-postgis") as pool:
        parts = [
            pool.submit(
                join_postgis,
                conn,
                lon[start:stop],
                lat[start:stop],
                moments[start:stop],
                tolerance_m,
                lat0,
            )
            for conn, start, stop in zip(connections, bounds[:-1], bounds[1:], strict=True)
        ]
        return JoinResult.concatenate([part.result() for part in parts])
