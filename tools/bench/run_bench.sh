#!/usr/bin/env bash
# The benchmarks of docs/performance.md in one command, from the repository root after a build:
#
#   tools/bench/run_bench.sh [--store URL] [BUILD_DIR]      (default: build)
#
# --store URL: engined (and the key) on that store, e.g. postgresql://USER@HOST/DB (an empty
# database, or one engined migrated); default: a SQLite file in a fresh data directory.
#
# 1. GET /health throughput: wrk against bench_bare_server (the baseline) and against engined,
#    both with 2 HTTP threads, alternating for a few rounds so that a burst of outside load hits
#    both alike; prints the median requests/s of each, the ratio engined/bare, and each server's
#    CPU per request (/proc/PID/stat user+system time over the requests wrk completed).
# 2. Runs: bench_open_loop against the same engined (fresh data dir) with the placement fixture:
#    submit→202 and submit→completed at light load (one run in flight, the completion read by a
#    long poll), then as many runs each pushing its completion by its own webhook to a receiver
#    in the client (submit→webhook received), then fire-and-forget submits at each target
#    rate with completions counted by engined's metrics and engined's CPU per run, set beside
#    the bare server's CPU per /health request; then, with one webhook endpoint delivering every
#    run's event to the client's receiver, again at each of BENCH_ENDPOINT_RATES.
#    The writer transactions (commits) a run costs and, on a PostgreSQL store, its statements and
#    round trips (from engined's metrics): for 50 runs submitted one after another, and over the
#    open-loop benchmark.
# Everything listens on 127.0.0.1 only and is stopped on exit. Takes about 100 s.
#    The window at "max" is run BENCH_ROUNDS times and the median window is reported beside
#    each one: on a shared host one window's figure moves by 10-20 % from minute to minute.
# BENCH_ROUNDS, BENCH_RUNS, BENCH_RATES (comma-separated runs/s, "max" = every connection busy),
# BENCH_ENDPOINT_RATES (empty: no endpoint windows), BENCH_CONNECTIONS and BENCH_SECONDS
# override the defaults below. BENCH_POLLING=1 also runs
# bench_submit_latency, the polling client of the earlier measurements, for comparison.
set -euo pipefail

store_args=()
if [[ "${1:-}" == "--store" ]]; then
  store_args=(--store "$2")
  shift 2
fi
build_dir=${1:-build}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_root"

body_file=tests/golden/placement/pure_bundle_ca.input.json
wrk_args=(-t1 -c32 -d10s --latency)
http_threads=2
rounds=${BENCH_ROUNDS:-3}
runs=${BENCH_RUNS:-200}
rates=${BENCH_RATES:-500,1000,2000,max}
endpoint_rates=${BENCH_ENDPOINT_RATES-200}
connections=${BENCH_CONNECTIONS:-64}
seconds=${BENCH_SECONDS:-5}

for binary in bench_bare_server bench_open_loop bench_submit_latency engined enginectl; do
  [[ -x "$build_dir/$binary" ]] || { echo "missing $build_dir/$binary: build first" >&2; exit 2; }
done
[[ -f "$build_dir/plugins/placement.so" ]] || { echo "missing $build_dir/plugins/placement.so" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 2; }
[[ -f "$body_file" ]] || { echo "missing $body_file" >&2; exit 2; }

work=$(mktemp -d)
# The servers' logs live apart from the database, in memory where there is a tmpfs: the /health
# rounds leave about 360 MiB of access-log lines, and on ext4 (ordered mode) a journal commit —
# every fdatasync of the growing database file, at each WAL checkpoint — waited for their
# writeback once it began 30 s later, stalling the writer about 300 ms in the first open-loop
# window. A deployment's high-volume logs belong off the data directory's file system too.
logs=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d -p "$work")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work" "$logs"
}
trap cleanup EXIT

# Ask the kernel for a free loopback port (racy in theory; the servers fail loudly if it is taken).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Up to 10 s for a server to answer /health; a dead process fails at once.
wait_ready() {
  local port=$1 pid=$2 log=$3
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "server exited; its log:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  echo "server on port $port did not become ready" >&2
  exit 1
}

