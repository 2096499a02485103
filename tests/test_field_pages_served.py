"""The field app's shell: /m/ with a same-origin CSP, its service worker listing every
file the app needs (each one served), the manifest that makes it installable, and the
size of the whole shell on the wire (it must stay small for rural links)."""

from __future__ import annotations

import gzip
import json
import re

from fastapi.testclient import TestClient

SHELL_LIMIT_KB = 300


def test_field_shell_is_served_and_complete(client: TestClient) -> None:
    assert client.get("/m", follow_redirects=False).headers["location"] == "/m/"
    page = client.get("/m/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in page.text
    worker = client.get("/m/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", worker.text).group(1))
    assert "/m/" in shell
    # Every module the page imports is in the shell (else the app breaks offline).
    imported = re.findall(r'src="(/static/map/js/field/app\.js\?v=\w+)"', page.text)
    assert imported and imported[0] in shell
    wire = 0
    for url in shell:
        answer = client.get(url)
        assert answer.status_code == 200, url
        wire += len(gzip.compress(answer.content, 6))
    print(f"field app shell: {len(shell)} files, {wire / 1024:.0f} KB gzipped")
    assert wire / 1024 <= SHELL_LIMIT_KB
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/m/"
    assert manifest.json()["display"] == "standalone"
    assert client.get(manifest.json()["icons"][0]["src"]).status_code == 200
