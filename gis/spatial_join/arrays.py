"""Small array helpers shared by both join implementations."""

from __future__ import annotations

import numpy as np

NONE_INDEX = -1


def codes_with_none(codes: list[str] | np.ndarray) -> np.ndarray:
    """An object array of ``codes`` followed by None, so that index -1 reads as None."""
    table = np.empty(len(codes) + 1, dtype=object)
    table[: len(codes)] = codes
    return table


def smallest_per_input(inputs: np.ndarray, items: np.ndarray, count: int) -> np.ndarray:
    """For each of ``count`` inputs, the smallest item paired with it, or -1 if none."""
    none = np.iinfo(np.int64).max
    best = np.full(count, none, dtype=np.int64)
    np.minimum.at(best, inputs, items)
    best[best == none] = NONE_INDEX
    return best


def as_coordinates(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lon`` and ``lat`` as equally long, finite float64 vectors."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("lon and lat must be finite")
    return x, y


def digit_codes(numbers: np.ndarray, digits: int) -> np.ndarray:
    """Codes that travelled as integers, back as zero-padded strings (negative: None).

    Grid, community and district codes are digit strings of fixed length (schema checks),
    so the integer form loses nothing and lets results travel as fixed-width binary.
    """
    unique, inverse = np.unique(numbers, return_inverse=True)
    strings = [None if n < 0 else f"{n:0{digits}d}" for n in unique.tolist()]
    table = np.empty(len(strings), dtype=object)
    table[:] = strings
    return table[inverse]
