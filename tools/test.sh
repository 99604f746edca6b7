#!/usr/bin/env bash
# The whole test suite: dependencies, a Release build, every unit and end-to-end test (with the
# fuzz seeds and regression inputs), then a short fuzzing run of every target and the CI subset
# of the suite under ASan + UBSan (docs/testing.md; the whole sanitizer suite does not fit the
# CI budget on two cores: run tools/sanitize.sh for it).
# ENGINED_TEST_FUZZ_BUDGET: seconds per fuzz target (default 20, 0 skips fuzzing);
# ENGINED_TEST_SANITIZE=0 skips the sanitizer suite. CI sets neither.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
fuzz_budget="${ENGINED_TEST_FUZZ_BUDGET:-20}"

stage() { echo "test.sh: $1 ($(( SECONDS - stage_start ))s since start)"; }
stage_start=$SECONDS

./tools/install-deps.sh
# Every C and C++ source laid out as .clang-format says (`clang-format -i FILE` fixes one).
git ls-files -z '*.c' '*.cpp' '*.h' '*.hpp' | xargs -0 clang-format --dry-run -Werror
stage "formatting checked"

./tools/build.sh
# Beside a throwaway PostgreSQL, so that the store suites run against both backends.
./tools/with-postgres.sh bash -c 'cd build && ctest --output-on-failure -j2 --timeout 600'
stage "release build and suite passed"

if [ "$fuzz_budget" != 0 ]; then
  ./tools/fuzz/run.sh --budget "$fuzz_budget"
  stage "fuzzing passed"
fi

if [ "${ENGINED_TEST_SANITIZE:-1}" != 0 ]; then
  ./tools/sanitize.sh --ci
  stage "sanitizer subset passed"
fi
