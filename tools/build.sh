#!/usr/bin/env bash
# Installs missing dependencies and builds into build/: every target (the test suite and the
# benchmarks too), or only the CMake targets named as arguments. `--runtime` first: only what
# building and running engined needs is installed, and the build is configured without the test
# suite and the benchmarks (`tools/build.sh --runtime engined_runtime`: engined, enginectl, the
# plugins and the demo-pool generator).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
with_tests=ON
if [ "${1:-}" = "--runtime" ]; then
  shift
  with_tests=OFF
  ./tools/install-deps.sh --runtime
else
  ./tools/install-deps.sh
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DENGINED_BUILD_TESTS="$with_tests" -DENGINED_BUILD_BENCH="$with_tests" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j2 "${targets[@]}"
