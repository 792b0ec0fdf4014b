#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests. Never touches a system cluster or
# service: everything (data, unix socket, log) lives in DIR, the server listens
# on 127.0.0.1 only, on a free port chosen at creation.
#
#   pg-cluster.sh start DIR                 create a cluster in DIR (empty or
#                                           missing) and start it; prints
#                                           conninfo=postgresql://aitrader@127.0.0.1:PORT/aitrader_test
#                                           port=PORT
#   pg-cluster.sh stop DIR [fast|immediate] stop the server (default fast)
#   pg-cluster.sh restart-server DIR        start the same cluster again, same port
#   pg-cluster.sh destroy DIR               stop (immediate) and delete DIR
#
# Database superuser `aitrader`, database `aitrader_test`, trust auth.
# As root, DIR is chowned to `postgres` and initdb/pg_ctl run as that user
# (PostgreSQL refuses to run as root). Env PG_CLUSTER_TIMEOUT (s, default 60)
# bounds every wait; on a timeout the server log tail is printed.
set -euo pipefail

TIMEOUT=${PG_CLUSTER_TIMEOUT:-60}
MARK=.aitrader-pg-cluster

die() {
    echo "pg-cluster: $*" >&2
    exit 1
}

find_bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return
        fi
    fi
    # Debian keeps the server binaries out of PATH; take the newest version.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
            echo "$d"
            return
        fi
    done
    die "PostgreSQL server binaries (initdb, pg_ctl) not found; install the postgresql package"
}

BIN=$(find_bindir)

# Run a server-side command as the cluster owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

log_tail() {
    local dir=$1
    if [ -f "$dir/server.log" ]; then
        echo "pg-cluster: last lines of $dir/server.log:" >&2
        tail -n 30 "$dir/server.log" >&2 || true
    fi
}

is_running() {
    as_owner "$BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

# Start the server of an initialised cluster and wait until it accepts
# connections on its TCP port.
server_up() {
    local dir=$1 port
    port=$(cat "$dir/port")
    if ! as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$TIMEOUT" start \
        >/dev/null; then
        echo "pg-cluster: server in $dir did not start within ${TIMEOUT}s (port $port)" >&2
        log_tail "$dir"
        return 1
    fi
    local i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "pg-cluster: server in $dir not accepting connections on 127.0.0.1:$port" >&2
    log_tail "$dir"
    return 1
}

cmd_start() {
    local dir=$1
    [ -n "$dir" ] || die "usage: pg-cluster.sh start DIR"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        die "$dir is not empty: start wants a fresh directory (use restart-server for an existing cluster)"
    fi
    # The unix socket path must fit in sun_path (107 bytes).
    if [ ${#dir} -gt 80 ]; then
        die "$dir: path too long for the unix socket directory (max 80 characters)"
    fi
    touch "$dir/$MARK"
    mkdir -p "$dir/sock"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres: "$dir"
        runuser -u postgres -- test -x "$dir" ||
            die "$dir is not reachable by user postgres (a parent directory is private?)"
    fi
    if ! as_owner "$BIN/initdb" -D "$dir/data" -U aitrader --auth=trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed in $dir"
    fi
    local attempt port
    for attempt in 1 2 3; do
        port=$(free_port)
        echo "$port" >"$dir/port"
        as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
# aitrader test cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
# a process crash (stop immediate) keeps committed data; an OS crash need not
fsync = off
full_page_writes = off
max_connections = 30
shared_buffers = 32MB
logging_collector = off
EOF
        if server_up "$dir"; then
            break
        fi
        # Someone may have taken the port between the probe and the bind.
        if [ "$attempt" -lt 3 ] && grep -q 'could not bind\|Address already in use' \
            "$dir/server.log" 2>/dev/null; then
            echo "pg-cluster: port $port taken, retrying" >&2
            continue
        fi
        die "could not start the cluster in $dir"
    done
    if ! "$BIN/createdb" -h 127.0.0.1 -p "$port" -U aitrader aitrader_test 2>"$dir/createdb.log"; then
        cat "$dir/createdb.log" >&2
        die "createdb aitrader_test failed"
    fi
    echo "conninfo=postgresql://aitrader@127.0.0.1:$port/aitrader_test"
    echo "port=$port"
}

check_cluster() {
    local dir=$1
    [ -n "$dir" ] || die "missing DIR"
    [ -f "$dir/$MARK" ] && [ -d "$dir/data" ] || die "$dir is not a cluster made by pg-cluster.sh"
}

cmd_stop() {
    local dir=$1 mode=${2:-fast}
    check_cluster "$dir"
    case "$mode" in
    fast | immediate | smart) ;;
    *) die "stop mode must be fast or immediate, not '$mode'" ;;
    esac
    if ! is_running "$dir"; then
        echo "pg-cluster: server in $dir is not running" >&2
        return 0
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t "$TIMEOUT" stop >/dev/null; then
        log_tail "$dir"
        die "server in $dir did not stop within ${TIMEOUT}s"
    fi
}

cmd_restart_server() {
    local dir=$1
    check_cluster "$dir"
    if is_running "$dir"; then
        echo "pg-cluster: server in $dir is already running" >&2
        return 0
    fi
    server_up "$dir" || die "could not restart the cluster in $dir"
    echo "port=$(cat "$dir/port")"
}

cmd_destroy() {
    local dir=$1
    [ -n "$dir" ] || die "usage: pg-cluster.sh destroy DIR"
    [ -e "$dir" ] || return 0
    [ -f "$dir/$MARK" ] || die "$dir was not made by pg-cluster.sh: not deleting it"
    if [ -d "$dir/data" ] && is_running "$dir"; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$TIMEOUT" stop >/dev/null ||
            log_tail "$dir"
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" "${3:-fast}" ;;
restart-server) cmd_restart_server "${2:-}" ;;
destroy) cmd_destroy "${2:-}" ;;
*)
    echo "usage: pg-cluster.sh start DIR | stop DIR [fast|immediate] | restart-server DIR | destroy DIR" >&2
    exit 2
    ;;
esac
