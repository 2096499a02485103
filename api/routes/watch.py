"""The elderly watch (智慧养老) in the API: who is offered it, enrolment with consent and
family contacts, known absences, the family's "all fine" link and the family's SMS replies
(received by api/routes/sms_replies.py).

Households are personal data: every route goes through the caller's household scope
(api.scope), family phone numbers are masked for roles that do not call people, and every
household read is audited. Enrolment and absences are changed by the desk and the grid
workers of the household's grid only; every change is audited. Writes are safe to retry
(PUT replaces; an Idempotency-Key is honoured by the middleware).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from psycopg.rows import dict_row
from pydantic import BaseModel, Field, field_validator

from api.deps import AppSettings, Conn, CurrentUser
from api.errors import Forbidden, NotFound
from api.pages import Paging, fetch_page
from api.responses import OrjsonResponse
from api.scope import Subject, Where, scope_where, visible_phone
from api.users import User
from gis import audit
from gis.watch_enrolment import (
    MAX_AWAY_DAYS,
    OFFERED_TAGS,
    Contact,
    Enrolment,
    away_for,
    door_for,
    enrol,
    family_answers,
    set_away,
)

router = APIRouter(tags=["elderly watch 智慧养老"])

EDITORS = frozenset({"admin", "operator", "cadre", "grid_worker"})
HOUSEHOLD_FROM = "household JOIN building ON building.id = household.building_id"


class ContactIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(pattern=r"^(\+?86)?1[3-9][0-9]{9}$", description="mainland mobile")
    relation: str | None = Field(default=None, max_length=20, description="e.g. 女儿")
    channel: Literal["sms", "aliyun_sms", "tencent_sms", "wecom_app"] = "sms"


class EnrolmentIn(BaseModel):
    consent_by: str = Field(min_length=1, max_length=60, description="who consented")
    consent_at: datetime
    contacts: list[ContactIn] = Field(default=[], max_length=5)
    signals: list[Literal["water", "power", "door"]] = Field(
        default=["water", "power", "door"], min_length=1
    )
    routines: str | None = Field(default=None, max_length=500)
    quiet_from: int | None = Field(default=None, ge=0, le=23)
    quiet_until: int | None = Field(default=None, ge=0, le=23)
    door_device_id: str | None = Field(
        default=None, max_length=64, description="default: the nearest door controller"
    )

    @field_validator("consent_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("consent_at needs a time zone (e.g. +08:00)")
        return value


class AwayIn(BaseModel):
    until: datetime | None = Field(description="null: back home")
    reason: str | None = Field(default=None, max_length=100, description="住院, 随子女外出…")


def _in_scope(conn: Conn, user: User, household_id: int) -> None:
    where = scope_where(user, Subject.HOUSEHOLD).add("household.id = %(id)s", id=household_id)
    if conn.execute(f"SELECT 1 FROM {HOUSEHOLD_FROM} WHERE {where.sql}", where.params).fetchone():
        return
    raise NotFound(f"住户 {household_id} 不存在或无权查看 (household not found)")


def _require_editor(user: User) -> None:
    if user.role not in EDITORS:
        raise Forbidden("只有值班员、社区干部或网格员可以办理 (desk or grid staff only)")


@router.get("/api/watch/candidates")
def candidates(conn: Conn, user: CurrentUser, page: Paging) -> OrjsonResponse:
    """Households of my area tagged 独居老人 / 空巢 / 高龄 not yet enrolled (audited)."""
    where = scope_where(user, Subject.HOUSEHOLD).add(
        "household.tags && %(tags)s::text[] AND NOT EXISTS (SELECT 1 FROM watch_enrolment e "
        "WHERE e.household_id = household.id)",
        tags=list(OFFERED_TAGS),
    )
    result = fetch_page(
        conn,
        columns="household.id, household.code, building.code AS building_code, "
        "building.community_code, household.unit, household.room, household.tags",
        from_sql=HOUSEHOLD_FROM,
        where=where,
        order_by="household.id",
        page=page,
    )
    audit.record_reads(conn, user.username, "household", [r["id"] for r in result["items"]])
    return OrjsonResponse(result)


def _enrolment(conn: Conn, user: User, household_id: int) -> dict:
    cur = conn.cursor(row_factory=dict_row)
    found = cur.execute(
        "SELECT household_id, consent_by, consent_at, signals, routines, quiet_from, "
        "quiet_until, door_device_id, away_until, away_reason, away_set_by, enrolled_by, "
        "created_at, away_until > now() AS away FROM watch_enrolment WHERE household_id = %s",
        (household_id,),
    ).fetchone()
    if found is None:
        raise NotFound(f"住户 {household_id} 未加入关爱守护 (household not enrolled)")
    contacts = cur.execute(
        "SELECT id, name, phone, relation, channel FROM watch_contact "
        "WHERE household_id = %s ORDER BY id",
        (household_id,),
    ).fetchall()
    for contact in contacts:
        contact["phone"] = visible_phone(user, contact["phone"])
    found["contacts"] = contacts
    found["away"] = bool(found["away"])
    return found


@router.get("/api/watch/households/{household_id}")
def enrolment(household_id: int, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """A household's enrolment, settings and family contacts (phones masked unless the
    role calls people; audited)."""
    _in_scope(conn, user, household_id)
    found = _enrolment(conn, user, household_id)
    audit.record_reads(conn, user.username, "household", [household_id], {"what": "watch"})
    return OrjsonResponse(found)


@router.put("/api/watch/households/{household_id}")
def put_enrolment(
    household_id: int, body: EnrolmentIn, conn: Conn, user: CurrentUser
) -> OrjsonResponse:
    """Enrol the household (or change its settings and contacts), with its consent."""
    _require_editor(user)
    _in_scope(conn, user, household_id)
    door = body.door_device_id or door_for(conn, household_id)
    new = enrol(
        conn,
        Enrolment(
            household_id=household_id,
            consent_by=body.consent_by,
            consent_at=body.consent_at,
            enrolled_by=user.username,
            contacts=[Contact(c.name, c.phone, c.relation, c.channel) for c in body.contacts],
            signals=body.signals,
            routines=body.routines,
            quiet_from=body.quiet_from,
            quiet_until=body.quiet_until,
            door_device_id=door,
        ),
    )
    audit.record(
        conn,
        user.username,
        "watch_enrol" if new else "watch_update",
        "household",
        household_id,
        {"consent_by": body.consent_by, "contacts": len(body.contacts), "signals": body.signals},
    )
    return OrjsonResponse(_enrolment(conn, user, household_id))


@router.put("/api/watch/households/{household_id}/away")
def put_away(household_id: int, body: AwayIn, conn: Conn, user: CurrentUser) -> OrjsonResponse:
    """外出/住院: no resident alert until ``until``; it ends by itself then."""
    _require_editor(user)
    _in_scope(conn, user, household_id)
    if not set_away(conn, household_id, body.until, body.reason, user.username):
        raise NotFound(f"住户 {household_id} 未加入关爱守护 (household not enrolled)")
    audit.record(
        conn,
        user.username,
        "watch_away",
        "household",
        household_id,
        {"until": body.until.isoformat() if body.until else None, "reason": body.reason},
    )
    return OrjsonResponse(_enrolment(conn, user, household_id))


DESK = frozenset({"admin", "operator"})
REPLY_FROM = (
    "watch_reply LEFT JOIN household ON household.id = watch_reply.household_id "
    "LEFT JOIN building ON building.id = household.building_id"
)


@router.get("/api/watch/replies")
def replies(
    conn: Conn, user: CurrentUser, page: Paging, household_id: int | None = None
) -> OrjsonResponse:
    """Families' SMS replies, newest first (gis.sms_replies): those of households in my
    scope, and for the desk also those from numbers no open notice was sent to. ``outcome``
    says what each did: ``answered`` (as the link would), ``not_understood`` or
    ``no_notice`` (recorded, no effect). Phones masked unless the role calls people;
    households read are audited."""
    scoped = scope_where(user, Subject.HOUSEHOLD)
    where = Where()
    if user.role in DESK and scoped.clauses:
        where.add(f"watch_reply.household_id IS NULL OR ({scoped.sql})", **scoped.params)
    elif user.role not in DESK:
        where.add("watch_reply.household_id IS NOT NULL").extend(scoped)
    where.equal("watch_reply", {"household_id": household_id})
    result = fetch_page(
        conn,
        columns="watch_reply.id, watch_reply.provider, watch_reply.phone, watch_reply.text, "
        "watch_reply.sent_at, watch_reply.received_at, watch_reply.understood, "
        "watch_reply.away_days, watch_reply.outcome, watch_reply.notice_id, "
        "watch_reply.household_id, household.code AS household_code",
        from_sql=REPLY_FROM,
        where=where,
        order_by="watch_reply.received_at DESC, watch_reply.id DESC",
        page=page,
    )
    for item in result["items"]:
        item["phone"] = visible_phone(user, item["phone"])
    households = sorted({r["household_id"] for r in result["items"] if r["household_id"]})
    audit.record_reads(conn, user.username, "household", households, {"what": "watch_reply"})
    return OrjsonResponse(result)


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>网格关怀</title></head>
<body><main><h1>网格关怀 · Community care</h1><p>{zh}</p><p lang="en">{en}</p>{form}</main>
</body></html>"""


