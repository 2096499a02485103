"""Staying close to the current grids: after new housing pushes grids out of band, the
proposal brings every grid back in band and keeps most households in their grid."""

from __future__ import annotations

import numpy as np

from gis.redistrict import inputs
from gis.redistrict.propose import ProposeOptions, propose
from tests.redistrict_world import lattice


def _inputs(households: np.ndarray, current=None) -> inputs.PlannerInputs:
    buildings, roads, boundary = lattice(5, 3, 4, households)
    buildings = buildings.assign(building_id=buildings["id"], assumption="given")
    return inputs.assemble(buildings, roads, boundary, current=current)


def test_stay_close_keeps_at_least_80_percent_and_holds_the_band():
    households = np.random.default_rng(11).integers(40, 100, 60)
    current = propose(_inputs(households), ProposeOptions(seed=2)).grids
    grown = households.copy()
    grown[[3, 17, 30, 44]] += 90  # new flats: some grids go above 500
    before = current.set_index("code")
    assert (before["households"] <= 500).all()

    options = ProposeOptions(seed=2, stay_close=True)
    plan = propose(_inputs(grown, current=current[["code", "geometry"]]), options)
    assert plan.metrics.in_range_share == 1.0
    assert plan.metrics.contiguous_share == 1.0
    assert plan.metrics.changed_share is not None
    assert plan.metrics.changed_share <= 0.2

    fresh = propose(_inputs(grown, current=current[["code", "geometry"]]), ProposeOptions(seed=9))
    assert fresh.metrics.changed_share is not None
    assert plan.metrics.changed_share <= fresh.metrics.changed_share
