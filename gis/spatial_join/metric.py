"""Distances in metres, computed the same way in shapely and in PostGIS.

Both join implementations measure "how far outside a grid" in a local equirectangular
plane: x' = lon * kx, y' = lat * ky with kx = 111320 * cos(lat0) and ky = 110574 metres per
degree. lat0 is one fixed reference latitude for the whole grid table, so shapely and
PostGIS (ST_Scale) multiply the very same doubles and agree to the last bits — a geodesic
distance would differ between GEOS and liblwgeom and make tie-breaking unreproducible.
Within a district (tens of km) the error against the geodesic is far below a metre at 50 m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0
METRES_PER_DEGREE_LAT = 110_574.0
REFERENCE_LATITUDE_DECIMALS = 1


@dataclass(frozen=True)
class LocalMetric:
    """The equirectangular scaling around the reference latitude ``lat0`` (degrees)."""

    lat0: float

    @property
    def kx(self) -> float:
        return METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return METRES_PER_DEGREE_LAT

    def degrees_within(self, metres: float) -> float:
        """A radius in degrees that contains every point within ``metres`` (index prefilter).

        The relative margin absorbs rounding, so the prefilter never drops a true match.
        """
        return metres / min(self.kx, self.ky) * (1.0 + 1e-9)


def reference_latitude(conn: psycopg.Connection) -> float:
    """The middle latitude of all grid versions, rounded to 0.1 degree (0.0 with no grids).

    Both implementations take lat0 from here, so they always scale alike; the rounding
    keeps it stable while grids are edited.
    """
    row = conn.execute("SELECT (min(ST_YMin(geom)) + max(ST_YMax(geom))) / 2 FROM grid").fetchone()
    middle = row[0] if row and row[0] is not None else 0.0
    return round(float(middle), REFERENCE_LATITUDE_DECIMALS)