def _page(zh: str, en: str, form: str = "", status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(zh=escape(zh), en=escape(en), form=form), status)


AWAY_DAYS = (1, 3, 7, 14, 30)


@router.get("/watch/fine/{token}", response_class=HTMLResponse)
def fine_page(token: str) -> HTMLResponse:
    """The family's link from a notice: asks to confirm (a GET never changes anything, so
    a link preview does not answer for the family)."""
    action = f"/watch/fine/{escape(token)}"
    days = "".join(f'<option value="{d}">{d} 天 days</option>' for d in AWAY_DAYS)
    form = (
        f'<form method="post" action="{action}"><input type="hidden" name="answer" value="fine">'
        '<button type="submit">家人一切正常 · All is fine</button></form>'
        f'<form method="post" action="{action}"><input type="hidden" name="answer" value="away">'
        f'<label>随家人外出或住院 · Away with us or in hospital: <select name="away_days">{days}'
        '</select></label> <button type="submit">确认 · Confirm</button></form>'
    )
    return _page(
        "如您已确认家人一切正常, 或家人正随您外出、住院, 请在下方告知, 网格员将不再上门。",
        "If you have checked that your relative is fine, or they are away with you or in "
        "hospital, say so below and no worker will be sent.",
        form,
    )


@router.post("/watch/fine/{token}", response_class=HTMLResponse)
def fine(
    token: str,
    conn: Conn,
    settings: AppSettings,
    answer: Annotated[Literal["fine", "away"], Form()] = "fine",
    away_days: Annotated[int, Form(ge=1, le=MAX_AWAY_DAYS)] = 1,
) -> HTMLResponse:
    """ "All fine" or "away for N days": closes the case, starts the quiet period or the
    known absence (idempotent)."""
    away_until = away_for(away_days) if answer == "away" else None
    household = family_answers(
        conn, hashlib.sha256(token.encode()).hexdigest(), settings.watch_notice_link_h, away_until
    )
    if household is None:
        return _page("链接无效或已过期。", "This link is unknown or has expired.", status=404)
    audit.record(conn, "family", f"watch_family_{answer}", "household", household)
    return _page("已收到, 谢谢! 如有变化请联系社区。", "Thank you: noted.")
