"""Fake 18-digit resident ID numbers (GB 11643-1999 layout) for generated residents.

Layout: 6-digit region + 8-digit birth date + 3-digit sequence + ISO 7064 MOD 11-2 check
character. The numbers are well-formed so that validation code is exercised, but they
are drawn at random and belong to nobody.
"""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK_CHARS = "10X98765432"
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")


def check_character(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid(id_number: str) -> bool:
    """Well-formed, a real calendar date, and the check character matches."""
    if not ID_NUMBER.match(id_number):
        return False
    try:
        date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return False
    return id_number[17] == check_character(id_number[:17])


def fake_id_numbers(region: str, birth_dates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distinct ID numbers for people born on ``birth_dates`` (datetime64[D]) in ``region``."""
    days = birth_dates.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    birth = (
        (months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000
        + (months.astype(np.int64) % 12 + 1) * 100
        + (days - months).astype(np.int64)
        + 1
    )
    first17 = int(region) * 10**11 + birth * 1_000 + _distinct_sequences(birth, rng)

    weighted = np.zeros(len(days), dtype=np.int64)
    rest = first17.copy()
    for weight in WEIGHTS[::-1]:  # from the last digit to the first
        weighted += (rest % 10) * weight
        rest //= 10
    check = np.array(list(CHECK_CHARS))[weighted % 11]
    return np.strings.add(first17.astype(str), check).astype(object)


_COPRIME_STRIDES = np.array([s for s in range(1, 1_000) if math.gcd(s, 1_000) == 1])


def _distinct_sequences(birth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 3-digit sequence per person, distinct among people born on the same day: the n-th
    person of a day gets (offset + n * stride) mod 1000, stride coprime to 1000."""
    order = np.argsort(birth, kind="stable")
    sorted_birth = birth[order]
    starts_day = np.r_[True, sorted_birth[1:] != sorted_birth[:-1]]
    day = np.cumsum(starts_day) - 1
    rank = np.arange(len(birth)) - np.flatnonzero(starts_day)[day]
    if len(rank) and rank.max() >= 1_000:
        raise ValueError("more than 1,000 people born on one day: no distinct ID numbers left")
    n_days = int(day[-1]) + 1 if len(day) else 0
    offset = rng.integers(0, 1_000, n_days)
    stride = rng.choice(_COPRIME_STRIDES, n_days)
    sequence = np.empty(len(birth), dtype=np.int64)
    sequence[order] = (offset[day] + rank * stride[day]) % 1_000
    return sequence
