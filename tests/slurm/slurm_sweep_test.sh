#!/bin/bash
# A sweep on a real Slurm: a single-node cluster started here (tests/slurm/single_node_cluster.sh),
# a 2 variants × 2 seeds sweep of tiny runs submitted as one throttled job array
# (`lorica-cli sweep --launcher slurm --max-parallel 2`), waited for (bounded), its shards merged
# (`lorica-cli merge`), and the merged store compared run by run with the same sweep run by the local
# launcher (tests/slurm/compare_stores.py: accuracy rows, losses, places: all equal). The cluster is
# shut down on every exit (trap). Exit 77 (ctest: skipped) only when the cluster cannot start.
#
#   tests/slurm/slurm_sweep_test.sh path/to/lorica-cli
set -u
cli=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/lorica-slurm-test.XXXXXX)
chmod 0755 "$work"
source "$here/single_node_cluster.sh"
cleanup() {
    cluster_stop
    if [ "${KEEP_SLURM_TEST_DIR:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
    echo "FAIL: $*"
    for f in "$work"/sweep/logs/* "$work/cluster/log/slurmctld.log" "$work/cluster/log/slurmd.log"; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}

start=$(date +%s)
cluster_start "$work/cluster"
rc=$?
if [ $rc -ne 0 ]; then
    echo "SKIP: the single-node Slurm cluster could not start: ${CLUSTER_SKIP_REASON:-rc $rc}"
    exit 77
fi
echo "cluster up in $(( $(date +%s) - start )) s: $(sinfo -h -o '%P %D nodes %c CPUs %t') ($(sinfo --version))"

# 2 variants (a sweep over method.rank) × 2 seeds of tiny runs, 1 thread each.
cat >"$work/grid.json" <<JSON
{"name": "slurm-grid", "seeds": [0, 5], "device": "auto", "threads": 1, "cache_dir": "CACHE",
 "data": {"train_per_class": 100, "test_per_class": 40},
 "foundation": {"classes": 3, "train_per_class": 200, "epochs": 1, "batch_size": 64},
 "stream": {"tasks": 2, "classes_per_task": 2, "domains": ["identity", "rot90"]},
 "method": {"name": "sequential-lora", "targets": ["qkv"]},
 "train": {"epochs": 1, "batch_size": 64, "max_steps_per_task": 4},
 "sweep": {"field": "method.rank", "values": [1, 2], "alpha_per_rank": 2.0},
 "launcher": {"kind": "slurm", "partition": "test", "time": "00:05:00", "max_parallel": 2}}
JSON
sed "s|CACHE|$work/cache-slurm|" "$work/grid.json" >"$work/grid-slurm.json"
sed "s|CACHE|$work/cache-local|" "$work/grid.json" >"$work/grid-local.json"

out=$("$cli" sweep --config "$work/grid-slurm.json" --out "$work/sweep" --cpus-per-task 1 2>&1) || fail "sweep submit: $out"
echo "$out"
grep -q '^#SBATCH --array=0-3%2$' "$work/sweep/sweep.sbatch" || fail "sweep.sbatch has no --array=0-3%2 line"
grep -q '^#SBATCH --partition=test$' "$work/sweep/sweep.sbatch" || fail "sweep.sbatch has no partition line"

# Waits (≤ $1 s) until no job of the sweep is pending or running; leaves the last report in $status.
wait_for_sweep() {
    local deadline=$(( $(date +%s) + $1 )) seen_active=0 summary
    while :; do
        status=$("$cli" sweep --status "$work/sweep" 2>&1) || fail "sweep --status: $status"
        summary=$(echo "$status" | tail -n 1)
        case "$summary" in *" 0 pending, 0 running,"*) break ;; esac
        if [ $seen_active = 0 ] && echo "$status" | grep -q "(squeue)"; then
            echo "while the array runs:"; echo "$status"; seen_active=1
        fi
        [ "$(date +%s)" -lt "$deadline" ] || fail "the array did not finish within $1 s: $summary"
        sleep 1
    done
    echo "$status"
}
wait_for_sweep 120
echo "$status" | grep -q "4 jobs: 0 pending, 0 running, 4 finished, 0 failed" || fail "not every job finished"
[ "$(ls "$work"/sweep/shards/*.sqlite | wc -l)" = 4 ] || fail "expected 4 shards"
grep -q "slurm_job_id\": \"[0-9]" "$work"/sweep/status/job-0000.json || fail "job 0 did not run under Slurm"
# The throttle: never more than 2 jobs at once (from the jobs' own start and end times).
python3 - "$work"/sweep/status/*.json <<'PY' || fail "more than 2 jobs ran at once"
import json, sys
spans = [(r["started_at"], r["ended_at"]) for r in (json.load(open(p)) for p in sys.argv[1:])]
most = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
print(f"at most {most} jobs ran at once (--array=0-3%2)")
sys.exit(0 if most <= 2 else 1)
PY

# A job lost on the node (killed hard: no shard, its record still "running"): --status calls it
# failed, and --retry failed resubmits that job alone as an array of one.
rm "$work/sweep/shards/job-0002.sqlite"
sed -i 's/"state": "finished"/"state": "running"/' "$work/sweep/status/job-0002.json"
status=$("$cli" sweep --status "$work/sweep" 2>&1)
echo "$status" | grep "job-0002" | grep -Eq "failed +(left the Slurm queue without finishing|process [0-9]+ on .* is gone)" || fail "lost job not failed: $status"
out=$("$cli" sweep --out "$work/sweep" --retry failed 2>&1) || fail "retry: $out"
echo "$out"
echo "$out" | grep -q "retrying 1 failed job (2)" || fail "retry did not pick job 2 alone"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if len(s)==2 and s[1]['indices']==[2] else 1)" \
    "$work/sweep/submissions.json" || fail "the retry was not one submission of job 2"
wait_for_sweep 60
echo "$status" | grep -q "4 jobs: 0 pending, 0 running, 4 finished, 0 failed" || fail "the retried job did not finish"

"$cli" merge --into "$work/slurm.sqlite" "$work/sweep/shards" || fail "merge of the Slurm shards"

# The same jobs, run by the local launcher (2 workers), merged the same way.
"$cli" sweep --config "$work/grid-local.json" --out "$work/local" --launcher local --jobs 2 >"$work/local.out" 2>&1 ||
    fail "local sweep: $(tail -n 5 "$work/local.out")"
"$cli" merge --into "$work/local.sqlite" "$work/local/shards" >/dev/null || fail "merge of the local shards"

python3 "$here/compare_stores.py" "$work/slurm.sqlite" "$work/local.sqlite" || fail "the Slurm and local stores differ"
echo "PASS in $(( $(date +%s) - start )) s"
