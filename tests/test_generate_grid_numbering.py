"""Grid codes follow the community code and run west→east within rows, rows north→south."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import box

from gis.gridcodes import number_grids, reading_order

COMMUNITY = "150203001002"


def _cell(col: int, row: int, dy: float = 0.0):
    """A 100 m cell in column ``col`` (west→east) and row ``row`` (north→south)."""
    x, y = col * 100.0, -row * 100.0 + dy
    return box(x, y, x + 100.0, y + 100.0)


def test_numbering_reads_rows_north_to_south_then_west_to_east() -> None:
    cells = [(col, row) for row in range(3) for col in range(4)]
    shuffled = cells[:]
    random.Random(3).shuffle(shuffled)
    # Rows are not perfectly straight: cells wobble by up to a fifth of their height.
    polygons = [_cell(col, row, dy=((col * 7 + row) % 5 - 2) * 10.0) for col, row in shuffled]

    codes = number_grids(COMMUNITY, polygons)

    expected = {cell: f"{COMMUNITY}{i:03d}" for i, cell in enumerate(cells, start=1)}
    assert codes == [expected[cell] for cell in shuffled]


def test_numbering_works_the_same_in_degrees() -> None:
    polygons = [box(109.81, 40.65, 109.82, 40.66), box(109.80, 40.65, 109.81, 40.66)]
    polygons.append(box(109.80, 40.64, 109.82, 40.65))  # a wide grid in the southern row
    assert number_grids(COMMUNITY, polygons) == [
        f"{COMMUNITY}002",
        f"{COMMUNITY}001",
        f"{COMMUNITY}003",
    ]


def test_reading_order_of_nothing_is_empty() -> None:
    assert reading_order([]) == []


@pytest.mark.parametrize("code", ["15020300100", "1502030010021", "15020300100A"])
def test_numbering_rejects_a_malformed_community_code(code: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        number_grids(code, [_cell(0, 0)])
