#!/usr/bin/env bash
# Screenshots of the desktop workbench: launches the real app under Xvfb, first to save a PNG of every
# step of the guided set-up (setup_<n>_<step>.png: data set, stream with its task preview, backbone,
# method, training, summary with the measured step time) for the preset, then to run an experiment from
# the preset and save a PNG of the main window and of every view when it ends.
#
#   scripts/screenshots.sh [OUT_DIR] [PRESET] [key=value]...
#       OUT_DIR  default: build/screenshots        PRESET  default: default (the default experiment)
#   LORICA_BIN=build/lorica  the app; LORICA_DB  the results database (default: a fresh one in OUT_DIR)
#   LORICA_PREPARE_SETS="key=value ..."  also shoots Experiment → Prepare data set… preparing the preset's
#       data with these overrides (a streamed data set, e.g. "data.dataset=image-folder data.root=/data/x
#       data.normalize_mean=[0.5,0.5,0.5] data.normalize_std=[0.5,0.5,0.5] backbone.in_channels=3"): the
#       dialog half-way (prepare_running.png), at the end (prepare_done.png) and the window (prepare_main.png)
#
# The main window's picture is also copied to docs/screenshot-main.png (the README's screenshot).
# Needs xvfb-run (package xvfb). Set OMP_NUM_THREADS yourself on a busy machine; default 1.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/screenshots}
preset=${2:-default}
shift $(( $# > 2 ? 2 : $# ))
bin=${LORICA_BIN:-$here/build/lorica}
db=${LORICA_DB:-$out/screenshots.db}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

[ -x "$bin" ] || { echo "error: $bin not built (cmake --build build --target lorica)" >&2; exit 2; }
command -v xvfb-run >/dev/null || { echo "error: xvfb-run missing (apt-get install xvfb xauth)" >&2; exit 2; }
mkdir -p "$out"

sets=(--set threads="$OMP_NUM_THREADS")
for kv in "$@"; do sets+=(--set "$kv"); done

# A private settings/data home, so the user's own window layout and database are left alone.
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$bin" --db "$db" --run-preset "$preset" "${sets[@]}" --setup-screenshots "$out"
XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  "$bin" --db "$db" --run-preset "$preset" "${sets[@]}" --screenshots "$out"

if [ -n "${LORICA_PREPARE_SETS:-}" ]; then
  prepare_sets=()
  for kv in $LORICA_PREPARE_SETS; do prepare_sets+=(--set "$kv"); done
  XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" QT_QPA_PLATFORM=xcb \
    xvfb-run -a -s "-screen 0 1600x1000x24" \
    "$bin" --db "$db" --run-preset "$preset" "${sets[@]}" "${prepare_sets[@]}" --prepare-screenshots "$out"
  rm -rf "$out/prepared"
fi

mkdir -p "$here/docs"
cp "$out/main.png" "$here/docs/screenshot-main.png"
echo "screenshots in $out:"
ls -1 "$out"/*.png
