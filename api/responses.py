"""Response classes: orjson for JSON, and GeoJSON that PostgreSQL has already serialised."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


class OrjsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class GeoJSONResponse(Response):
    """A FeatureCollection built by ``json_build_object`` in PostgreSQL, passed through as is."""

    media_type = "application/geo+json"
