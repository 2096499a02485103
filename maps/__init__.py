"""The operators' live map (指挥中心实时地图): an HTML shell rendered here, its scripts,
styles and vendored Leaflet in ``maps/static``, every layer fetched from the API.

The page is hand-written Leaflet rather than folium output: folium renders a map whose
data is baked into inline scripts at render time and whose default assets come from CDNs,
while this map is an application — it fetches layers by viewport, listens to the live
stream and drives the work-order loop — and must run with a strict same-origin Content
Security Policy on offline intranets. The API serves what this package renders; this
package imports nothing from ``api``.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_URL = "/static/map"
"""Where the API serves ``STATIC_DIR``."""
TILES_URL = "/tiles"
"""Where the API serves the local tile folder (base layer ``local``)."""
