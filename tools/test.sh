#!/usr/bin/env bash
# The whole test suite: dependencies, a Release build, then every unit and end-to-end test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./tools/build.sh
cd build
ctest --output-on-failure -j2 --timeout 600
