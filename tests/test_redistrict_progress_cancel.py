"""A background job can follow the engine (progress callback) and stop it (cancel check)."""

from __future__ import annotations

import numpy as np
import pytest

from gis.redistrict import inputs
from gis.redistrict.propose import ProposeOptions, propose
from gis.redistrict.search import Cancelled
from tests.redistrict_world import lattice


def _inputs() -> inputs.PlannerInputs:
    buildings, roads, boundary = lattice(3, 3, 4, np.random.default_rng(1).integers(30, 120, 36))
    buildings = buildings.assign(building_id=buildings["id"], assumption="given")
    return inputs.assemble(buildings, roads, boundary)


def test_progress_reports_every_stage_in_order():
    seen: list[tuple[str, float]] = []
    propose(_inputs(), ProposeOptions(), progress=lambda stage, f: seen.append((stage, f)))
    stages = list(dict.fromkeys(stage for stage, _ in seen))
    assert stages == ["tessellation", "graph", "partition", "grids", "done"]
    assert seen[-1] == ("done", 1.0)


def test_cancel_stops_the_partition():
    asked = []

    def cancel() -> bool:
        asked.append(True)
        return True

    with pytest.raises(Cancelled):
        propose(_inputs(), ProposeOptions(), cancel=cancel)
    assert asked, "the engine polled the cancel check"
