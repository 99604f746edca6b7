#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc): builds build-asan/
# (RelWithDebInfo, ENGINED_SANITIZE=ON, plugins included) and runs ctest there.
# Extra arguments go to ctest (e.g. -R store to run a subset).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# halt_on_error: the first report fails the test. detect_leaks: LeakSanitizer runs at exit of
# every test binary and of the engined child processes the crash tests start. Child processes
# inherit these settings.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DENGINED_SANITIZE=ON -DENGINED_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j2
cd build-asan
ctest --output-on-failure -j2 --timeout 900 "$@"
