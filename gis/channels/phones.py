"""Phone numbers in the two shapes providers want: E.164 (Tencent) and the bare 11-digit
mainland number (Aliyun). A number that is neither is a PermanentError, not a guess."""

from __future__ import annotations

import re

from gis.channels.base import PermanentError

_MAINLAND = re.compile(r"^(?:\+?86|0086)?(1\d{10})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def mainland_number(phone: str) -> str:
    match = _MAINLAND.match(re.sub(r"[\s-]", "", phone))
    if match is None:
        raise PermanentError(f"not a mainland mobile number: {phone!r}")
    return match.group(1)


def e164(phone: str) -> str:
    compact = re.sub(r"[\s-]", "", phone)
    if _E164.match(compact):
        return compact
    return "+86" + mainland_number(compact)
