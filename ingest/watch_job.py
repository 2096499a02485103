"""The elderly watch's sweep in every ingest process, its state in PostgreSQL.

One batch is one transaction: claim up to ``watch_sweep_batch`` households whose detector
state is due (``FOR UPDATE SKIP LOCKED``: a batch another process holds is skipped, never
waited for or swept twice), feed in what workers and families reported since (visit
outcomes, known absences), read their complete rollup hours since the due hour, run
``ingest.watch.sweep`` and write the new state and what it found:

- a **visit** finding opens (or joins) the case's incident — merge key
  ``watch.<kind>:household:<id>``, so an open case never repeats — and, if the incident has
  no task yet, a visit task for the household's grid worker through ingest.tasks (the same
  task, push and escalation path as every other event);
- a **family** finding opens the incident and queues a family notice for each contact
  (watch_notice, sent by the delivery sender through gis.channels, held back in the
  household's quiet hours); a household without family contacts gets the visit at once;
- a **device** finding opens a device incident with a maintenance task, never a resident
  alert.

A resident case the detector has closed (life again) closes its incident if no task is
open on it, so the next absence is a new case. Only complete hours are swept: an hour is
complete ``watch_lateness_s`` after its end (event time is the rollup hour). A crash
before commit leaves state, incidents and notices untouched, so a restart sweeps the same
hours again and fires once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from gis.settings import Settings
from gis.spatial_join import locate_point
from ingest.family_notices import queue_notices
from ingest.incidents import NewIncident
from ingest.rules import Rule, household_merge_key, household_rule, visit_titles
from ingest.tasks import create_tasks
from ingest.watch.config import WatchConfig
from ingest.watch.findings import KIND, RESIDENT_KINDS, TITLES, Finding
from ingest.watch.readings import epoch_hour, hour_start
from ingest.watch.state import from_bytes, new_state, to_bytes
from ingest.watch.sweep import record_visit, set_away, sweep
from ingest.watch_store import maintain_partitions, read_readings, state_version

TYPE_PREFIX = "watch."
FAMILY_CATEGORY = {"continuous_flow": "water_leak"}
DEVICE_FAULT = "device_fault"
"""A worker found a device broken on a visit: a maintenance task of its own."""


def watch_rule(kind: str) -> Rule:
    """What a finding of this kind becomes as an incident and task."""
    title_zh, title_en = TITLES.get(kind, ("设备故障", "Device fault"))
    if kind in RESIDENT_KINDS:
        category = FAMILY_CATEGORY.get(kind, "elderly")
        titles = visit_titles(title_zh, title_en)
    else:
        category = "device"
        titles = (
            f"设备维护: {title_zh}——请检修设备",
            f"Device maintenance: {title_en}: check the device",
        )
    return household_rule(f"{TYPE_PREFIX}{kind}", category, *titles, notify_family=False)


def merge_key(kind: str, household_id: int) -> str:
    return household_merge_key(f"{TYPE_PREFIX}{kind}", household_id, "")


@dataclass
class Claimed:
    household_ids: list[int]
    due_hours: np.ndarray
    state: np.ndarray
    signals: list[frozenset[str]]
    away_until: list[datetime | None]


@dataclass
class SweepCounts:
    households: int = 0
    findings: int = 0
    tasks: int = 0
    notices: int = 0
    outbox_ids: list[int] | None = None
    more: bool = False
    """Stopped by the time budget with households still due."""


_CLAIM = """
SELECT s.household_id, s.version, s.due_hour, s.state, e.signals, e.away_until
FROM watch_state s JOIN watch_enrolment e ON e.household_id = s.household_id
WHERE s.due_hour < %(end)s
ORDER BY s.due_hour, s.household_id
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED
"""

_NEW_STATES = """
INSERT INTO watch_state (household_id, version, due_hour, state)
SELECT e.household_id, %(version)s,
       coalesce((SELECT floor(extract(epoch FROM min(h.hour)) / 3600)::int FROM watch_hour h
                 WHERE h.household_id = e.household_id AND h.hour >= %(since)s
                   AND h.hour < %(until)s), %(end)s),
       %(state)s
