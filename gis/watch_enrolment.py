"""Enrolment in the elderly watch (智慧养老): consent, family contacts, watch settings and
known absences. Used by the API routes (api/routes/watch.py), the demo and the tests; the
sweep (ingest/watch_job.py) reads what is written here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

OFFERED_TAGS = ("独居老人", "空巢", "空巢老人", "高龄")
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


def record_outcome(
    conn: psycopg.Connection,
    household_id: int,
    task_id: int | None,
    outcome: str,
    away_until: datetime | None,
    actor: str,
) -> None:
    """What the worker found on a visit (or the family answered), queued for the sweep:
    all well / needed help → the case closes and the quiet period starts; away → a known
    absence until ``away_until`` (also kept on the enrolment); device fault → a device
    maintenance task."""
    conn.execute(
        "INSERT INTO watch_outcome (household_id, task_id, outcome, away_until, actor) "
        "VALUES (%s, %s, %s, %s, %s)",
        (household_id, task_id, outcome, away_until, actor),
    )
    if outcome == "away" and away_until is not None:
        set_away(conn, household_id, away_until, "外出 (away)", actor)


MAX_AWAY_DAYS = 30
"""The longest absence a family can announce (link or SMS reply); longer is the desk's job."""


def away_for(days: int) -> datetime:
    """The end of an absence of ``days`` days announced now."""
    return datetime.now(UTC) + timedelta(days=days)


def family_answers(
    conn: psycopg.Connection, token_hash: str, link_h: float, away_until: datetime | None = None
) -> int | None:
    """The family's answer through the notice's link (see ``answer_notice``). Returns the
    household, or None for an unknown or expired link."""
    row = conn.execute(
        "SELECT id FROM watch_notice WHERE token_hash = %s "
        "AND created_at > now() - %s * interval '1 hour'",
        (token_hash, link_h),
    ).fetchone()
    return None if row is None else answer_notice(conn, row[0], away_until)


def notice_replied_to(conn: psycopg.Connection, phone: str, link_h: float) -> int | None:
    """The notice an SMS reply from ``phone`` (11-digit mainland number) answers: the most
    recent one sent to that number whose link is still valid, one not answered yet first."""
    row = conn.execute(
        "SELECT id FROM watch_notice WHERE state = 'sent' "
        "AND right(regexp_replace(address, '[^0-9]', '', 'g'), 11) = %s "
        "AND created_at > now() - %s * interval '1 hour' "
        "ORDER BY answered_at IS NOT NULL, created_at DESC, id DESC LIMIT 1",
        (phone, link_h),
    ).fetchone()
    return None if row is None else row[0]


def answer_notice(
    conn: psycopg.Connection, notice_id: int, away_until: datetime | None = None
) -> int:
    """The family's answer to a notice: "all fine", or "away with us / in hospital until
    ``away_until``". The case's incident closes (unless a visit task is open on it) and the
    detector gets "all well" or the known absence. Returns the household. Answering twice
    changes nothing more."""
    incident_id, household_id, answered = conn.execute(
        "SELECT i.id, i.household_id, n.answered_at FROM watch_notice n "
        "JOIN incident i ON i.id = n.incident_id WHERE n.id = %s FOR UPDATE OF n",
        (notice_id,),
    ).fetchone()
    if answered is not None:
        return household_id
    conn.execute("UPDATE watch_notice SET answered_at = now() WHERE id = %s", (notice_id,))
    conn.execute(
        "UPDATE incident SET status = 'closed' WHERE id = %s AND status = 'open' "
        "AND NOT EXISTS (SELECT 1 FROM task WHERE incident_id = %s "
        "AND state NOT IN ('closed', 'invalid', 'duplicate'))",
        (incident_id, incident_id),
    )
    if away_until is None:
        record_outcome(conn, household_id, None, "all_well", None, "family")
    else:
        record_outcome(conn, household_id, None, "away", away_until, "family")
    return household_id
