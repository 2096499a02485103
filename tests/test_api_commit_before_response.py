"""A write is committed before its response starts: a client that reads right after a
2xx sees what it wrote, with or without an Idempotency-Key. (FastAPI's default scope for
a yield dependency would commit the request's transaction after the response is sent.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.app import create_app
from gis.db import connect
from tests.api_world import COMMUNITY_A, PEER, World, api_settings, login


class PlansAtResponseStart:
    """Wraps the app; when a POST's response starts, counts the plans on another connection."""

    def __init__(self, app: ASGIApp, database_url: str) -> None:
        self.app, self.database_url = app, database_url
        self.counted: list[int] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("path") == "/api/plans":
                with connect(self.database_url) as conn:
                    count = conn.execute("SELECT count(*) FROM grid_plan").fetchone()[0]
                    self.counted.append(count)
            await send(message)

        await self.app(scope, receive, watched)


@pytest.mark.parametrize("keyed", [False, True], ids=["without-key", "with-key"])
def test_a_write_is_committed_before_its_response_starts(
    database_url: str, tmp_path: Path, world: World, keyed: bool
) -> None:
    app = PlansAtResponseStart(create_app(api_settings(database_url, tmp_path)), database_url)
    with TestClient(app, client=PEER) as client:
        headers = login(client, "planner")
        if keyed:
            headers = headers | {"Idempotency-Key": "commit-before-response-1"}
        body = {"community_code": COMMUNITY_A, "name": "重新划分"}
        created = client.post("/api/plans", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert app.counted == [1]
