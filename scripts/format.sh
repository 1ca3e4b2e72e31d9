#!/usr/bin/env bash
# Formats every C++ file of the tree with .clang-format (clang-format 14, Debian 12's `clang-format`).
#   scripts/format.sh           # rewrite in place
#   scripts/format.sh --check   # list files that differ, exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--check" ]; then
  command -v clang-format >/dev/null || { echo "SKIP: clang-format not installed (apt-get install clang-format)"; exit 77; }
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then echo "not formatted: $f"; bad=1; fi
  done
  exit $bad
fi
clang-format -i "${files[@]}"
