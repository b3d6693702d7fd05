#!/usr/bin/env bash
# A private PostgreSQL 15 server for the tests.
#
#   pg_fixture.sh start <dir> <port>   initdb a fresh cluster and start it on 127.0.0.1:<port>
#   pg_fixture.sh stop  <dir> <port>   stop it (succeeds when nothing runs)
#
# The server accepts user "postgres" without a password (trust) on 127.0.0.1 only, and listens on a
# Unix socket in the cluster directory. initdb refuses to run as root, so as root every server
# command runs as the "postgres" user (runuser) on a directory it owns; when <dir> cannot be reached
# by that user, the cluster lives under /tmp instead and <dir>/cluster_path records where.
set -euo pipefail

usage() { echo "usage: $0 start|stop <dir> <port>" >&2; exit 2; }
[[ $# -eq 3 ]] || usage
action=$1
dir=$2
port=$3
[[ $port =~ ^[0-9]+$ ]] || usage

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_pg() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Where the cluster lives: <dir>/cluster, or the /tmp fallback recorded by an earlier start.
cluster_root() {
    if [[ -f $dir/cluster_path ]]; then
        cat "$dir/cluster_path"
    else
        echo "$dir/cluster"
    fi
}

stop_cluster() {
    local root data
    root=$(cluster_root)
    data=$root/data
    if [[ -f $data/postmaster.pid ]]; then
        as_pg "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_pg "$pg_bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    # Keep the server log of the last run for post-mortems; drop the cluster.
    [[ -f $root/server.log ]] && cp "$root/server.log" "$dir/server-last.log"
    rm -rf "$root"
    rm -f "$dir/cluster_path"
}

start_cluster() {
    stop_cluster  # a stale server from an earlier run on this directory
    local root=$dir/cluster
    if [[ $(id -u) -eq 0 ]]; then
        mkdir -p "$root"
        chown postgres: "$root"
        # The socket path must stay below 108 bytes, and postgres must be able to reach <dir>.
        if ! runuser -u postgres -- test -w "$root" || ((${#root} > 90)); then
            rm -rf "$root"
            root=$(mktemp -d /tmp/joopang-pg-XXXXXX)
            chown postgres: "$root"
            echo "$root" >"$dir/cluster_path"
        fi
    else
        mkdir -p "$root"
        if ((${#root} > 90)); then
            rm -rf "$root"
            root=$(mktemp -d /tmp/joopang-pg-XXXXXX)
            echo "$root" >"$dir/cluster_path"
        fi
    fi
    local data=$root/data
    local log=$root/server.log
    as_pg touch "$log"
    # --no-sync only skips initdb's final flush; the server itself runs with fsync on.
    if ! as_pg "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >>"$log" 2>&1; then
        echo "initdb failed; log: $log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    cat >>"$data/postgresql.conf" <<EOF

# pg_fixture.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$root'
max_connections = 200
shared_buffers = 256MB
EOF
    if ! as_pg "$pg_bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null; then
        echo "postgres did not start on port $port; log: $log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    echo "postgres running: 127.0.0.1:$port, data $data"
}

case $action in
    start) start_cluster ;;
    stop)
        stop_cluster
        echo "postgres stopped ($dir)"
        ;;
    *) usage ;;
esac