# User + system CPU time of a process so far, in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the command name).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# Prints "REQS_PER_S P50 P99 CPU_US_PER_REQUEST" for one wrk run against the server PID listening
# on PORT; fails if any response was not 2xx.
run_wrk() {
  local port=$1 pid=$2 out before after
  before=$(cpu_ticks "$pid")
  out=$(wrk "${wrk_args[@]}" "http://127.0.0.1:$port/health")
  after=$(cpu_ticks "$pid")
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "non-2xx answers from port $port" >&2; exit 1; fi
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    '/Requests\/sec:/ { rps = $2 } / requests in / { n = $1 } $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
     END { printf "%s %s %s %.1f\n", rps, p50, p99, ticks / hz * 1e6 / n }' <<<"$out"
}

bare_port=$(free_port)
"$build_dir/bench_bare_server" --listen "127.0.0.1:$bare_port" --threads "$http_threads" \
  >"$logs/bare.log" 2>&1 &
pids+=($!)
bare_pid=$!
wait_ready "$bare_port" "$bare_pid" "$logs/bare.log"

# The key is issued before engined opens the store, as an operator would. Its own rate limit is
# far above what the driver sends: the limiter still runs on every request, but never refuses.
key=$("$build_dir/enginectl" keys create --data-dir "$work/data" --create-store "${store_args[@]}" --org bench --env test \
  --rate 1000000 --burst 1000000 \
  2>"$work/enginectl.log" | tail -n 1) || { cat "$work/enginectl.log" >&2; exit 1; }

# Metrics on their own listener (the open loop counts completions there); 127.0.0.1 exempt from
# the webhook address guard so that runs' webhooks reach the client's receiver.
engined_port=$(free_port)
metrics_port=$(free_port)
"$build_dir/engined" --listen "127.0.0.1:$engined_port" --data-dir "$work/data" "${store_args[@]}" \
  --http-threads "$http_threads" --metrics-listen "127.0.0.1:$metrics_port" \
  --webhook-allowed-hosts 127.0.0.1 >"$logs/engined.log" 2>&1 &
pids+=($!)
engined_pid=$!
wait_ready "$engined_port" "$engined_pid" "$logs/engined.log"

echo "wrk ${wrk_args[*]} GET /health, $http_threads server threads each, $rounds rounds ..." >&2
: >"$work/bare.wrk"
: >"$work/engined.wrk"
for _ in $(seq "$rounds"); do
  run_wrk "$bare_port" "$bare_pid" >>"$work/bare.wrk"
  run_wrk "$engined_port" "$engined_pid" >>"$work/engined.wrk"
done
# The round with the median requests/s, as "REQS_PER_S P50 P99 CPU_US".
median_round() { sort -n -k1,1 "$1" | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'; }
# The median of column 4, CPU µs per request, over the rounds.
median_cpu() { sort -n -k4,4 "$1" | awk '{ cpu[NR] = $4 } END { print cpu[int((NR + 1) / 2)] }'; }
read -r bare_rps bare_p50 bare_p99 _ < <(median_round "$work/bare.wrk")
read -r engined_rps engined_p50 engined_p99 _ < <(median_round "$work/engined.wrk")
bare_cpu_us=$(median_cpu "$work/bare.wrk")
engined_cpu_us=$(median_cpu "$work/engined.wrk")
ratio=$(awk -v a="$engined_rps" -v b="$bare_rps" 'BEGIN { printf "%.3f", a / b }')
every_round=$(paste "$work/bare.wrk" "$work/engined.wrk" |
  awk '{ printf "%s%.0f/%.0f", (NR > 1 ? ", " : ""), $5, $1 }')

# The sum of every series of counter $1 on engined's metrics listener.
metric_sum() {
  curl -sf "http://127.0.0.1:$metrics_port/metrics" |
    awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%.0f", sum }'
}
store_traffic() {
  echo "$(metric_sum engined_store_statements_total) $(metric_sum engined_store_round_trips_total)" \
    "$(metric_sum engined_store_commit_batch_size_count) $(metric_sum engined_runs_finished_total)"
}
# "T writer transactions, S statements in R round trips per finished run" between two
# store_traffic readings (SQLite counts no statements: its transactions alone).
traffic_per_run() {
  local s0 r0 t0 f0 s1 r1 t1 f1
  read -r s0 r0 t0 f0 <<<"$1"
  read -r s1 r1 t1 f1 <<<"$2"
  awk -v s=$((s1 - s0)) -v r=$((r1 - r0)) -v t=$((t1 - t0)) -v f=$((f1 - f0)) \
    'BEGIN { if (f > 0) printf "%.2f writer transactions", t / f
             if (f > 0 && s > 0) printf ", %.1f statements in %.1f round trips", s / f, r / f
             if (f > 0) printf " per finished run (%d runs)", f }'
}
# What a run costs the store without the benchmark's polls (statements: PostgreSQL only): 50
# runs submitted one after another, their ends watched on the metrics listener.
traffic_runs=50
before_runs=$(store_traffic)
for _ in $(seq "$traffic_runs"); do
  curl -sf -o /dev/null -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
    --data-binary @"$body_file" "http://127.0.0.1:$engined_port/api/v1/engines/default/runs"
