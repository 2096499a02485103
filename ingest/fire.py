"""Fire incidents: the same camera again, or any detection near an open fire, merges.

A fire's scope is spatial (within ``fire_merge_radius_m`` and ``fire_merge_window_s``), so
no unique key can make concurrent workers meet. Every batch with fire events therefore
takes one transaction-level advisory lock first: fire batches run one after another across
all workers (fires are rare; the lock is held until the batch commits) and each sees the
incidents the previous one committed. A bearing without a position is intersected with the
bearings already recorded on open fire incidents, and an incident's place improves as
more cameras see it: its task gets an ``updated`` push, or, if the better place lies in
another grid, goes to that grid's people (tasks.reroute).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import psycopg

from gis.routing import Place
from gis.settings import Settings
from gis.spatial_join import GridIndex
from ingest.bearings import Bearing, distance_m, distance_to_ray_m, intersect, ray_samples
from ingest.incidents import NewIncident, Situation, describe_location, new_incident
from ingest.locate import Location, camera_bearing

FIRE_LOCK = "wangge.incident.fire"


@dataclass
class OpenFire:
    id: int
    device_ids: set[str]
    lon: float
    lat: float
    uncertainty_m: float
    last_seen: datetime
    grid_code: str | None


@dataclass
class FireOutcome:
    opened: list[NewIncident] = field(default_factory=list)
    incident_of: dict[int, int] = field(default_factory=dict)
    """event row id -> incident id"""
    relocated: set[int] = field(default_factory=set)
    """incidents whose place got better in this batch, within the same grid"""
    moved: dict[int, Place] = field(default_factory=dict)
    """incidents whose better place lies in another grid: their tasks are routed again"""


def resolve_fires(
    conn: psycopg.Connection,
    situations: Sequence[Situation],
    index: GridIndex,
    settings: Settings,
) -> FireOutcome:
    outcome = FireOutcome()
    if not situations:
        return outcome
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (FIRE_LOCK,))
    ordered = sorted(situations, key=lambda s: s.ts)
    window = timedelta(seconds=settings.fire_merge_window_s)
    fires = _open_fires(conn, ordered[0].ts - window)
    batch_bearings: list[Bearing] = []
    for situation in ordered:
        bearing = None
        if situation.location.method == "bearing_only":
            bearing = camera_bearing(situation.event, situation.device)
        situation = _with_intersection(
            conn, situation, bearing, fires, batch_bearings, settings, index
        )
        match = _match(situation, bearing, fires, window, settings.fire_merge_radius_m)
        if match is None:
            outcome.opened.append(_open(conn, situation, bearing, index, fires))
            outcome.incident_of[situation.event_row_id] = outcome.opened[-1].id
        else:
            grid_before = match.grid_code
            if _merge(conn, match, situation):
                if match.grid_code == grid_before:
                    outcome.relocated.add(match.id)
                else:
                    outcome.moved[match.id] = Place(
                        match.grid_code, situation.community_code, situation.ts
                    )
            outcome.incident_of[situation.event_row_id] = match.id
        if bearing is not None:
            batch_bearings.append(bearing)
    return outcome


def _open_fires(conn: psycopg.Connection, since: datetime) -> list[OpenFire]:
    rows = conn.execute(
        "SELECT id, device_ids, ST_X(geom), ST_Y(geom), coalesce(uncertainty_m, 0), last_seen, "
        "grid_code "
        "FROM incident WHERE status = 'open' AND category = 'fire' AND last_seen >= %s "
        "AND geom IS NOT NULL ORDER BY id",
        (since,),
    ).fetchall()
    return [OpenFire(r[0], set(r[1]), *r[2:]) for r in rows]


def _recorded_bearings(
    conn: psycopg.Connection, fires: Sequence[OpenFire], around: datetime, window: timedelta
) -> list[Bearing]:
    """Bearings-only detections already linked to the open fire incidents."""
    if not fires:
        return []
    rows = conn.execute(
        "SELECT e.device_id, ST_X(d.geom), ST_Y(d.geom), e.bearing_deg, d.range_m, e.ts "
        "FROM event e JOIN device d ON d.id = e.device_id "
        "WHERE e.incident_id = ANY(%s) AND e.location_method = 'bearing_only' "
        "AND e.ts BETWEEN %s AND %s",
        ([f.id for f in fires], around - window, around + window),
    ).fetchall()
    return [Bearing(*row) for row in rows]


def _with_intersection(
    conn: psycopg.Connection,
    situation: Situation,
    bearing: Bearing | None,
    fires: Sequence[OpenFire],
    batch_bearings: Sequence[Bearing],
    settings: Settings,
    index: GridIndex,
) -> Situation:
    """The situation located by intersecting its bearing with others, if any cross it."""
    if bearing is None:
        return situation
    window = timedelta(seconds=settings.fire_bearing_window_s)
    others = [b for b in batch_bearings if abs(b.ts - bearing.ts) <= window]
    others += _recorded_bearings(conn, fires, bearing.ts, window)
    fix = intersect(bearing, others, cluster_m=settings.fire_merge_radius_m)
    if fix is None:
        return situation
    location = Location(fix.lon, fix.lat, "bearing_intersection", fix.uncertainty_m)
    joined = index.join(
        np.array([fix.lon]), np.array([fix.lat]), situation.ts, settings.join_tolerance_m
    ).row(0)
    return replace(
        situation,
        location=location,
        grid_code=joined["grid_code"],
        community_code=joined["community_code"],
    )


def _match(
    situation: Situation,
    bearing: Bearing | None,
    fires: Sequence[OpenFire],
    window: timedelta,
    radius_m: float,
) -> OpenFire | None:
    """The nearest open fire within the window this detection belongs to: a place within
    the radius (plus the incident's own uncertainty), a bearing passing that close, or —
    for a camera that reports neither — the fire it already reported."""
    best: tuple[float, OpenFire] | None = None
    loc = situation.location
    for fire in fires:
        if fire.last_seen < situation.ts - window:
            continue
        if loc.method == "device" and situation.device.id in fire.device_ids:
            gap = 0.0  # the same camera again, and it cannot say where
        elif loc.method == "bearing_only" and bearing is not None:
            gap = distance_to_ray_m(bearing, fire.lon, fire.lat)
        else:
            gap = distance_m(loc.lon, loc.lat, fire.lon, fire.lat) - fire.uncertainty_m
        if gap <= radius_m and (best is None or gap < best[0]):
            best = (gap, fire)
    return best[1] if best else None


def _open(
    conn: psycopg.Connection,
    situation: Situation,
    bearing: Bearing | None,
    index: GridIndex,
    fires: list[OpenFire],
) -> NewIncident:
    loc = situation.location
    row = conn.execute(
        "INSERT INTO incident (type, category, severity, merge_key, grid_code, community_code, "
        "geom, uncertainty_m, location_method, device_ids, event_count, first_seen, last_seen) "
        "VALUES (%s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, "
        "%s, 1, %s, %s) RETURNING id",
        (
            situation.rule.type,
            situation.rule.category,
            situation.urgency,
            f"fire:{situation.event.event_id}",
            situation.grid_code,
            situation.community_code,
            loc.lon,
            loc.lat,
            loc.uncertainty_m,
            loc.method,
            [situation.device.id],
            situation.ts,
            situation.ts,
        ),
    ).fetchone()
    fires.append(
        OpenFire(
            row[0],
            {situation.device.id},
            loc.lon,
            loc.lat,
            loc.uncertainty_m,
            situation.ts,
            situation.grid_code,
        )
    )
    crossed = _crossed_grids(bearing, index, situation.ts) if bearing is not None else []
    return new_incident(row[0], situation, describe_location(loc, crossed))


def _crossed_grids(bearing: Bearing, index: GridIndex, at: datetime) -> list[str]:
    """The grids the bearing ray crosses within the camera's range, nearest first."""
    lon, lat = ray_samples(bearing)
    codes = index.join(lon, lat, at, tolerance_m=0).grid_code
    return list(dict.fromkeys(c for c in codes if c is not None))


def _merge(conn: psycopg.Connection, fire: OpenFire, situation: Situation) -> bool:
    """Count the detection on the incident; True if it also located the fire better."""
    loc = situation.location
    better = loc.uncertainty_m < fire.uncertainty_m
    conn.execute(
        "UPDATE incident SET event_count = event_count + 1, "
        "last_seen = greatest(last_seen, %(ts)s), "
        "device_ids = CASE WHEN %(device)s = ANY(device_ids) THEN device_ids "
        "ELSE device_ids || %(device)s::text END, "
        "geom = CASE WHEN %(better)s THEN ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) "
        "ELSE geom END, "
        "uncertainty_m = CASE WHEN %(better)s THEN %(unc)s ELSE uncertainty_m END, "
        "location_method = CASE WHEN %(better)s THEN %(method)s ELSE location_method END, "
        "grid_code = CASE WHEN %(better)s THEN %(grid)s ELSE grid_code END, "
        "community_code = CASE WHEN %(better)s THEN %(community)s ELSE community_code END "
        "WHERE id = %(id)s",
        {
            "ts": situation.ts,
            "device": situation.device.id,
            "better": better,
            "lon": loc.lon,
            "lat": loc.lat,
            "unc": loc.uncertainty_m,
            "method": loc.method,
            "grid": situation.grid_code,
            "community": situation.community_code,
            "id": fire.id,
        },
    )
    fire.device_ids.add(situation.device.id)
    fire.last_seen = max(fire.last_seen, situation.ts)
    if better:
        fire.lon, fire.lat, fire.uncertainty_m = loc.lon, loc.lat, loc.uncertainty_m
        fire.grid_code = situation.grid_code
        conn.execute(
            "UPDATE task SET location_method = %s, updated_at = now() "
            "WHERE incident_id = %s AND location_method IS DISTINCT FROM %s",
            (loc.method, fire.id, loc.method),
        )
    return better
