"""Households, residents and workers. Resident records are personal data: only masked ID
numbers ever leave the database, and every read is written to the audit log."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from api.deps import Conn, CurrentUser
from api.errors import NotFound
from api.pages import Paging, fetch_page
from api.responses import OrjsonResponse
from api.schemas import HouseholdDetail, HouseholdOut, Page, ResidentOut, WorkerOut
from api.scope import BUILDING_IN_GRID, Subject, Where, scope_where, valid_now, visible_phone
from api.users import User
from gis import audit
from gis.models import WORKER_ROLE_LABELS_ZH

router = APIRouter(prefix="/api", tags=["people 人员"])

GridCode = Annotated[str | None, Query(pattern=r"^[0-9]{15}$")]

HOUSEHOLD_COLUMNS = """
    household.id, household.code, household.building_id, building.code AS building_code,
    building.name AS building_name, building.community_code, household.unit, household.room,
    household.members, household.tags, household.consent, household.family_contact_name,
    household.family_contact_phone"""
HOUSEHOLD_FROM = "household JOIN building ON building.id = household.building_id"
# id_number_hmac is never selected; the stored mask is the only form of the ID number.
RESIDENT_COLUMNS = """
    resident.id, resident.household_id, resident.name, resident.birth_year,
    resident.id_number_masked AS id_number, resident.phone"""
RESIDENT_FROM = f"resident JOIN {HOUSEHOLD_FROM} ON household.id = resident.household_id"


def _place_filters(
    where: Where, grid_code: str | None, building_id: int | None, community_code: str | None
) -> Where:
    if grid_code:
        where.add(BUILDING_IN_GRID, grid_code=grid_code)
    return where.equal("building", {"id": building_id, "community_code": community_code})


def _audited(conn: psycopg.Connection, user: User, subject_type: str, page: dict) -> dict:
    audit.record_reads(conn, user.username, subject_type, [row["id"] for row in page["items"]])
    return page


@router.get("/households", response_model=Page[HouseholdOut])
def households(
    conn: Conn,
    user: CurrentUser,
    page: Paging,
    grid_code: GridCode = None,
    building_id: int | None = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    tag: Annotated[str | None, Query(description="e.g. 独居老人")] = None,
) -> OrjsonResponse:
    """户 of the user's area (audited)."""
    where = _place_filters(
        scope_where(user, Subject.HOUSEHOLD), grid_code, building_id, community_code
    )
    if tag:
        where.add("%(tag)s = ANY(household.tags)", tag=tag)
    result = fetch_page(
        conn,
        columns=HOUSEHOLD_COLUMNS,
        from_sql=HOUSEHOLD_FROM,
        where=where,
        order_by="household.id",
        page=page,
    )
    return OrjsonResponse(_audited(conn, user, "household", result))


@router.get("/households/{household_id}", response_model=HouseholdDetail)
def household(household_id: int, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """One household with its residents (both audited)."""
    where = scope_where(user, Subject.HOUSEHOLD).add("household.id = %(id)s", id=household_id)
    cur = conn.cursor(row_factory=dict_row)
    found = cur.execute(
        f"SELECT {HOUSEHOLD_COLUMNS} FROM {HOUSEHOLD_FROM} WHERE {where.sql}", where.params
    ).fetchone()
    if found is None:
        raise NotFound(f"住户 {household_id} 不存在或无权查看 (household not found)")
    found["residents"] = cur.execute(
        f"SELECT {RESIDENT_COLUMNS} FROM resident WHERE household_id = %s ORDER BY id",
        (household_id,),
    ).fetchall()
    audit.record_reads(conn, user.username, "household", [household_id])
    audit.record_reads(conn, user.username, "resident", [r["id"] for r in found["residents"]])
    return OrjsonResponse(found)


@router.get("/residents", response_model=Page[ResidentOut])
def residents(
    conn: Conn,
    user: CurrentUser,
    page: Paging,
    household_id: int | None = None,
    grid_code: GridCode = None,
    building_id: int | None = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> OrjsonResponse:
    """居民 of the user's area, ID numbers masked (audited)."""
    where = _place_filters(
        scope_where(user, Subject.RESIDENT), grid_code, building_id, community_code
    )
    if household_id is not None:
        where.add("household.id = %(household_id)s", household_id=household_id)
    result = fetch_page(
        conn,
        columns=RESIDENT_COLUMNS,
        from_sql=RESIDENT_FROM,
        where=where,
        order_by="resident.id",
        page=page,
    )
    return OrjsonResponse(_audited(conn, user, "resident", result))


@router.get("/workers", response_model=Page[WorkerOut])
def workers(
    conn: Conn,
    user: CurrentUser,
    page: Paging,
    role: str | None = None,
    grid_code: GridCode = None,
    community_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
) -> OrjsonResponse:
    """网格员 and other task receivers, with the grids they currently hold; phone numbers
    masked for roles that do not call workers (audited)."""
    where = scope_where(user, Subject.WORKER)
    # An empty ?role= filters nothing, as it always did.
    where.equal("worker", {"role": role or None, "community_code": community_code})
    if grid_code:
        where.add(
            "EXISTS (SELECT 1 FROM grid_assignment f WHERE f.worker_id = worker.id "
            f"AND f.grid_code = %(grid_code)s AND {valid_now('f')})",
            grid_code=grid_code,
        )
    result = fetch_page(
        conn,
        columns="worker.id, worker.name, worker.role, worker.department, worker.phone, "
        "worker.community_code, worker.street_code, worker.active, "
        "ARRAY(SELECT ga.grid_code FROM grid_assignment ga WHERE ga.worker_id = worker.id "
        f"AND {valid_now('ga')} ORDER BY ga.grid_code) AS grid_codes",
        from_sql="worker",
        where=where,
        order_by="worker.id",
        page=page,
    )
    for row in result["items"]:
        row["role_label_zh"] = WORKER_ROLE_LABELS_ZH.get(row["role"], row["role"])
        row["phone"] = visible_phone(user, row["phone"])
    return OrjsonResponse(_audited(conn, user, "worker", result))
