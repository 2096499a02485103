"""The error shape WeCom and DingTalk share: every answer is {"errcode", "errmsg", …} with
errcode 0 for success and -1 for "system busy"."""

from __future__ import annotations

import time

from gis.channels.base import PermanentError, RateLimitedError, TransientError

BUSY = -1


def raise_for_errcode(answer: dict, what: str, rate_limited_s: dict[int, float]) -> None:
    """Return on errcode 0; raise TransientError for busy (or no errcode at all),
    RateLimitedError for a code in ``rate_limited_s`` (blocked that many seconds), and
    PermanentError for any other code. ``what`` names the call in the message."""
    errcode = answer.get("errcode", BUSY)
    errmsg = answer.get("errmsg")
    if errcode == 0:
        return
    if errcode == BUSY:
        raise TransientError(f"{what}: {errmsg}")
    if errcode in rate_limited_s:
        raise RateLimitedError(f"{what}: {errmsg}", time.time() + rate_limited_s[errcode])
    raise PermanentError(f"{what} errcode {errcode}: {errmsg}")
