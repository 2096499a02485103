"""PostgreSQL binary COPY of fixed-width rows, built straight from numpy arrays.

One structured array holds the whole COPY stream (per row: field count, then length and
value of each field), so a million points are encoded without a Python loop.
"""

from __future__ import annotations

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
POSTGRES_EPOCH_US = 946_684_800_000_000
"""2000-01-01T00:00Z in Unix microseconds: binary timestamptz counts from there."""
EWKB_POINT = np.dtype(
    [("byte_order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)
EWKB_POINT_WITH_SRID = 0x20000001
"""WKB type 1 (point) with the EWKB flag saying an SRID follows."""


def ewkb_points(lon: np.ndarray, lat: np.ndarray, srid: int) -> np.ndarray:
    """Points as little-endian EWKB records (25 bytes each), for a geometry column."""
    points = np.empty(len(lon), dtype=EWKB_POINT)
    points["byte_order"] = 1
    points["type"] = EWKB_POINT_WITH_SRID
    points["srid"] = srid
    points["x"] = lon
    points["y"] = lat
    return points


def encode_rows(columns: dict[str, np.ndarray]) -> bytes:
    """A binary COPY stream of the given non-null columns, in table column order.

    A plain numeric array is sent big-endian as PostgreSQL expects: int32 -> integer,
    int64 -> bigint or timestamptz (microseconds since 2000-01-01), float64 -> float8.
    A structured array (such as ewkb_points) is sent byte for byte.
    """
    wire = {
        name: values if values.dtype.names else values.astype(values.dtype.newbyteorder(">"))
        for name, values in columns.items()
    }
    fields: list[tuple[str, str | np.dtype]] = [("field_count", ">i2")]
    for name, values in wire.items():
        fields += [(f"{name}_length", ">i4"), (name, values.dtype)]
    rows = np.empty(len(next(iter(wire.values()))), dtype=np.dtype(fields))
    rows["field_count"] = len(wire)
    for name, values in wire.items():
        rows[f"{name}_length"] = values.dtype.itemsize
        rows[name] = values
    return HEADER + rows.tobytes() + TRAILER
