#!/usr/bin/env bash
# A project-local PostgreSQL + PostGIS cluster under var/, reached only through
# its own Unix socket, so it collides with no other server on the machine.
#
#   scripts/localpg.sh start        init (first time) and start the cluster
#   scripts/localpg.sh url DBNAME   print a libpq URL for DBNAME, creating it
#   scripts/localpg.sh stop         stop the cluster
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=/usr/lib/postgresql/15/bin
base=$top/var/pg
# A Unix socket path is limited to about 100 bytes; deep checkouts use /tmp.
if (( ${#base} > 70 )); then
    base=/tmp/wardwatch-pg-$(printf '%s' "$top" | md5sum | cut -c1-12)
fi
data=$base/data
sock=$base/run
log=$base/server.log

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

superuser() {
    if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi
}

ensure_dirs() {
    mkdir -p "$base" "$sock"
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres:postgres "$base" "$sock"
        if [[ -d $data && $(stat -c %U "$data") != postgres ]]; then
            chown -R postgres:postgres "$data"
        fi
        if ! runuser -u postgres -- test -w "$base"; then
            echo "localpg: user postgres cannot reach $base;" \
                 "move the checkout to a world-readable path" >&2
            exit 1
        fi
    fi
}

start() {
    [[ -x $bin/pg_ctl ]] || { echo "localpg: $bin/pg_ctl missing;" \
        "run scripts/system-deps.sh" >&2; exit 1; }
    ensure_dirs
    if [[ ! -f $data/PG_VERSION ]]; then
        echo "localpg: creating cluster in $data" >&2
        as_owner "$bin/initdb" -D "$data" -A trust -E UTF8 --locale=C.UTF-8 \
            -U "$(superuser)" >/dev/null
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
# A throwaway development cluster: trade durability for speed.
synchronous_commit = off
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
CONF
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null \
            || { echo "localpg: server failed to start; see $log" >&2;
                 tail -n 20 "$log" >&2; exit 1; }
    fi
}

url() {
    local db=${1:?database name}
    start
    local exists
    exists=$(psql -h "$sock" -U "$(superuser)" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'")
    if [[ $exists != 1 ]]; then
        createdb -h "$sock" -U "$(superuser)" "$db"
    fi
    echo "postgresql:///$db?host=$sock&user=$(superuser)"
}

stop() {
    [[ -f $data/PG_VERSION ]] || return 0
    as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
}

case ${1:-} in
    start) start ;;
    url) url "${2:-wardwatch}" ;;
    stop) stop ;;
    *) echo "usage: $0 start|url DBNAME|stop" >&2; exit 2 ;;
esac
