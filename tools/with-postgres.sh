#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL: initdb into a temporary directory (as the
# `postgres` user when run as root, which initdb refuses to be), a server listening only on a Unix
# socket in that directory, a database `engined`; then the command with ENGINED_TEST_POSTGRES_URL
# naming it. The server is stopped and the directory removed when the command ends, failed or not.
# Usage: tools/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

bin="${ENGINED_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: no PostgreSQL server found (install Debian's postgresql: tools/install-deps.sh)" >&2
  exit 1
fi

dir="$(mktemp -d /tmp/engined-pg.XXXXXX)"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  run_as=(runuser -u postgres --)
fi
chmod 700 "$dir"

stop() {
  "${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${run_as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# No TCP listener: the socket in the private directory is the only way in. fsync stays on, as in
# production; the tests' durability claims hold only with it.
"${run_as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=200" start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }
"${run_as[@]}" "$bin/createdb" -h "$dir" -U postgres engined

export ENGINED_TEST_POSTGRES_URL="postgresql://postgres@/engined?host=$dir"
# The data directory and server binaries, for the tests that restart the server under load.
export ENGINED_TEST_POSTGRES_DATA="$dir/data"
export ENGINED_TEST_POSTGRES_BIN="$bin"
"$@"
