#!/usr/bin/env bash
# bench_cli_start: how long lorica-cli's commands take from exec to exit, against a trivial process
# start (/bin/true) measured in the same run. The commands that need no LibTorch (runs, show,
# export-results, metrics, config, presets, methods, sweep --status) should take ≤ 150 ms; merge is
# timed too, but what it takes is mostly the merge of a 34-run shard;
# --version and `run --help` go through lorica-cli-engine (LibTorch) and show what loading it costs.
#
#   bench_cli_start [--cli PATH] [--runs N] [--db PATH] [--cold] [--own-loop]
#
#   --cli PATH   the lorica-cli to time (default: ../lorica-cli beside this script, i.e. build/lorica-cli)
#   --runs N     timed runs per command (default 20), after 3 warm-up runs; the median is reported
#   --db PATH    the results database to read (default: one grown here by bench_store_scale, 300 runs
#                and a 2,000-step run, in a temp directory removed at the end); the shard `merge`
#                reads is always bench_store_scale's 34-run template experiment
#   --cold       drop the page cache before every run (root only; slows everything on the machine
#                for a moment: use with few --runs)
#   --own-loop   time with its own loop even when hyperfine is installed
# Uses hyperfine (no intermediate shell, -N) when installed, else its own loop on $EPOCHREALTIME.
# Prints per command: median and min in ms, the ratio median ÷ median(/bin/true), and whether the
# median is within 150 ms (only for the commands that need no LibTorch).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cli=$here/../lorica-cli
store_scale=$here/bench_store_scale
runs=20
db=""
cold=0
hyperfine=$(command -v hyperfine || true)
while (($#)); do
  case $1 in
    --cli) cli=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    --cold) cold=1; shift ;;
    --own-loop) hyperfine=""; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$cli" ] || { echo "error: no lorica-cli at $cli (build it, or give --cli PATH)" >&2; exit 2; }
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_DATA_HOME=$work/data  # the log file (and default database) of the timed commands
[ -x "$store_scale" ] || { echo "error: no bench_store_scale at $store_scale (cmake --build build --target bench_cli_start)" >&2; exit 2; }
if [ -z "$db" ]; then
  "$store_scale" --runs 300 --long-steps 2000 --shards 2 --repeat 1 --keep "$work/results.sqlite" >/dev/null
  db=$work/results.sqlite
fi
run_id=$("$cli" runs --db "$db" --status finished --limit 1 | awk 'NR == 2 {print $1}')
[ -n "$run_id" ] || { echo "error: no finished run in $db" >&2; exit 2; }
printf '90.0\n80.0,85.0\n70.0,75.0,88.0\n60.0,70.0,80.0,90.0\n' >"$work/matrix.csv"
"$cli" sweep --preset default --set 'sweep={"field":"method.rank","values":[4,8]}' --set 'seeds=[0,1]' \
  --out "$work/sweep" --launcher slurm --dry-run >/dev/null
# The shard to merge: one experiment of 34 runs (bench_store_scale's template), as a sweep job might leave.
shard=$work/shard.sqlite
"$store_scale" --runs 2 --long-steps 10 --shards 1 --repeat 1 --keep "$shard" >/dev/null

# name | core (no LibTorch, goal ≤ 150 ms) / engine (LibTorch) / work (mostly the command's own work)
#      | command (no shell: words split on spaces)
commands=(
  "/bin/true (reference)|ref|/bin/true"
  "runs|core|$cli runs --db $db"
  "runs --all|core|$cli runs --db $db --all"
  "show RUN|core|$cli show $run_id --db $db"
  "show RUN --format json|core|$cli show $run_id --db $db --format json"
  "export-results RUN|core|$cli export-results $run_id --db $db --out $work/export"
  "metrics|core|$cli metrics --matrix $work/matrix.csv"
  "presets|core|$cli presets"
  "config --preset default|core|$cli config --preset default"
  "methods --options|core|$cli methods --options"
  "sweep --status|core|$cli sweep --status $work/sweep"
  "merge (34-run shard)|work|$cli merge --into $work/merged.sqlite $shard"
  "run --help|engine|$cli run --help"
  "--version|engine|$cli --version"
)

prepare_of() {  # the command run before each timed run ("" = none), as one `sh -c '...'`
  local p=""
  case $1 in merge*) p="rm -f $work/merged.sqlite" ;; esac
  [ "$cold" -eq 1 ] && p="${p:+$p; }sync; echo 3 > /proc/sys/vm/drop_caches"
  [ -n "$p" ] && echo "sh -c '$p'"
  return 0
}

# Prints "median_ms min_ms" of one command.
time_command() {
  local command=$1 prepare=$2
  if [ -n "$hyperfine" ]; then
    local -a prepare_args=()
    [ -n "$prepare" ] && prepare_args=(--prepare "$prepare")
    hyperfine -N --warmup 3 --runs "$runs" "${prepare_args[@]}" --export-json "$work/h.json" --output null \
      --style none --ignore-failure "$command" >/dev/null 2>&1
    python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f'{r["median"] * 1000:.2f} {r["min"] * 1000:.2f}')
PY
  else
    local -a times=()
    local i t0 t1 words
    read -r -a words <<<"$command"
    for ((i = 0; i < runs + 3; ++i)); do
      [ -n "$prepare" ] && bash -c "$prepare"
      t0=$EPOCHREALTIME
      "${words[@]}" >/dev/null 2>&1 || true
      t1=$EPOCHREALTIME
      ((i >= 3)) && times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) * 1000}')")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f\n", m, v[1]}'
  fi
}

echo "lorica-cli: $cli"
echo "engine:     $(dirname "$cli")/lorica-cli-engine$([ -x "$(dirname "$cli")/lorica-cli-engine" ] || echo ' (none: a single binary)')"
echo "database:   $db ($("$cli" runs --db "$db" --all | tail -n +2 | grep -c .) runs), run $run_id"
echo "timer:      $([ -n "$hyperfine" ] && hyperfine --version || echo 'own loop ($EPOCHREALTIME)'), $runs runs after 3 warm-up, $([ "$cold" -eq 1 ] && echo 'page cache dropped before each run' || echo 'warm page cache')"
echo
printf '%-28s %10s %10s %12s  %s\n' "command" "median ms" "min ms" "÷ /bin/true" "goal ≤ 150 ms"
ref=""
fail=0
for entry in "${commands[@]}"; do
  IFS='|' read -r name kind command <<<"$entry"
  read -r median min < <(time_command "$command" "$(prepare_of "$name")")
  [ -z "$ref" ] && ref=$median
  ratio=$(awk -v m="$median" -v r="$ref" 'BEGIN {printf "%.1f×", m / r}')
  goal=""
  if [ "$kind" = core ]; then
    if awk -v m="$median" 'BEGIN {exit !(m <= 150)}'; then goal="ok"; else goal="SLOW"; fail=1; fi
  elif [ "$kind" = engine ]; then
    goal="(LibTorch)"
  elif [ "$kind" = work ]; then
    goal="(merges 1.3 MB: work, not start)"
  fi
  printf '%-28s %10s %10s %12s  %s\n' "$name" "$median" "$min" "$ratio" "$goal"
done
exit $fail
