#!/usr/bin/env bash
# The main command: sets up whatever is missing, then brings up the whole platform on local
# defaults — PostgreSQL/PostGIS with the demo city, the project's own Mosquitto, the ingest
# workers, the API with the live map, and the simulator feeding it. Services run in the
# background (logs in .run/logs/); a second run finds them running and changes nothing.
# Stop everything with: bash scripts/down.sh
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
setup_all
cd "$ROOT"
W=.venv/bin/wangge
mkdir -p "$RUN_DIR"

$W db upgrade
$W demo ensure
$W api user demo >"$RUN_DIR/demo-logins.txt"
if [ "${WANGGE_EXTERNAL_SERVICES:-0}" = 1 ]; then
    $W broker config
    docker compose up -d --force-recreate mosquitto >/dev/null
else
    $W broker start
fi
$W broker credentials --out "$RUN_DIR/devices.csv" >/dev/null

start_service ingest $W ingest
start_service api $W api serve
start_service sim $W sim --devices "$RUN_DIR/devices.csv" live

API_URL="http://$(.venv/bin/python -c 'from gis.settings import get_settings as g; s = g(); print(f"{s.api_host}:{s.api_port}")')"
for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "$API_URL/api/health" 2>/dev/null && break
    sleep 0.5
done
curl -fsS -o /dev/null "$API_URL/api/health" || die "the API did not come up; see $LOG_DIR/api.log"

cat <<MSG

  网格 Wangge is running.
  实时地图 Live map:   $API_URL/map
  API docs:            $API_URL/docs
  演示账号 Demo logins ($RUN_DIR/demo-logins.txt):
$(sed 's/^/    /' "$RUN_DIR/demo-logins.txt")
  日志 Logs:           $LOG_DIR/
  停止 Stop:           bash scripts/down.sh
MSG
