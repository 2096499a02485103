"""Household targets of a grid and the grid counts they allow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Targets:
    """Every grid should hold ``minimum``..``maximum`` households, ideally ``ideal``."""

    minimum: int = 300
    maximum: int = 500
    ideal: int = 450

    def __post_init__(self) -> None:
        if not 0 < self.minimum <= self.ideal <= self.maximum:
            raise ValueError(
                f"targets need 0 < min <= target <= max, got "
                f"{self.minimum} / {self.ideal} / {self.maximum}"
            )

    def in_band(self, households: float) -> bool:
        return self.minimum <= households <= self.maximum

    def grid_counts(self, households: int) -> list[int]:
        """Feasible grid counts for ``households``, nearest the ideal first.

        Empty when no count puts the average in the band (e.g. 550 with 300..500): then
        the caller takes :meth:`best_count` and reports the grids it cannot fix.
        """
        low = max(1, -(-households // self.maximum))
        high = households // self.minimum
        feasible = range(low, high + 1)
        return sorted(feasible, key=lambda k: (abs(households / k - self.ideal), k))

    def best_count(self, households: int) -> int:
        """The grid count nearest the ideal, feasible or not (at least 1)."""
        counts = self.grid_counts(households)
        return counts[0] if counts else max(1, round(households / self.ideal))
