"""What a spatial join returns: one row per point, held as numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

INSIDE = "inside"
NEAREST = "nearest"
UNASSIGNED = "unassigned"
METHODS = np.array([INSIDE, NEAREST, UNASSIGNED])
"""Method names by method number: 0 inside, 1 nearest, 2 unassigned."""
METHOD_INSIDE, METHOD_NEAREST, METHOD_UNASSIGNED = 0, 1, 2


@dataclass(frozen=True)
class JoinResult:
    """Per point: the owning grid and how it was found.

    grid_code       object array of str | None (None when unassigned)
    method          str array: "inside" | "nearest" | "unassigned"
    distance_m      float64: 0 inside, metres to the grid when nearest, NaN when unassigned
    community_code  object array of str | None: the grid's community, or for an unassigned
                    point the community containing it
    district_code   object array of str | None: likewise for the district
    """

    grid_code: np.ndarray
    method: np.ndarray
    distance_m: np.ndarray
    community_code: np.ndarray
    district_code: np.ndarray

    def __len__(self) -> int:
        return len(self.method)

    def take(self, indices: np.ndarray) -> JoinResult:
        """The rows of the points at ``indices``."""
        return JoinResult(*(getattr(self, f.name)[indices] for f in fields(self)))

    @classmethod
    def concatenate(cls, parts: Sequence[JoinResult]) -> JoinResult:
        """The results of consecutive batches as one."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def row(self, i: int) -> dict[str, str | float | None]:
        """Point ``i`` as a plain dict (for single events; batches should stay in arrays)."""
        distance = float(self.distance_m[i])
        return {
            "grid_code": self.grid_code[i],
            "method": str(self.method[i]),
            "distance_m": None if np.isnan(distance) else distance,
            "community_code": self.community_code[i],
            "district_code": self.district_code[i],
        }
