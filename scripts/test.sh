#!/usr/bin/env bash
# The test command: sets up whatever is missing, then lints and runs the whole suite
# against real PostGIS, real Mosquitto and real headless Chromium. Extra arguments go to pytest.
set -euo pipefail
export WANGGE_WITH_BROWSER=1
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_all
cd "$ROOT"
log "ruff: lint and format check"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
log "pytest"
exec .venv/bin/pytest "$@"