FROM watch_enrolment e
WHERE NOT EXISTS (SELECT 1 FROM watch_state s WHERE s.household_id = e.household_id)
ORDER BY e.household_id
ON CONFLICT (household_id) DO NOTHING
"""


def complete_end(now: datetime, lateness_s: float) -> int:
    """The first epoch hour that is not complete yet (sweeps cover the hours before it)."""
    return epoch_hour(now - timedelta(seconds=max(lateness_s, 0.0)))


def start_new_households(conn: psycopg.Connection, end: int, settings: Settings) -> int:
    """A state row for each newly enrolled household, due at its first rollup hour within
    the backfill (what it has of history is learned), or at ``end``."""
    return conn.execute(
        _NEW_STATES,
        {
            "version": state_version(),
            "since": hour_start(end - settings.watch_backfill_h),
            "until": hour_start(end),
            "end": end,
            "state": new_state(1)[0].tobytes(),
        },
    ).rowcount


def claim(conn: psycopg.Connection, end: int, limit: int) -> Claimed | None:
    rows = conn.execute(_CLAIM, {"end": end, "limit": limit}, binary=True).fetchall()
    if not rows:
        return None
    version = state_version()
    fresh = new_state(1)[0].tobytes()
    state = from_bytes([r[3] if r[1] == version else fresh for r in rows])
    return Claimed(
        household_ids=[r[0] for r in rows],
        due_hours=np.array([r[2] for r in rows], dtype=np.int64),
        state=state,
        signals=[frozenset(r[4]) for r in rows],
        away_until=[r[5] for r in rows],
    )


def apply_outcomes(
    conn: psycopg.Connection, claimed: Claimed, config: WatchConfig, settings: Settings
) -> list[int]:
    """Visit outcomes and family answers since the last sweep → the detector state (all
    well / needed help: cases closed and the quiet period; away: a known absence; device
    fault: a maintenance task too). Returns outbox ids."""
    rows = conn.execute(
        "SELECT id, household_id, outcome, away_until, created_at FROM watch_outcome "
        "WHERE household_id = ANY(%s) AND applied_at IS NULL ORDER BY id FOR UPDATE",
        (claimed.household_ids,),
    ).fetchall()
    if not rows:
        return []
    index = {h: i for i, h in enumerate(claimed.household_ids)}
    faults = []
    for _, household_id, outcome, away_until, created_at in rows:
        row = np.array([index[household_id]])
        if outcome in ("all_well", "needed_help", DEVICE_FAULT):
            record_visit(claimed.state, row, epoch_hour(created_at), config)
        if outcome == "away" and away_until is not None:
            set_away(claimed.state, row, epoch_hour(away_until))
        if outcome == DEVICE_FAULT:
            faults.append((household_id, created_at))
    conn.execute(
        "UPDATE watch_outcome SET applied_at = now() WHERE id = ANY(%s)", ([r[0] for r in rows],)
    )
    outbox: list[int] = []
    for household_id, at in faults:
        place = _place(conn, household_id, datetime.now(UTC))
        incident = _incident(conn, household_id, DEVICE_FAULT, at, place)
        if incident is not None:
            reason = "网格员上门发现设备故障 (device fault found on a visit)"
            outbox += _open_task(
                conn, incident, household_id, DEVICE_FAULT, reason, place, settings
            )[1]
    return outbox


def sweep_batch(
    conn: psycopg.Connection, settings: Settings, config: WatchConfig, now: datetime
) -> SweepCounts | None:
    """One batch in the caller's transaction; None when nothing is due."""
    end = complete_end(now, settings.watch_lateness_s)
    claimed = claim(conn, end, settings.watch_sweep_batch)
    if claimed is None:
        return None
    counts = SweepCounts(households=len(claimed.household_ids), outbox_ids=[])
    open_before = claimed.state["open"].copy()
    counts.outbox_ids += apply_outcomes(conn, claimed, config, settings)
    for i, away in enumerate(claimed.away_until):
        if away is not None:
            set_away(claimed.state, np.array([i]), epoch_hour(away) + 1)
    new_due = claimed.due_hours.copy()
    findings: list[tuple[int, Finding]] = []
    for due in np.unique(claimed.due_hours):
        rows = np.flatnonzero(claimed.due_hours == due)
        hours = int(min(end - due, settings.watch_sweep_max_hours))
        ids = [claimed.household_ids[r] for r in rows]
        readings = read_readings(conn, ids, int(due), hours, [claimed.signals[r] for r in rows])
        part = claimed.state[rows]
        result = sweep(part, readings, config)
        claimed.state[rows] = result.state
        new_due[rows] = due + hours
        findings += [(ids[f.household], f) for f in result.findings]
    conn.execute(
        "UPDATE watch_state s SET state = u.state, due_hour = u.due, version = %s, "
        "updated_at = now() FROM unnest(%b::int8[], %b::bytea[], %b::int4[]) AS u(id, state, due) "
        "WHERE s.household_id = u.id",
        (
            state_version(),
            claimed.household_ids,
            to_bytes(claimed.state),
            [int(d) for d in new_due],
        ),
    )
    counts.findings = len(findings)
    for household_id, finding in findings:
        tasks, outbox, notices = _act_on(conn, household_id, finding, settings)
        counts.tasks += tasks
        counts.notices += notices
        counts.outbox_ids += outbox
    _close_finished_cases(conn, claimed, open_before)
    return counts


