"""The moment of each point, as int64 microseconds since the Unix epoch (UTC).

PostgreSQL keeps timestamptz in microseconds, so both implementations compare the same
integers against grid validity and cannot disagree on a point taken at a change instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def aware(moment: datetime) -> datetime:
    """``moment`` itself; a naive datetime is refused, as its zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moments must be timezone-aware datetimes")
    return moment


def datetime_to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime."""
    delta = aware(moment) - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def utc_datetime64(moments: Iterable[datetime]) -> np.ndarray:
    """Timezone-aware datetimes as a datetime64[us] array in UTC (per-point ``at``)."""
    return np.array([datetime_to_us(m) for m in moments], dtype="datetime64[us]")


def moments_us(at: datetime | np.ndarray, count: int) -> np.ndarray:
    """One int64 microsecond timestamp per point.

    ``at`` is a single timezone-aware datetime for the whole batch, or an array of
    ``count`` numpy datetime64 values, which are taken as UTC.
    """
    if isinstance(at, datetime):
        return np.full(count, datetime_to_us(at), dtype=np.int64)
    values = np.asarray(at)
    if values.shape != (count,) or not np.issubdtype(values.dtype, np.datetime64):
        raise ValueError(f"at must be a datetime or {count} datetime64 values")
    if np.isnat(values).any():
        raise ValueError("at must not contain NaT")
    return values.astype("datetime64[us]").astype(np.int64)