done
for _ in $(seq 300); do
  after_runs=$(store_traffic)
  (( ${after_runs##* } - ${before_runs##* } >= traffic_runs )) && break
  sleep 0.1
done
unpolled_traffic=$(traffic_per_run "$before_runs" "$after_runs")
before_bench=$(store_traffic)

# Each "max" of the rates is run once per round.
rates_with_rounds=$(tr ',' '\n' <<<"$rates" |
  awk -v rounds="$rounds" '{ n = ($0 == "max") ? rounds : 1; for (i = 0; i < n; ++i) out = out (out ? "," : "") $0 }
    END { print out }')
load_args=(--runs "$runs" --rates "$rates_with_rounds" --connections "$connections" --seconds "$seconds")
[[ -n "$endpoint_rates" ]] && load_args+=(--endpoint-rates "$endpoint_rates")
echo "bench_open_loop ${load_args[*]} ..." >&2
runs_report=$(timeout 300 "$build_dir/bench_open_loop" --url "http://127.0.0.1:$engined_port" \
  --metrics-url "http://127.0.0.1:$metrics_port" --pid "$engined_pid" --key "$key" \
  --body "$body_file" "${load_args[@]}")
# Each window's engined CPU per run beside the bare server's CPU per GET /health.
per_run=$(awk -v bare="$bare_cpu_us" '/^open loop:/ { target = $4 (/endpoint/ ? " + endpoint" : "") }
  /^engined CPU/ { printf "  %-16s %s ms per run = %.0f x a bare GET /health\n", target, $3, $3 * 1000 / bare }' \
  <<<"$runs_report")

# The windows at "max" without an endpoint: each one's runs/s and CPU per run, and the median
# window (by runs/s).
max_windows=$(awk '/^open loop:/ { at_max = ($4 == "max") && !/endpoint/ }
  at_max && /^sustained completed/ { runs = $3 }
  at_max && /^engined CPU/ { print runs, $3 }' <<<"$runs_report" | sort -n)
max_summary=$(awk '{ rate[NR] = $1; cpu[NR] = $2; each = each (each ? ", " : "") $1 " at " $2 " ms" }
  END { if (NR == 0) exit
        m = int((NR + 1) / 2)
        printf "  median of %d windows   %s runs/s at %s ms of engined CPU per run\n", NR, rate[m], cpu[m]
        printf "  each window (sorted)  %s", each }' <<<"$max_windows")

polling_report=""
if [[ "${BENCH_POLLING:-0}" == 1 ]]; then
  echo "bench_submit_latency (polling client) ..." >&2
  polling_report=$(timeout 60 "$build_dir/bench_submit_latency" --url "http://127.0.0.1:$engined_port" \
    --key "$key" --body "$body_file" --runs "$runs" --seconds "$seconds")
fi
store_name=${store_args[1]:-sqlite}
polled_traffic=$(traffic_per_run "$before_bench" "$(store_traffic)")

cat <<SUMMARY

----- summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)) -----
GET /health, wrk ${wrk_args[*]}, $http_threads server threads, median of $rounds alternating rounds
  bench_bare_server (baseline)  $bare_rps req/s   p50 $bare_p50   p99 $bare_p99
  engined                       $engined_rps req/s   p50 $engined_p50   p99 $engined_p99
  ratio engined / bare          $ratio   (target >= 0.9)
  each round, engined/bare      $every_round
  CPU per request, median       bare $bare_cpu_us us, engined $engined_cpu_us us

Runs: bench_open_loop ${load_args[*]}, POST /api/v1/engines/default/runs with $body_file
$runs_report

${max_summary:+Open loop at max, without an endpoint (targets: 10,000 runs/s, 0.15 ms per run)
$max_summary
}
engined CPU per run against the bare server's CPU per GET /health ($bare_cpu_us us)
$per_run
${polling_report:+
Polling client: bench_submit_latency
$polling_report}

Store traffic (${store_name%%://*}): submit and execution alone: ${unpolled_traffic:-none counted}
  over the open-loop benchmark: ${polled_traffic:-none counted}
-----
SUMMARY