def _act_on(
    conn: psycopg.Connection, household_id: int, finding: Finding, settings: Settings
) -> tuple[int, list[int], int]:
    """(tasks opened, outbox ids, notices queued) for one finding."""
    place = _place(conn, household_id, datetime.now(UTC))
    incident = _incident(conn, household_id, finding.kind, finding.at, place)
    if incident is None:
        return 0, [], 0
    if finding.level == "family":
        notices = queue_family_notices(conn, incident, household_id, finding, settings)
        if notices:
            return 0, [], notices
    opened, outbox = _open_task(
        conn, incident, household_id, finding.kind, finding.reason_zh(), place, settings
    )
    return opened, outbox, 0


@dataclass(frozen=True)
class _Place:
    lon: float
    lat: float
    grid_code: str | None
    community_code: str | None
    lives_alone: bool
    code: str


def _place(conn: psycopg.Connection, household_id: int, now: datetime) -> _Place:
    lon, lat, tags, code = conn.execute(
        "SELECT ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom)), h.tags, h.code "
        "FROM household h JOIN building b ON b.id = h.building_id WHERE h.id = %s",
        (household_id,),
    ).fetchone()
    found = locate_point(conn, lon, lat, now).row(0)
    return _Place(lon, lat, found["grid_code"], found["community_code"], "独居老人" in tags, code)


def _incident(
    conn: psycopg.Connection, household_id: int, kind: str, at: datetime, place: _Place
) -> int | None:
    """The case's open incident, new or not: one open incident per household and kind."""
    rule = watch_rule(kind)
    row = conn.execute(
        "INSERT INTO incident (type, category, severity, merge_key, grid_code, "
        "community_code, geom, uncertainty_m, location_method, household_id, first_seen, "
        "last_seen) VALUES (%s, %s, %s, %s, %s, %s, "
        "ST_SetSRID(ST_MakePoint(%s, %s), 4326), 10, 'household', %s, %s, %s) "
        "ON CONFLICT (merge_key) WHERE status = 'open' DO NOTHING RETURNING id",
        (
            rule.type,
            rule.category,
            rule.urgency(place.lives_alone),
            merge_key(kind, household_id),
            place.grid_code,
            place.community_code,
            place.lon,
            place.lat,
            household_id,
            at,
            at,
        ),
    ).fetchone()
    if row is not None:
        return row[0]
    existing = conn.execute(
        "SELECT id FROM incident WHERE merge_key = %s AND status = 'open'",
        (merge_key(kind, household_id),),
    ).fetchone()
    return existing[0] if existing else None


