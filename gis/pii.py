"""Resident ID numbers (居民身份证号): never stored in full.

The database keeps a mask for display (first 3 + ``*`` + last 4, as the ``resident`` check
constraint demands) and an HMAC-SHA256 keyed with ``settings.pii_secret`` — its own secret,
not the MQTT credential secret — so a known ID number can be looked up (and duplicates
refused) without the number being recoverable. Rotating the key: docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ID_NUMBER_PATTERN = re.compile(r"^(?:[0-9]{17}[0-9X]|[0-9]{15})$")
"""18-character GB 11643 numbers (last may be X) and the old 15-digit ones."""


def normalize_id_number(id_number: str) -> str:
    """Trimmed, with a lowercase check character ``x`` written as ``X``."""
    return id_number.strip().upper()


def is_id_number(id_number: str) -> bool:
    return ID_NUMBER_PATTERN.match(normalize_id_number(id_number)) is not None


def mask_id_number(id_number: str) -> str:
    """``150203199001011234`` → ``150***********1234``."""
    number = normalize_id_number(id_number)
    if not ID_NUMBER_PATTERN.match(number):
        raise ValueError("not an ID number")
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def id_number_hmac(id_number: str, secret: str) -> str:
    """Hex HMAC-SHA256 of the normalised number, keyed with ``secret`` (settings.pii_secret)."""
    message = normalize_id_number(id_number).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """``13800001234`` → ``138****1234``: enough to recognise, not to call."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
