#!/usr/bin/env bash
# Idempotent set-up shared by scripts/up.sh and scripts/test.sh.
#
# As root it installs what is missing from Debian's packages and starts PostgreSQL;
# as another user it says exactly what to install (or to use docker-compose.yml).
# A second run finds everything in place and returns in about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION="${WANGGE_PG_VERSION:-15}"
DB_USER=wangge
DB_PASSWORD=wangge
DB_NAME=wangge

log() { printf '[wangge] %s\n' "$*" >&2; }
die() { printf '[wangge] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

missing_debian_packages() {
    local pkgs=()
    command -v python3 >/dev/null || pkgs+=(python3)
    python3 -c 'import venv, ensurepip' 2>/dev/null || pkgs+=(python3-venv)
    if [ "${WANGGE_EXTERNAL_SERVICES:-0}" != 1 ]; then
        [ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] || pkgs+=("postgresql-$PG_VERSION")
        [ -f "/usr/share/postgresql/$PG_VERSION/extension/postgis.control" ] \
            || pkgs+=("postgresql-$PG_VERSION-postgis-3")
    fi
    # The tests start throwaway brokers of their own, so they need the binary in any case.
    if [ "${WANGGE_EXTERNAL_SERVICES:-0}" != 1 ] || [ "${WANGGE_WITH_BROWSER:-0}" = 1 ]; then
        [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || pkgs+=(mosquitto)
    fi
    if [ "${WANGGE_WITH_BROWSER:-0}" = 1 ]; then
        [ -x /usr/bin/chromium ] || pkgs+=(chromium)
        [ -d /usr/share/fonts/truetype/wqy ] || pkgs+=(fonts-wqy-zenhei)
    fi
    echo "${pkgs[@]}"
}

ensure_debian_packages() {
    local missing
    missing="$(missing_debian_packages)"
    [ -z "$missing" ] && return 0
    if is_root; then
        log "installing Debian packages: $missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
        die "missing Debian packages: $missing
    Install them with:   sudo apt-get install -y $missing
    (or run this command as root and it installs them itself).
    With Docker instead, 'docker compose up -d' starts PostGIS and Mosquitto from
    docker-compose.yml; set WANGGE_EXTERNAL_SERVICES=1 to use them."
    fi
}

ensure_python() {
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Python 3.11 or newer is needed (found $(python3 --version 2>&1))"
    cd "$ROOT"
    if [ ! -x .venv/bin/python ]; then
        log "creating the virtual environment .venv"
        python3 -m venv .venv
    fi
    local want stamp=.venv/.wangge-installed
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing Python packages into .venv (pip install -e .[dev])"
        local pip_log=.venv/pip-install.log
        if ! { .venv/bin/python -m pip install --upgrade pip \
            && .venv/bin/python -m pip install -e ".[dev]"; } >"$pip_log" 2>&1; then
            tail -n 30 "$pip_log" >&2
            die "the Python packages did not install (full log: $pip_log)"
        fi
        echo "$want" >"$stamp"
    fi
}

pg_ready() {
    if command -v pg_isready >/dev/null; then
        pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null
    else  # no PostgreSQL client (Docker users): is anything accepting connections?
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

ensure_postgres() {
    if [ "${WANGGE_EXTERNAL_SERVICES:-0}" = 1 ]; then
        log "using external services (WANGGE_EXTERNAL_SERVICES=1): docker compose up -d postgis"
        docker compose up -d postgis >/dev/null || die "docker compose could not start PostGIS"
        for _ in $(seq 1 120); do pg_ready && break; sleep 0.5; done
        pg_ready || die "PostGIS (docker) did not come up on 127.0.0.1:5432"
        return 0
    fi
    if ! pg_ready; then
        is_root || die "PostgreSQL is not running on 127.0.0.1:5432.
    Start it with:   sudo pg_ctlcluster $PG_VERSION main start
    (or run this command as root, or use docker compose up -d)."
        if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$PG_VERSION main"; then
            log "creating PostgreSQL cluster $PG_VERSION/main"
            pg_createcluster "$PG_VERSION" main >/dev/null
        fi
        log "starting PostgreSQL $PG_VERSION"
        pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
        for _ in $(seq 1 60); do pg_ready && break; sleep 0.5; done
        pg_ready || die "PostgreSQL did not come up; see /var/log/postgresql/"
    fi
    # The project's role and database (superuser on a local dev machine: tests create and
    # drop their own databases and enable PostGIS in them).
    if ! PGPASSWORD="$DB_PASSWORD" psql -qtA -h 127.0.0.1 -U "$DB_USER" -d postgres \
        -c 'SELECT 1' >/dev/null 2>&1; then
        is_root || die "cannot log in to PostgreSQL as $DB_USER. As a superuser run:
    CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';"
        log "creating PostgreSQL role $DB_USER"
        runuser -u postgres -- psql -qtA -c "DO \$\$BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
                CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
            ELSE ALTER ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD'; END IF; END\$\$;"
    fi
    if [ -z "$(PGPASSWORD="$DB_PASSWORD" psql -qtA -h 127.0.0.1 -U "$DB_USER" -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        log "creating database $DB_NAME"
        PGPASSWORD="$DB_PASSWORD" psql -qtA -h 127.0.0.1 -U "$DB_USER" -d postgres \
            -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
    fi
}

setup_all() {
    ensure_debian_packages
    ensure_python
    ensure_postgres
}
