#!/usr/bin/env bash
# The test command: builds the test programs and benchmarks (target lorica_tests; the set-up builds only
# what a user runs) and runs every test with ctest. Arguments go to ctest:
#   ./scripts/test.sh                 # all tests (preset release)
#   ./scripts/test.sh -R gui -V       # a subset, verbose
#   LORICA_PRESET=debug ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${LORICA_PRESET:-release}
start=$SECONDS
cmake --build --preset "$preset" --target lorica_tests
echo "test programs built in $((SECONDS - start)) s"
exec ctest --preset "$preset" "$@"
