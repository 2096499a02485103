"""Workers (网格员 and everyone else who receives tasks) and their grid assignments.

Per grid: one 专职网格员 (full_time, id ``W-<grid code>``) and one 兼职 helper (part_time,
``P-<grid code>``, a 楼栋长). Per community: a 网格长 heading all its grids
(``H-<community code>``), a cadre (``C-…``) and the community duty desk (``D-…``). Per
street with communities: one member of each department (``DEP-<street code>-FIRE`` …),
assigned to every grid of the street so that "社区吹哨、部门报到" has someone to call.
Ids are usable as MQTT usernames (``^[A-Za-z0-9_-]{1,64}$``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.demo.blocks import CommunityPlan
from gis.demo.names import person_names
from gis.demo.people import fake_phones

DEPARTMENTS = (
    ("公安", "POLICE"),
    ("消防", "FIRE"),
    ("城管", "CITY"),
    ("供水", "WATER"),
    ("供电", "POWER"),
    ("供热", "HEAT"),
    ("燃气", "GAS"),
)
COMMUNITY_ROLES = (("grid_head", "H"), ("cadre", "C"), ("duty_desk", "D"))
GRID_ROLES = (("full_time", "W"), ("part_time", "P"))


def make_staff(
    communities: list[CommunityPlan],
    grids: pd.DataFrame,
    valid_from: str,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(workers, grid_assignments) with the dataset's columns; ``grids`` needs code and
    community_code."""
    street_of = {c.code: c.street_code for c in communities}
    grid_street = grids["community_code"].map(street_of)
    workers: list[dict] = []
    assignments: list[tuple[str, str, str]] = []

    for street in sorted(set(street_of.values())):
        street_grids = grids["code"][grid_street == street]
        for department, key in DEPARTMENTS:
            worker_id = f"DEP-{street}-{key}"
            workers.append(_worker(worker_id, "department", street, department=department))
            assignments += [(worker_id, g, "department") for g in street_grids]

    for community in communities:
        community_grids = grids["code"][grids["community_code"] == community.code]
        for role, prefix in COMMUNITY_ROLES:
            worker_id = f"{prefix}-{community.code}"
            name = f"{community.name}值班台" if role == "duty_desk" else None
            workers.append(_worker(worker_id, role, community.street_code, community.code, name))
            assignments += [(worker_id, g, role) for g in community_grids]
        for grid in community_grids:
            for role, prefix in GRID_ROLES:
                worker_id = f"{prefix}-{grid}"
                workers.append(_worker(worker_id, role, community.street_code, community.code))
                assignments.append((worker_id, grid, role))

    frame = pd.DataFrame(workers)
    unnamed = frame["name"].isna()
    frame.loc[unnamed, "name"] = person_names(rng, int(unnamed.sum()))
    frame["phone"] = fake_phones(rng, len(frame))
    frame = frame[["id", "name", "role", "department", "phone", "community_code", "street_code"]]
    grid_assignments = pd.DataFrame(assignments, columns=["worker_id", "grid_code", "role"])
    grid_assignments["valid_from"] = valid_from
    return frame, grid_assignments


def _worker(
    worker_id: str,
    role: str,
    street_code: str,
    community_code: str = "",
    name: str | None = None,
    department: str = "",
) -> dict:
    return {
        "id": worker_id,
        "name": name,
        "role": role,
        "department": department,
        "community_code": community_code,
        "street_code": street_code,
    }
