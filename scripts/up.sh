#!/usr/bin/env bash
# The main command: sets up whatever is missing, then brings up the whole platform on local
# defaults — PostgreSQL/PostGIS with the demo city, the project's own Mosquitto, and the
# services. A second run finds everything in place and changes nothing.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_all
cd "$ROOT"
.venv/bin/wangge db upgrade
.venv/bin/wangge demo ensure
.venv/bin/wangge broker start
.venv/bin/wangge demo status
