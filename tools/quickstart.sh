#!/usr/bin/env bash
# From nothing to a ranked placement: installs dependencies, builds, starts engined on its
# embedded SQLite default (./data), creates a test key, loads the synthetic demo carrier pool,
# submits a real run and prints the ranked packages. engined keeps running afterwards; stop it with `kill $(cat data/engined.pid)`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Only what the quickstart runs; the test suite is built by tools/test.sh.
./tools/build.sh --runtime engined_runtime

listen="${ENGINED_LISTEN:-127.0.0.1:8080}"
mkdir -p data
if [ -f data/engined.pid ] && kill -0 "$(cat data/engined.pid)" 2>/dev/null; then
  echo "quickstart: stopping the engined started earlier (pid $(cat data/engined.pid))"
  kill "$(cat data/engined.pid)"
  while kill -0 "$(cat data/engined.pid)" 2>/dev/null; do sleep 0.1; done
fi
./build/engined --listen "$listen" --data-dir ./data 2>>data/engined.log &
echo $! > data/engined.pid
for _ in $(seq 1 100); do
  curl -fsS "http://$listen/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$listen/health" >/dev/null || { echo "engined did not start; see data/engined.log" >&2; exit 1; }
echo "quickstart: engined is serving on http://$listen (pid $(cat data/engined.pid), log data/engined.log; enginectl's log data/enginectl.log)"

# enginectl writes its structured log lines (JSON objects, such as the audit log's "audit record
# appended" line with the chain's head MAC, which operators keep) to stderr next to its messages:
# keep those lines in data/enginectl.log and show only the messages.
store_command() {
  local status=0
  ./build/enginectl "$@" --data-dir ./data 2>data/enginectl.stderr || status=$?
  grep '^{' data/enginectl.stderr >>data/enginectl.log || true
  grep -v '^{' data/enginectl.stderr >&2 || true
  rm -f data/enginectl.stderr
  return "$status"
}

key="$(store_command keys create --org quickstart --env test | tail -n 1)"
echo "quickstart: created test key ${key:0:12}… (kept in data/quickstart.key)"
echo "$key" > data/quickstart.key

# The entity-analysis engine ranks carrier pools; load the synthetic demo pool as carriers:all.
./build/engined-demo-pool --out data/demo-pool.json
store_command pools import --org quickstart --pool carriers:all data/demo-pool.json

echo "quickstart: submitting tests/golden/placement/brokerage_tx_multicarrier.input.json"
./build/enginectl runs submit --url "http://$listen" --key "$key" --wait \
  tests/golden/placement/brokerage_tx_multicarrier.input.json
