"""The map's base layer, chosen by settings: none (offline outlines), a local tile folder,
天地图 (Tianditu) or 高德 (AMap).

AMap draws its tiles in GCJ-02 while all data here is WGS84, so with AMap the page projects
through GCJ-02 (maps/static/js/gcj02.js): every overlay moves onto the tiles and clicks map
back to WGS84. Tianditu is CGCS2000, which matches WGS84 to well under a pixel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import urlsplit

from gis.settings import Settings
from maps import TILES_URL

TIANDITU_SUBDOMAINS = "01234567"
AMAP_SUBDOMAINS = "1234"
AMAP_MAX_ZOOM = 18
TIANDITU_MAX_ZOOM = 18


@dataclass(frozen=True)
class TileSource:
    url: str
    """A Leaflet URL template ({s}, {z}, {x}, {y})."""
    subdomains: str
    max_zoom: int
    attribution: str
    """An i18n key."""

    def hosts(self) -> list[str]:
        """Every origin the template can expand to (for the Content Security Policy)."""
        if self.url.startswith("/"):
            return []
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.url))
        if "{s}" not in origin:
            return [origin]
        return [origin.replace("{s}", s) for s in self.subdomains]


@dataclass(frozen=True)
class BaseLayer:
    kind: Literal["none", "local", "tianditu", "amap"]
    datum: Literal["wgs84", "gcj02"]
    """The datum the tiles are drawn in; the page shifts the overlays to match."""
    tiles: tuple[TileSource, ...]
    notice: str
    """An i18n key: what the operator is looking at (and whether it works offline)."""

    def hosts(self) -> list[str]:
        return [host for source in self.tiles for host in source.hosts()]

    def as_config(self) -> dict:
        return asdict(self)


def _tianditu(settings: Settings, layer: str, attribution: str) -> TileSource:
    url = settings.map_tianditu_url.replace("{layer}", layer)
    url = url.replace("{key}", settings.map_tianditu_key)
    return TileSource(url, TIANDITU_SUBDOMAINS, TIANDITU_MAX_ZOOM, attribution)


def base_layer(settings: Settings) -> BaseLayer:
    kind = settings.map_base_layer
    if kind == "local":
        url = f"{TILES_URL}/{{z}}/{{x}}/{{y}}.{settings.map_tile_ext}"
        source = TileSource(url, "", settings.map_tile_max_zoom, "base.attribution_local")
        return BaseLayer("local", "wgs84", (source,), "base.local")
    if kind == "tianditu":
        if not settings.map_tianditu_key:
            return BaseLayer("tianditu", "wgs84", (), "base.tianditu_no_key")
        sources = (
            _tianditu(settings, "vec", "base.attribution_tianditu"),
            _tianditu(settings, "cva", "base.attribution_tianditu"),
        )
        return BaseLayer("tianditu", "wgs84", sources, "base.tianditu")
    if kind == "amap":
        source = TileSource(
            settings.map_amap_url, AMAP_SUBDOMAINS, AMAP_MAX_ZOOM, "base.attribution_amap"
        )
        return BaseLayer("amap", "gcj02", (source,), "base.amap")
    return BaseLayer("none", "wgs84", (), "base.none")
