"""Families' SMS replies to elderly-watch notices (短信回复): what a reply says, which notice
it answers, and its effect — exactly the notice link's answer (``answer_notice``).

The providers push replies to api/routes/sms_replies.py (Aliyun SmsUp, Tencent 短信回复),
which turns each into an ``InboundSms``. Providers push again until they get their success
answer, so a reply is stored once under its provider key (``watch_reply_once``) and a
second delivery changes nothing. Every reply is kept (``watch_reply``) and audited, with
the number masked in the audit log and the log.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import psycopg

from gis import audit
from gis.channels.base import PermanentError
from gis.channels.phones import mainland_number
from gis.pii import mask_phone
from gis.watch_enrolment import MAX_AWAY_DAYS, answer_notice, away_for, notice_replied_to

log = logging.getLogger(__name__)

REPLY_HINT = (
    f"回复 1 表示家人平安; 回复 外出 N 表示家人随您外出或住院 N 天 (最多 {MAX_AWAY_DAYS} 天)。"
)
"""What the notice tells the family it may reply (ingest/family_notices.py)."""

FINE_WORDS = frozenset({"1", "好", "好的", "平安", "没事", "没事的", "fine", "ok", "okay"})
_AWAY = re.compile(
    r"(?:2|不在家|外出)\s*[:,]?\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*[天日]?"
)
_CHINESE_DIGITS = dict(zip("一二三四五六七八九", range(1, 10), strict=True)) | {"两": 2}
_TRIM = " \t\r\n.。!！~～、;；"


@dataclass(frozen=True)
class Understood:
    answer: Literal["fine", "away"]
    away_days: int | None = None


@dataclass(frozen=True)
class InboundSms:
    """One reply as a provider pushed it; ``key`` is unique per reply at that provider."""

    provider: str
    key: str
    phone: str
    text: str
    sent_at: datetime | None = None


@dataclass(frozen=True)
class ReplyResult:
    reply_id: int | None
    """None: a delivery of a reply already stored (nothing changed)."""
    outcome: str | None = None
    household_id: int | None = None


def _chinese_number(text: str) -> int | None:
    """一 … 九, 十, 十一 … 三十 (what a day count up to 30 is written as)."""
    if "十" not in text:
        return _CHINESE_DIGITS.get(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    ten = 1 if tens == "" else _CHINESE_DIGITS.get(tens)
    one = 0 if ones == "" else _CHINESE_DIGITS.get(ones)
    return None if ten is None or one is None else ten * 10 + one


def understand(text: str) -> Understood | None:
    """ "1" / 好 / 平安 / 没事 / fine / ok → all fine; "2 N" / 不在家 N / 外出 N (N days,
    1 … 30, digits or 一 … 三十, full-width too) → away N days; anything else: None."""
    said = unicodedata.normalize("NFKC", text).strip(_TRIM).lower()
    if said in FINE_WORDS:
        return Understood("fine")
    match = _AWAY.fullmatch(said)
    if match is None:
        return None
    number = match.group(1)
    days = int(number) if number.isdigit() else _chinese_number(number)
    if days is None or not 1 <= days <= MAX_AWAY_DAYS:
        return None
    return Understood("away", days)


def _mainland(phone: str) -> str | None:
    try:
        return mainland_number(phone)
    except PermanentError:
        return None


def receive_reply(conn: psycopg.Connection, sms: InboundSms, link_h: float) -> ReplyResult:
    """Store the reply once and act on it (in the caller's transaction): understood and
    matched to a notice (``notice_replied_to``), it is the link's answer; otherwise it is
    recorded and changes nothing."""
    reply_id = conn.execute(
        "INSERT INTO watch_reply (provider, provider_key, phone, text, sent_at, outcome) "
        "VALUES (%s, %s, %s, %s, %s, 'no_notice') "
        "ON CONFLICT ON CONSTRAINT watch_reply_once DO NOTHING RETURNING id",
        (sms.provider, sms.key, sms.phone, sms.text, sms.sent_at),
    ).fetchone()
    masked = mask_phone(sms.phone)
    if reply_id is None:
        log.info("SMS reply %s from %s delivered again: ignored", sms.key, masked)
        return ReplyResult(None)
    reply_id = reply_id[0]
    phone = _mainland(sms.phone)
    notice = notice_replied_to(conn, phone, link_h) if phone else None
    understood = understand(sms.text)
    household = None
    if notice is None:
        outcome = "no_notice"
    elif understood is None:
        outcome = "not_understood"
        household = conn.execute(
            "SELECT c.household_id FROM watch_notice n JOIN watch_contact c "
            "ON c.id = n.contact_id WHERE n.id = %s",
            (notice,),
        ).fetchone()[0]
    else:
        outcome = "answered"
        days = understood.away_days
        household = answer_notice(conn, notice, away_for(days) if days else None)
    conn.execute(
        "UPDATE watch_reply SET outcome = %s, notice_id = %s, household_id = %s, "
        "understood = %s, away_days = %s WHERE id = %s",
        (
            outcome,
            notice,
            household,
            understood.answer if understood else None,
            understood.away_days if understood else None,
            reply_id,
        ),
    )
    detail = {"via": sms.provider, "phone": masked, "reply": reply_id, "outcome": outcome}
    if outcome == "answered":
        action, subject = f"watch_family_{understood.answer}", ("household", household)
    else:
        action, subject = "watch_family_reply", ("watch_reply", reply_id)
    audit.record(conn, "family", action, *subject, detail)
    log.info("SMS reply %s from %s via %s: %s", reply_id, masked, sms.provider, outcome)
    return ReplyResult(reply_id, outcome, household)
