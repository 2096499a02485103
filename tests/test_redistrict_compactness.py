"""Compactness of proposals: recombining pairs of grids lifts the least compact grids
without breaking the band or contiguity."""

from __future__ import annotations

import numpy as np
import pytest

from gis.redistrict import inputs, recombine
from gis.redistrict.propose import ProposeOptions, propose
from tests.redistrict_world import lattice


def _inputs() -> inputs.PlannerInputs:
    households = np.random.default_rng(11).integers(20, 121, 6 * 6 * 5)
    buildings, roads, boundary = lattice(6, 6, 5, households)
    buildings = buildings.assign(building_id=buildings["id"], assumption="given")
    return inputs.assemble(buildings, roads, boundary)


@pytest.fixture(scope="module")
def plans() -> dict:
    planner_inputs = _inputs()
    with_recombination = propose(planner_inputs, ProposeOptions(seed=4))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recombine, "ROUNDS", 0)
        without = propose(planner_inputs, ProposeOptions(seed=4))
    return {"with": with_recombination, "without": without}


def test_least_compact_grid_is_at_least_0_35(plans):
    assert plans["with"].metrics.min_polsby_popper >= 0.35


def test_recombination_lifts_the_least_compact_grids(plans):
    assert plans["with"].metrics.min_polsby_popper > plans["without"].metrics.min_polsby_popper
    assert plans["with"].metrics.mean_polsby_popper >= plans["without"].metrics.mean_polsby_popper


def test_band_and_contiguity_hold(plans):
    metrics = plans["with"].metrics
    assert metrics.in_range_share == 1.0 and metrics.contiguous_share == 1.0
    assert plans["with"].grids["households"].between(300, 500).all()
