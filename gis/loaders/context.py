"""What a load can refer to: the layers validated earlier in the same load, then the DB."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from shapely.geometry.base import BaseGeometry

from gis.crs import WGS84
from gis.loaders.kinds import Kind
from gis.settings import Settings


@dataclass(frozen=True)
class LoadRules:
    """The tolerances, zone and key a load validates with (from Settings, passed in)."""

    containment_tolerance_m: float
    """How far (m) a grid may stick out of its community."""
    overlap_tolerance_m2: float
    """How much (m²) two grids of one community may overlap."""
    timezone: str
    """The zone of naive times in files."""
    pii_secret: str
    """The key of the ID-number HMAC (gis.pii)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> LoadRules:
        return cls(
            settings.load_containment_tolerance_m,
            settings.load_overlap_tolerance_m2,
            settings.local_timezone,
            settings.pii_secret,
        )


DEFAULT_RULES = LoadRules.from_settings(Settings.model_construct())
"""The settings' defaults (not the environment's): callers that have settings pass theirs."""


class LoadContext:
    """Lookups for validation, inside the load's own transaction, and the rules of the load."""

    def __init__(self, conn: psycopg.Connection, rules: LoadRules) -> None:
        self.conn = conn
        self.rules = rules
        self.pending: dict[str, pd.DataFrame] = {}

    def add_pending(self, kind: Kind, frame: pd.DataFrame) -> None:
        """A validated layer of this load, visible to the layers validated after it."""
        self.pending[kind.name] = frame

    def known_keys(self, kind: Kind, values: Iterable[str]) -> set[str]:
        """Which of ``values`` are keys of ``kind`` in this load or (current) in the DB."""
        wanted = set(values)
        found: set[str] = set()
        if kind.name in self.pending:
            found = wanted & set(self.pending[kind.name][kind.key].dropna())
        rest = wanted - found
        if rest:
            query = sql.SQL("SELECT {key} FROM {table} WHERE {key} = ANY(%s)").format(
                key=sql.Identifier(kind.key), table=sql.Identifier(kind.table)
            )
            if kind.name == "grid":
                query += sql.SQL(" AND valid_to IS NULL")
            found |= {row[0] for row in self.conn.execute(query, (list(rest),))}
        return found

    def community_geometries(self, codes: Iterable[str]) -> dict[str, BaseGeometry]:
        """WGS84 boundaries of these communities: this load's version first, else the DB's."""
        wanted = set(codes)
        geometries: dict[str, BaseGeometry] = {}
        pending = self.pending.get("community")
        if pending is not None:
            chosen = pending[pending["code"].isin(wanted)]
            geometries.update(zip(chosen["code"], chosen.geometry, strict=True))
        rest = list(wanted - geometries.keys())
        if rest:
            rows = self.conn.execute(
                "SELECT code, ST_AsBinary(geom) FROM community WHERE code = ANY(%s)", (rest,)
            )
            geometries.update((code, shapely.from_wkb(wkb)) for code, wkb in rows)
        return geometries

    def current_grids(self, community_codes: Iterable[str]) -> gpd.GeoDataFrame:
        """The DB's current grid versions in these communities."""
        rows = self.conn.execute(
            "SELECT code, community_code, valid_from, ST_AsBinary(geom) FROM grid "
            "WHERE valid_to IS NULL AND community_code = ANY(%s)",
            (list(set(community_codes)),),
        ).fetchall()
        frame = pd.DataFrame(rows, columns=["code", "community_code", "valid_from", "wkb"])
        geometry = gpd.GeoSeries(shapely.from_wkb(frame.pop("wkb").to_numpy()), crs=WGS84)
        return gpd.GeoDataFrame(frame, geometry=geometry)
