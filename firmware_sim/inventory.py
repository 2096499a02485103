"""The provisioning file: which devices to simulate, where they are, and their passwords.

CSV with the header ``id,kind,model,lon,lat,height_m,range_m,household,building,password``
(what ``wangge broker credentials`` writes; see docs/mqtt-contract.md), or a JSON list of
objects with the same keys. Empty cells are unknown.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, fields
from pathlib import Path

KINDS = ("camera", "water_meter", "electricity_meter", "door")


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    kind: str
    password: str
    model: str | None = None
    lon: float | None = None
    lat: float | None = None
    height_m: float | None = None
    range_m: float | None = None
    household: str | None = None
    building: str | None = None

    @property
    def is_tower_camera(self) -> bool:
        """Tower cameras report a bearing only; roof cameras can also estimate a position."""
        return self.kind == "camera" and "tower" in (self.model or "").lower()

    @property
    def located(self) -> bool:
        return self.lon is not None and self.lat is not None


_FLOATS = {"lon", "lat", "height_m", "range_m"}
_NAMES = {f.name for f in fields(DeviceSpec)}


def _spec(row: dict) -> DeviceSpec:
    values = {}
    for key, raw in row.items():
        if key not in _NAMES or raw is None or raw == "":
            continue
        values[key] = float(raw) if key in _FLOATS else str(raw)
    spec = DeviceSpec(**values)
    if spec.kind not in KINDS:
        raise ValueError(f"device {spec.id}: unknown kind {spec.kind!r}")
    return spec


def read_inventory(path: Path) -> list[DeviceSpec]:
    if path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    else:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    return [_spec(row) for row in rows]
