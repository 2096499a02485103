#!/usr/bin/env bash
# Stops what scripts/up.sh started (simulator, API, ingest, the project's broker).
# PostgreSQL is left running: it is the machine's, not only this project's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[wangge] %s\n' "$*" >&2; }
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
for name in sim api ingest; do stop_service "$name"; done
"$ROOT/.venv/bin/wangge" broker stop
