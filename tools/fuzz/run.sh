#!/usr/bin/env bash
# A fuzzing campaign: builds build-fuzz/ with clang, libFuzzer, ASan and UBSan (ENGINED_FUZZ=ON,
# ENGINED_SANITIZE=ON), then runs each target for the budget on a copy of its seed corpus and
# regression inputs. Crashes, timeouts and out-of-memory inputs land in
# build-fuzz/fuzz-out/<target>/crashes/; the status is non-zero when any target found one.
# Usage: tools/fuzz/run.sh [--budget SECONDS] [target...]   (default: 30 s each, every target)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

all_targets=(fuzz_http_request fuzz_pin fuzz_schema_compare fuzz_lua_marshalling fuzz_config_schema fuzz_lua_scorecard)
budget=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --budget) budget="$2"; shift 2 ;;
    --budget=*) budget="${1#--budget=}"; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then targets=("${all_targets[@]}"); fi
for target in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " ${target} " ]]; then
    echo "fuzz: unknown target '$target' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
if ! [[ "$budget" =~ ^[0-9]+$ ]] || [ "$budget" -lt 1 ]; then
  echo "fuzz: --budget takes a whole number of seconds" >&2
  exit 2
fi

# -O1 with line tables only, as libFuzzer's documentation builds: a crash's stack keeps file:line,
# and the build takes about a fifth less time than -O2 -g.
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
  -DENGINED_FUZZ=ON -DENGINED_SANITIZE=ON -DENGINED_BUILD_TESTS=OFF -DENGINED_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]}"

# A sanitizer report aborts the input, so libFuzzer records it as a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

crashed=()
for target in "${targets[@]}"; do
  out="$root/build-fuzz/fuzz-out/$target"
  # Crashes of an earlier campaign belong in fuzz/regressions/ by now: this run reports its own.
  rm -rf "$out/crashes"
  mkdir -p "$out/corpus" "$out/crashes"
  # The copy keeps what earlier campaigns found; the repository's seeds are never written.
  find "fuzz/corpus/$target" "fuzz/regressions/$target" -type f ! -name '.*' -exec cp -n -t "$out/corpus" {} +
  echo "fuzz: $target for ${budget}s (log: $out/fuzz.log)"
  status=0
  "$root/build-fuzz/fuzz/$target" -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/crashes/" -print_final_stats=1 "$out/corpus" >"$out/fuzz.log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$out/fuzz.log" | sed 's/^/  /' || true
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "$out/crashes")" ]; then
    crashed+=("$target")
    echo "fuzz: $target FOUND A CRASH (status $status); inputs in $out/crashes/:" >&2
    ls -1 "$out/crashes" | sed 's/^/  /' >&2
    grep -E 'ERROR|invariant broken|runtime error|SUMMARY' "$out/fuzz.log" | head -5 | sed 's/^/  /' >&2 || true
  fi
done

if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${crashed[*]}; replay one with build-fuzz/fuzz/<target> <file>" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]}"
