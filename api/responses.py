"""Response classes: orjson for JSON, and GeoJSON that PostgreSQL has already serialised.

Both derive from JSONResponse so the OpenAPI document shows the declared response models.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class GeoJSONResponse(JSONResponse):
    """A FeatureCollection built by ``json_build_object`` in PostgreSQL, passed through as is."""

    media_type = "application/geo+json"

    def render(self, content: bytes) -> bytes:
        return content
