#!/usr/bin/env bash
# Background services of the platform: one pid file and one log per service under .run/.
# Sourced by scripts/up.sh and scripts/down.sh.

RUN_DIR="${WANGGE_RUN_DIR:-$ROOT/.run}"
PID_DIR="$RUN_DIR/pids"
LOG_DIR="$RUN_DIR/logs"

service_pid() {
    local pid_file="$PID_DIR/$1.pid" pid
    [ -f "$pid_file" ] || return 1
    pid="$(cat "$pid_file")"
    kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_service() {
    local name="$1"; shift
    mkdir -p "$PID_DIR" "$LOG_DIR"
    if pid="$(service_pid "$name")"; then
        log "$name is already running (pid $pid)"
        return 0
    fi
    log "starting $name (log: ${LOG_DIR#"$ROOT"/}/$name.log)"
    # setsid: its own process group, so stopping it stops its children (worker processes).
    setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$PID_DIR/$name.pid"
}

stop_service() {
    local name="$1" pid
    if pid="$(service_pid "$name")"; then
        log "stopping $name (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PID_DIR/$name.pid"
}
