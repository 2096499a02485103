"""Enrolment in the elderly watch (智慧养老): consent, family contacts, watch settings and
known absences. Used by the API routes (api/routes/watch.py), the demo and the tests; the
sweep (ingest/watch_job.py) reads what is written here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

OFFERED_TAGS = ("独居老人", "空巢", "高龄")
"""Residents tagged so are offered the watch (空巢: empty-nest, 高龄: over 80)."""


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    relation: str | None = None
    channel: str = "sms"


@dataclass(frozen=True)
class Enrolment:
    household_id: int
    consent_by: str
    consent_at: datetime
    enrolled_by: str
    contacts: Sequence[Contact] = ()
    signals: Sequence[str] = ("water", "power", "door")
    routines: str | None = None
    quiet_from: int | None = None
    quiet_until: int | None = None
    door_device_id: str | None = None


def enrol(conn: psycopg.Connection, enrolment: Enrolment) -> bool:
    """Opt the household in (or update its settings) and replace its family contacts;
    True if it was new."""
    e = enrolment
    new = conn.execute(
        "INSERT INTO watch_enrolment (household_id, consent_by, consent_at, enrolled_by, "
        "signals, routines, quiet_from, quiet_until, door_device_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (household_id) DO UPDATE SET consent_by = EXCLUDED.consent_by, "
        "consent_at = EXCLUDED.consent_at, signals = EXCLUDED.signals, "
        "routines = EXCLUDED.routines, quiet_from = EXCLUDED.quiet_from, "
        "quiet_until = EXCLUDED.quiet_until, door_device_id = EXCLUDED.door_device_id "
        "RETURNING (xmax = 0)",
        (
            e.household_id,
            e.consent_by,
            e.consent_at,
            e.enrolled_by,
            list(e.signals),
            e.routines,
            e.quiet_from,
            e.quiet_until,
            e.door_device_id,
        ),
    ).fetchone()[0]
    conn.execute("DELETE FROM watch_contact WHERE household_id = %s", (e.household_id,))
    conn.cursor().executemany(
        "INSERT INTO watch_contact (household_id, name, phone, relation, channel) "
        "VALUES (%s, %s, %s, %s, %s)",
        [(e.household_id, c.name, c.phone, c.relation, c.channel) for c in e.contacts],
    )
    return bool(new)


def set_away(
    conn: psycopg.Connection,
    household_id: int,
    until: datetime | None,
    reason: str | None,
    set_by: str,
) -> bool:
    """A known absence (with family, in hospital) until ``until`` (None: back home). It
    ends by itself at ``until``; False if the household is not enrolled."""
    return (
        conn.execute(
            "UPDATE watch_enrolment SET away_until = %s, away_reason = %s, away_set_by = %s "
            "WHERE household_id = %s",
            (until, reason if until else None, set_by if until else None, household_id),
        ).rowcount
        > 0
    )


def door_for(conn: psycopg.Connection, household_id: int) -> str | None:
    """The door controller nearest the household's building (within 50 m), if any."""
    row = conn.execute(
        "SELECT d.id FROM household h JOIN building b ON b.id = h.building_id "
        "JOIN device d ON d.kind = 'door' AND d.enabled "
        "AND ST_DWithin(d.geom::geography, b.geom::geography, 50) "
        "WHERE h.id = %s ORDER BY d.geom <-> b.geom, d.id LIMIT 1",
        (household_id,),
    ).fetchone()
    return row[0] if row else None
