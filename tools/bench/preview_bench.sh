#!/usr/bin/env bash
# The configuration preview figure of docs/performance.md, from the repository root after a
# build:
#
#   tools/bench/preview_bench.sh [BUILD_DIR]      (default: build)
#
# Starts engined on a fresh data dir (127.0.0.1 only), records PREVIEW_RECORDED runs (default 500)
# of a copy of the placement engine with a live key, cycling through the placement golden inputs
# (those the contract refuses are skipped), then previews on the newest PREVIEW_RUNS (default
# 200) the current configuration (a no-op: zero differences expected) and a candidate whose
# scorecard weighs only price (a non-zero top-1 change share expected). Prints each
# preview's wall time and summary. Stops engined on exit.
set -euo pipefail

build_dir=${1:-build}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_root"
recorded=${PREVIEW_RECORDED:-500}
sampled=${PREVIEW_RUNS:-200}
inputs=(tests/golden/placement/*.input.json)

for binary in engined enginectl; do
  [[ -x "$build_dir/$binary" ]] || { echo "missing $build_dir/$binary: build first" >&2; exit 2; }
done

work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$("$build_dir/enginectl" keys create --data-dir "$work/data" --org bench --env live \
  --scopes runs:write,runs:read,engines:admin --rate 1000000 --burst 1000000 | tail -n 1)
"$build_dir/engined" --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/engined.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done

url="http://127.0.0.1:$port/api/v1"
api() { curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
api -X POST "$url/engines" -d '{"slug":"bench","label":"Bench","copy_from":"default"}' >/dev/null

echo "recording $recorded runs ..." >&2
last=""
recorded_now=0
for i in $(seq 100000); do
  ((recorded_now < recorded)) || break
  answer=$(api -X POST "$url/engines/bench/runs" --data-binary "@${inputs[i % ${#inputs[@]}]}") || continue
  last=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["run_id"])' "$answer")
  recorded_now=$((recorded_now + 1))
done
until api "$url/runs/$last" | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["status"] in ("queued", "processing"))'; do
  sleep 0.2
done

# The candidate: the current configuration whose weights() weighs only price.
api "$url/engines/bench/config" | python3 -c '
import json, sys
config = json.load(sys.stdin)["config"]
config["lua_source"] += """
function weights(bucket, input)
  return {pricing_competitiveness = 1, coverage_completeness = 0, carrier_quality = 0, simplicity = 0}
end
"""
print(json.dumps({"config": config, "runs": int(sys.argv[1])}))' "$sampled" >"$work/candidate.json"

preview() {
  local label=$1 body=$2 started ended
  started=$(date +%s.%N)
  api -X POST "$url/engines/bench/config/preview" --data-binary "$body" >"$work/answer.json"
  ended=$(date +%s.%N)
  python3 - "$label" "$started" "$ended" "$work/answer.json" <<'SUMMARY'
import json, sys
label, started, ended, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
summary = json.load(open(path))["summary"]
print(f"{label}: {summary['runs']} runs previewed in {ended - started:.2f} s; "
      f"top-1 change share {summary['top1_change_share']:.3f}, runs changed {summary['runs_changed']}, "
      f"newly failing {summary['newly_failing']}, mean Kendall tau {summary['mean_kendall_tau']:.3f}")
SUMMARY
}
preview "no-op (current configuration)" "{\"runs\": $sampled}"
preview "price-only weights" "@$work/candidate.json"
