"""A batch split across two connections gives exactly the one-connection result."""

from __future__ import annotations

import numpy as np
import pytest

from gis.db import connect
from gis.spatial_join import join_postgis, join_postgis_parallel
from tests.test_spatial_join_agreement import _mismatches, _random_moments, _random_points
from tests.test_spatial_join_semantics import NOW, seed_layout


def test_two_connections_agree_with_one_point_by_point(database_url: str) -> None:
    seed_layout(database_url)
    rng = np.random.default_rng(5)
    lon, lat = _random_points(rng)
    at = _random_moments(rng)
    with connect(database_url) as first, connect(database_url) as second:
        split = join_postgis_parallel([first, second], lon, lat, at)
        whole = join_postgis(first, lon, lat, at)
    assert len(split) == len(lon)
    assert len(_mismatches(split, whole)) == 0
    # both halves hold every kind of answer, so neither half was dropped or swapped
    half = len(lon) // 2
    for part in (split.method[:half], split.method[half:]):
        assert set(part) == {"inside", "nearest", "unassigned"}


def test_mismatched_inputs_are_refused_before_splitting(database_url: str) -> None:
    with connect(database_url) as first, connect(database_url) as second:
        with pytest.raises(ValueError, match="same length"):
            join_postgis_parallel([first, second], np.zeros(4), np.zeros(5), NOW)
        moments = np.full(5, np.datetime64("2026-06-01T00:00:00", "us"))
        with pytest.raises(ValueError, match="datetime64"):
            join_postgis_parallel([first, second], np.zeros(4), np.zeros(4), moments)