def _open_task(
    conn: psycopg.Connection,
    incident: int,
    household_id: int,
    kind: str,
    reason: str,
    place: _Place,
    settings: Settings,
) -> tuple[int, list[int]]:
    """The incident's task unless it has one already: (tasks opened, outbox ids)."""
    if conn.execute("SELECT 1 FROM task WHERE incident_id = %s", (incident,)).fetchone():
        return 0, []
    rule = watch_rule(kind)
    opened = NewIncident(
        id=incident,
        rule=rule,
        urgency=rule.urgency(place.lives_alone and kind in RESIDENT_KINDS),
        grid_code=place.grid_code,
        community_code=place.community_code,
        first_seen=datetime.now(UTC),
        location_method="household",
        household_id=household_id,
        lives_alone=place.lives_alone,
        description_zh=f"户号 {place.code}: {reason}",
    )
    return 1, create_tasks(conn, [opened], settings)


def queue_family_notices(
    conn: psycopg.Connection,
    incident_id: int,
    household_id: int,
    finding: Finding,
    settings: Settings,
) -> int:
    """The family is asked first; 0 means nobody to ask (the caller sends the worker)."""

    def text(name: str, code: str, link: str) -> str:
        return (
            f"【网格关怀】{name}您好: 您的家人(户号 {code}) {finding.reason_zh()}。"
            f"请尽快联系确认; 如一切正常请点击 {link}"
        )

    return queue_notices(conn, incident_id, household_id, text, settings)


def _close_finished_cases(
    conn: psycopg.Connection, claimed: Claimed, open_before: np.ndarray
) -> None:
    """Resident cases the detector closed in this batch (open when claimed, closed now):
    their incident closes unless a task is open on it."""
    closed = open_before & ~claimed.state["open"]
    keys = [
        merge_key(kind, claimed.household_ids[row])
        for kind in sorted(RESIDENT_KINDS)
        for row in np.flatnonzero(closed & np.uint16(1 << KIND[kind]))
    ]
    if not keys:
        return
    conn.execute(
        "UPDATE incident i SET status = 'closed' WHERE i.merge_key = ANY(%s) "
        "AND i.status = 'open' AND NOT EXISTS (SELECT 1 FROM task t WHERE t.incident_id = i.id "
        "AND t.state NOT IN ('closed', 'invalid', 'duplicate'))",
        (keys,),
    )


def run_sweeps(
    conn: psycopg.Connection, settings: Settings, config: WatchConfig, stop_after_s: float
) -> SweepCounts:
    """Maintain the partitions, give newly enrolled households their state row, then sweep
    batch after batch (each its own transaction) until nothing is due or ``stop_after_s``
    has passed (``more`` then says so). The connection must not be in a transaction."""
    started = datetime.now(UTC)
    with conn.transaction():
        maintain_partitions(
            conn,
            started,
            settings.watch_rollup_months_ahead,
            settings.watch_rollup_retention_months,
        )
        start_new_households(conn, complete_end(started, settings.watch_lateness_s), settings)
    total = SweepCounts(outbox_ids=[])
    while True:
        if datetime.now(UTC) - started >= timedelta(seconds=stop_after_s):
            total.more = True
            break
        with conn.transaction():
            counts = sweep_batch(conn, settings, config, datetime.now(UTC))
        if counts is None:
            break
        total.households += counts.households
        total.findings += counts.findings
        total.tasks += counts.tasks
        total.notices += counts.notices
        total.outbox_ids += counts.outbox_ids or []
    return total
