"""The one HTTP helper every provider uses (stdlib only): a request, its JSON answer, and
the mapping of network trouble and 5xx to TransientError."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from gis.channels.base import TransientError

TIMEOUT_S = 10.0


def request_json(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = TIMEOUT_S,
) -> tuple[int, dict]:
    """(HTTP status, decoded JSON body); 5xx, timeouts and refused connections raise
    TransientError, a 4xx is returned for the provider module to read its error shape."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise TransientError(f"{url.split('?')[0]} answered {error.code}") from error
        return error.code, _decode(error.read())
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise TransientError(f"{url.split('?')[0]} unreachable: {error}") from error


def post_json(url: str, payload: dict, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return request_json("POST", url, body, {"Content-Type": "application/json", **(headers or {})})


def _decode(raw: bytes) -> dict:
    try:
        decoded = json.loads(raw or b"{}")
    except ValueError as error:
        raise TransientError(f"answer is not JSON: {raw[:200]!r}") from error
    return decoded if isinstance(decoded, dict) else {"value": decoded}
