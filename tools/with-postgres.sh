#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL (tools/pg-cluster.sh): a cluster in a temporary
# directory, listening only on a Unix socket there, with a database `engined`; then the command
# with ENGINED_TEST_POSTGRES_URL naming it. The server is stopped and the directory removed when
# the command ends, failed or not.
# Usage: tools/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

cluster="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pg-cluster.sh"
bin="$("$cluster" bindir)"
dir="$(mktemp -d /tmp/engined-pg.XXXXXX)"
trap '"$cluster" destroy "$dir"' EXIT
url="$("$cluster" create "$dir")"

export ENGINED_TEST_POSTGRES_URL="$url"
# The data directory and server binaries, for the tests that restart the server under load.
export ENGINED_TEST_POSTGRES_DATA="$dir/data"
export ENGINED_TEST_POSTGRES_BIN="$bin"
"$@"
