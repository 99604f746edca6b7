#!/usr/bin/env bash
# Installs missing dependencies and builds into build/: every target (the test suite and the
# benchmarks too), or only the CMake targets named as arguments, e.g. `tools/build.sh
# engined_runtime` for engined, enginectl, the plugins and the demo-pool generator.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build build -j2 "${targets[@]}"
