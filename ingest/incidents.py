"""Incidents: one per situation, however many events report it.

Household situations (meter anomalies, a resident not going out) have an exact scope, the
merge key: the unique partial index on incident.merge_key WHERE status = 'open' lets
concurrent workers INSERT … ON CONFLICT DO UPDATE and meet on one row, and ``xmax = 0``
tells the worker that inserted it (and so creates the task) from the others. Fires have a
spatial scope and are resolved in fire.py under an advisory lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from gis.contract import FireEvent
from ingest.locate import Event, Location
from ingest.registry import DeviceInfo
from ingest.rules import Rule, household_merge_key


@dataclass(frozen=True)
class Situation:
    """A newly stored event that a rule turns into (part of) an incident."""

    event_row_id: int
    event: Event
    device: DeviceInfo
    rule: Rule
    location: Location
    grid_code: str | None
    community_code: str | None

    @property
    def ts(self) -> datetime:
        return self.event.ts

    @property
    def urgency(self) -> str:
        return self.rule.urgency(self.device.lives_alone)

    @property
    def is_fire(self) -> bool:
        return isinstance(self.event, FireEvent)


@dataclass(frozen=True)
class NewIncident:
    """An incident this batch opened: it needs a task."""

    id: int
    rule: Rule
    urgency: str
    grid_code: str | None
    community_code: str | None
    first_seen: datetime
    location_method: str
    household_id: int | None
    lives_alone: bool
    description_zh: str


def describe_location(location: Location, crossed_grids: Sequence[str] = ()) -> str:
    """How the place was found, in Chinese, for the task description."""
    text = {
        "reported": "设备上报位置",
        "device": "报警设备安装位置",
        "bearing_intersection": "多台摄像头方位交汇定位",
        "bearing_range": "单台摄像头方位与估计距离定位",
        "bearing_only": "单台摄像头方位(取射线中点)",
        "household": "住户所在楼栋",
    }[location.method]
    text += f", 误差约 {round(location.uncertainty_m)} 米"
    if crossed_grids:
        text += f"; 方位线经过网格: {', '.join(crossed_grids)}"
    return text


_UPSERT_HOUSEHOLD = """
INSERT INTO incident AS i (type, category, severity, merge_key, grid_code, community_code,
    geom, uncertainty_m, location_method, household_id, device_ids, event_count,
    first_seen, last_seen)
SELECT u.type, u.category, u.severity, u.key, u.grid, u.community,
       ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326), u.uncertainty, u.method, u.household,
       string_to_array(u.devices, ','), u.n, u.first, u.last
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[],
            %b::float8[], %b::float8[], %b::float8[], %b::text[], %b::bigint[], %b::text[],
            %b::int[], %b::timestamptz[], %b::timestamptz[])
     AS u(type, category, severity, key, grid, community, lon, lat, uncertainty, method,
          household, devices, n, first, last)
ORDER BY u.key
ON CONFLICT (merge_key) WHERE status = 'open' DO UPDATE SET
    event_count = i.event_count + EXCLUDED.event_count,
    first_seen = least(i.first_seen, EXCLUDED.first_seen),
    last_seen = greatest(i.last_seen, EXCLUDED.last_seen),
    device_ids = ARRAY(SELECT DISTINCT d FROM unnest(i.device_ids || EXCLUDED.device_ids) AS d
                       ORDER BY d)
RETURNING merge_key, id, xmax = 0
"""


def merge_household(
    conn: psycopg.Connection, situations: Sequence[Situation]
) -> tuple[list[NewIncident], dict[int, int]]:
    """Upsert one incident per merge key; (incidents opened now, event row id -> incident)."""
    groups: dict[str, list[Situation]] = {}
    for s in situations:
        key = household_merge_key(s.rule.type, s.device.household_id, s.device.id)
        groups.setdefault(key, []).append(s)
    if not groups:
        return [], {}
    keys = sorted(groups)
    firsts = [min(groups[k], key=lambda s: s.ts) for k in keys]
    columns = [
        [s.rule.type for s in firsts],
        [s.rule.category for s in firsts],
        [s.urgency for s in firsts],
        keys,
        [s.grid_code for s in firsts],
        [s.community_code for s in firsts],
        [s.location.lon for s in firsts],
        [s.location.lat for s in firsts],
        [s.location.uncertainty_m for s in firsts],
        [s.location.method for s in firsts],
        [s.device.household_id for s in firsts],
        [",".join(sorted({s.device.id for s in groups[k]})) for k in keys],
        [len(groups[k]) for k in keys],
        [s.ts for s in firsts],
        [max(s.ts for s in groups[k]) for k in keys],
    ]
    opened, incident_of = [], {}
    for key, incident_id, inserted in conn.execute(_UPSERT_HOUSEHOLD, columns).fetchall():
        for s in groups[key]:
            incident_of[s.event_row_id] = incident_id
        if inserted:
            first = min(groups[key], key=lambda s: s.ts)
            opened.append(new_incident(incident_id, first, describe_location(first.location)))
    return opened, incident_of


def new_incident(incident_id: int, first: Situation, description_zh: str) -> NewIncident:
    return NewIncident(
        id=incident_id,
        rule=first.rule,
        urgency=first.urgency,
        grid_code=first.grid_code,
        community_code=first.community_code,
        first_seen=first.ts,
        location_method=first.location.method,
        household_id=first.device.household_id,
        lives_alone=first.device.lives_alone,
        description_zh=description_zh,
    )
