"""Elderly watch (智慧养老): a resident living alone who has not gone out for N days (久未出).

Meters detect "no use for longer than is normal for this household" themselves (contract
7.2) and those events go through the rules like any other; what no device can report is
the absence of door passages, so this sweep looks for it in household_activity. A resident
is raised once per absence: again only after a newer exit (the incident's first_seen is the
moment the absence passed N days). Safe in every ingest process at once: the sweep takes a
transaction advisory lock, and incidents meet on their merge key anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from gis.settings import Settings
from gis.spatial_join import locate_point
from ingest.incidents import NewIncident
from ingest.registry import ELDERLY_TAG
from ingest.rules import RULES, household_key_prefix, household_merge_key
from ingest.tasks import create_tasks

WATCH_LOCK = "wangge.elderly_watch"
NO_EXIT = RULES["door.no_exit"]

_OVERDUE_SQL = """
SELECT h.id, a.last_exit_at + %(limit)s,
       ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
FROM household h
JOIN household_activity a ON a.household_id = h.id
JOIN building b ON b.id = h.building_id
WHERE %(tag)s = ANY(h.tags) AND a.last_exit_at < %(now)s - %(limit)s
  AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.merge_key = %(prefix)s || h.id
                  AND i.first_seen > a.last_exit_at)
ORDER BY h.id
"""


def watch_elderly(conn: psycopg.Connection, settings: Settings) -> list[int]:
    """Open a visit task for every lone resident overdue; returns outbox ids (commit is
    the caller's)."""
    locked = conn.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (WATCH_LOCK,))
    if not locked.fetchone()[0]:
        return []
    now = datetime.now(UTC)
    limit = timedelta(days=settings.elderly_no_exit_days)
    prefix = household_key_prefix(NO_EXIT.type)
    overdue = conn.execute(
        _OVERDUE_SQL, {"limit": limit, "tag": ELDERLY_TAG, "now": now, "prefix": prefix}
    ).fetchall()
    opened = []
    for household_id, since, lon, lat in overdue:
        place = locate_point(conn, lon, lat, now).row(0)
        days = (now - since + limit) / timedelta(days=1)
        description = (
            f"门禁记录显示已 {days:.1f} 天未出门 (阈值 {settings.elderly_no_exit_days:g} 天)"
        )
        row = conn.execute(
            "INSERT INTO incident (type, category, severity, merge_key, grid_code, "
            "community_code, geom, uncertainty_m, location_method, household_id, first_seen, "
            "last_seen) VALUES (%s, %s, 'urgent', %s, %s, %s, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326), 10, 'household', %s, %s, %s) "
            "ON CONFLICT (merge_key) WHERE status = 'open' DO NOTHING RETURNING id",
            (
                NO_EXIT.type,
                NO_EXIT.category,
                household_merge_key(NO_EXIT.type, household_id, ""),
                place["grid_code"],
                place["community_code"],
                lon,
                lat,
                household_id,
                since,
                now,
            ),
        ).fetchone()
        if row is not None:
            opened.append(
                NewIncident(
                    id=row[0],
                    rule=NO_EXIT,
                    urgency=NO_EXIT.urgency(lives_alone=True),
                    grid_code=place["grid_code"],
                    community_code=place["community_code"],
                    first_seen=now,
                    location_method="household",
                    household_id=household_id,
                    lives_alone=True,
                    description_zh=description,
                )
            )
    return create_tasks(conn, opened, settings)
