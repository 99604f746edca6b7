#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a directory of its own: the one way the tests and the tools
# start, stop and remove one (tools/with-postgres.sh, tools/multinode/).
#
#   tools/pg-cluster.sh create DIR          initdb into DIR/data, start it, create database
#                                           `engined`; prints its URL
#   tools/pg-cluster.sh start DIR           start it again after a stop
#   tools/pg-cluster.sh stop DIR [MODE]     stop it (pg_ctl's MODE: smart, fast, immediate;
#                                           default fast)
#   tools/pg-cluster.sh destroy DIR         stop it at once and remove DIR
#   tools/pg-cluster.sh bindir              print the folder of the server binaries
#
# DIR must exist and be empty for `create`. The server listens only on a Unix socket in DIR (no
# TCP), runs as the `postgres` user when called as root (initdb refuses root), trusts local
# connections and keeps fsync on, as in production. ENGINED_POSTGRES_BIN names the binaries'
# folder; default: the newest /usr/lib/postgresql/*/bin.
set -euo pipefail

bin="${ENGINED_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg-cluster: no PostgreSQL server found (install Debian's postgresql: tools/install-deps.sh)" >&2
  exit 1
fi

run_as=()
if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi

usage() {
  echo "usage: pg-cluster.sh create|start|stop|destroy DIR, or pg-cluster.sh bindir" >&2
  exit 2
}

start() {
  local dir=$1
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200" start \
    >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

command=${1:-}
[ "$command" = bindir ] && { echo "$bin"; exit 0; }
[ $# -ge 2 ] || usage
dir=$2
case "$command" in
  create)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    "${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    start "$dir"
    "${run_as[@]}" "$bin/createdb" -h "$dir" -U postgres engined
    echo "postgresql://postgres@/engined?host=$dir"
    ;;
  start) start "$dir" ;;
  stop) "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null ;;
  destroy)
    "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
