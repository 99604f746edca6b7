#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc): builds build-asan/
# (RelWithDebInfo at -O1 -g1, ENGINED_SANITIZE=ON, plugins included) and runs ctest -j2 there.
# Usage: tools/sanitize.sh [--ci] [ctest arguments...]
#   --ci  builds and runs only the binaries of the components that call C APIs or parse
#         untrusted bytes (listed below), to fit the CI time budget (docs/testing.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ci_binaries=(common_test http_test lua_test store_test versions_test contracts_test auth_test plugin_test
  fuzz_pin_replay fuzz_schema_compare_replay fuzz_lua_marshalling_replay fuzz_config_schema_replay
  fuzz_lua_scorecard_replay)
build_targets=(all)
ctest_selection=()
if [ "${1:-}" = "--ci" ]; then
  shift
  build_targets=("${ci_binaries[@]}")
  ctest_selection=(-L "^($(IFS='|'; echo "${ci_binaries[*]}"))\$")
fi

# halt_on_error: the first report fails the test. detect_leaks: LeakSanitizer runs at the exit
# of every test binary and of the engined child processes the crash tests start (children
# inherit these settings). A caller's own ASAN_OPTIONS win (e.g. detect_leaks=0 where ptrace is
# not allowed).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# -O1 and line tables only (-g1): what ASan's own documentation suggests, and about half the
# compile time of -O2 -g (16.2 -> 8.7 s for core/api/engine_routes.cpp); reports keep file:line.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENGINED_SANITIZE=ON -DENGINED_BUILD_BENCH=OFF \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
cmake --build build-asan -j2 --target "${build_targets[@]}"
cd build-asan
ctest --output-on-failure -j2 --timeout 900 "${ctest_selection[@]}" "$@"
