#!/usr/bin/env bash
# One engined node on SQLite beside one on PostgreSQL, in one run, from the repository root after
# a build:
#
#   tools/bench/compare_stores.sh [BUILD_DIR]      (default: build)
#
# Starts a throwaway PostgreSQL (tools/pg-cluster.sh: a cluster in a temporary directory on a Unix
# socket, fsync and synchronous_commit on), then runs tools/bench/run_bench.sh against a SQLite
# store and against a fresh database of that server back to back, COMPARE_ROUNDS times (default
# 2), so that outside load hits both alike. Prints each run's summary, then one line per round
# and store — submit→completed p50/p99 at light load, sustained runs/s at the `max` window,
# engined's CPU per run there, the database server's CPU per run over the whole benchmark (its
# processes' /proc/PID/stat, over the runs the database holds at the end), statements and round
# trips per run — the PostgreSQL/SQLite ratio
# of each round, and the median ratio. The PostgreSQL server is stopped and removed on exit.
# run_bench.sh's BENCH_* variables apply to every run; defaults here: BENCH_ROUNDS=1,
# BENCH_RATES=max, no endpoint window.
set -euo pipefail

build_dir=${1:-build}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_root"
rounds=${COMPARE_ROUNDS:-2}
export BENCH_ROUNDS=${BENCH_ROUNDS:-1}
export BENCH_RATES=${BENCH_RATES:-max}
export BENCH_ENDPOINT_RATES=${BENCH_ENDPOINT_RATES-}
[[ "$BENCH_RATES" == *max* ]] || { echo "BENCH_RATES must include max" >&2; exit 2; }

cluster=tools/pg-cluster.sh
bin=$("$cluster" bindir)
pg_dir=$(mktemp -d)
results=$(mktemp -d)
trap '"$cluster" destroy "$pg_dir"; rm -rf "$results"' EXIT
url=$("$cluster" create "$pg_dir")
run_as=()
if [[ "$(id -u)" -eq 0 ]]; then run_as=(runuser -u postgres --); fi

# CPU ticks the PostgreSQL server has used so far: the postmaster, the children it reaped (a
# benchmark's sessions end with its engined) and the children alive now.
database_ticks() {
  local postmaster total ticks
  postmaster=$(head -n 1 "$pg_dir/data/postmaster.pid")
  total=$(sed 's/^.*) //' "/proc/$postmaster/stat" | awk '{ print $12 + $13 + $14 + $15 }')
  for child in $(pgrep -P "$postmaster"); do
    ticks=$(sed 's/^.*) //' "/proc/$child/stat" 2>/dev/null | awk '{ print $12 + $13 }')
    total=$((total + ${ticks:-0}))
  done
  echo "$total"
}

# "P50_MS P99_MS RUNS_PER_S CPU_MS STATEMENTS ROUND_TRIPS" from one run_bench.sh summary: the
# light-load long poll, the `max` window, and the store traffic of a run alone (- on SQLite).
figures() {
  awk '
    /^submit -> completed, long poll/ && !light { p50 = $7 / 1000; p99 = $11 / 1000; light = 1 }
    /^open loop: target max/ { in_max = 1 }
    /^open loop: target [0-9]/ { in_max = 0 }
    in_max && /^sustained completed/ { rate = $3 }
    in_max && /^engined CPU +[0-9]/ { cpu = $3 }
    /submit and execution alone:/ {
      statements = "-"; trips = "-"
      if (match($0, /[0-9.]+ statements in [0-9.]+ round trips/)) {
        split(substr($0, RSTART, RLENGTH), part, " "); statements = part[1]; trips = part[4]
      }
    }
    END { printf "%.1f %.1f %s %s %s %s\n", p50, p99, rate, cpu, statements, trips }' "$1"
}

for round in $(seq "$rounds"); do
  echo "round $round: SQLite" >&2
  tools/bench/run_bench.sh "$build_dir" >"$results/sqlite.$round"
  echo "round $round: PostgreSQL" >&2
  database=bench_$round
  "${run_as[@]}" "$bin/createdb" -h "$pg_dir" -U postgres "$database"
  before=$(database_ticks)
  tools/bench/run_bench.sh --store "${url/\/engined\?//$database?}" "$build_dir" \
    >"$results/postgresql.$round"
  runs=$("${run_as[@]}" "$bin/psql" -h "$pg_dir" -U postgres -d "$database" -Atc 'SELECT count(*) FROM runs')
  awk -v ticks=$(($(database_ticks) - before)) -v hz="$(getconf CLK_TCK)" -v runs="$runs" \
    'BEGIN { printf "%.2f\n", ticks / hz * 1000 / runs }' >"$results/database_cpu.$round"
done

for round in $(seq "$rounds"); do
  for store in sqlite postgresql; do
    echo "===== round $round, $store ====="
    cat "$results/$store.$round"
  done
done

echo
echo "----- SQLite and PostgreSQL side by side ($(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)) -----"
printf '%-6s %-11s %24s %16s %14s %15s %26s %8s\n' round store "light p50 / p99 (ms)" \
  "sustained runs/s" "CPU ms/run" "database ms/run" "statements / round trips" ratio
for round in $(seq "$rounds"); do
  read -r s_p50 s_p99 s_rate s_cpu s_statements s_trips < <(figures "$results/sqlite.$round")
  read -r p_p50 p_p99 p_rate p_cpu p_statements p_trips < <(figures "$results/postgresql.$round")
  ratio=$(awk -v p="$p_rate" -v s="$s_rate" 'BEGIN { printf "%.2f", p / s }')
  echo "$ratio" >>"$results/ratios"
  printf '%-6s %-11s %24s %16s %14s %15s %26s %8s\n' "$round" SQLite "$s_p50 / $s_p99" "$s_rate" \
    "$s_cpu" - "$s_statements / $s_trips" ""
  printf '%-6s %-11s %24s %16s %14s %15s %26s %8s\n' "$round" PostgreSQL "$p_p50 / $p_p99" "$p_rate" \
    "$p_cpu" "$(cat "$results/database_cpu.$round")" "$p_statements / $p_trips" "${ratio}x"
done
echo "median ratio PostgreSQL / SQLite (sustained runs/s): $(sort -n "$results/ratios" |
  awk '{ r[NR] = $1 } END { printf "%.2fx", NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }') (goal >= 0.5x)"
