#!/usr/bin/env bash
# The prepared GPU check: one call on the GPU machine (≤ 9 minutes), or its CPU path here.
#
#   bench/device/check.sh                      # on the GPU machine (device call with carry [".device-kit"])
#   bench/device/check.sh --device cpu --quick # the CPU path, on a development machine, in minutes
#
# Options: --device cuda|cpu (default cuda); --quick (small sizes, a subset of the engine tests);
#          --build-dir DIR (reuse a configured build, e.g. build/, instead of configuring build-check/);
#          --jobs N (compile jobs; default: all cores, 2 with --quick).
# Environment: OUT (where the figures go; default build-check/out), LORICA_TORCH_PREFIX (LibTorch's
#          CMake prefix; default: python3's torch.utils.cmake_prefix_path, else .torch-prefix),
#          LORICA_PYTHON (the Python with torch, timm and peft; default python3, else the venv that
#          holds the LibTorch).
#
# Steps (each under its own time limit; a failing step is reported and the next one runs):
#   0. .device-kit/*.deb (scripts/device-kit.sh) unpacked with dpkg -x into /tmp/lorica-kit (never
#      into /); absolute symbolic links in it re-pointed into the prefix; without a kit, the system's
#      packages are used.
#   1. configure with LORICA_BUILD_GUI=OFF against the machine's own LibTorch; build lorica-cli and
#      the benches (then the engine tests, in step 5).
#   2. (b) the default experiment (`lorica-cli run`, preset default) on the device, its median step
#      time beside the CPU's (the same experiment on the CPU, train.max_steps_per_task = 24).
#   3. (c) ViT-B/16 random init 224 px, LoRA r = 10 on q,v, bf16, batch 128: Lorica's training
#      images/s (bench_vit_throughput) against timm + PEFT (timm_peft_throughput.py) in the same
#      script, their ratio (goal ≥ 1.1) and the model FLOP utilisation (formula: bench_vit_throughput.cpp).
#   4. (d) SD-LoRA's training step at task 20 ÷ task 1 (bench_sd_lora --tasks 20).
#   4b. (f) the whole loop end to end (bench_end_to_end): an ImageNet-R-shaped folder (200 classes ×
#      120 generated 224-px JPEGs, 96 train + 24 test), prepared (data.prepared), then the real run of
#      sd-lora-vitb-imagenet-r-10 (ViT-B/16 random init, bf16, batch 128, 10 tasks × 15 steps = one
#      epoch a task, evaluation before and after every task): images/s of the loop, the data path's
#      share, the estimated wall time of the preset at 20 epochs (goal ≤ 10 minutes on an H100; the
#      official code: 98 minutes). Its own limit: at most 200 s of what is left.
#   5. (a) the engine tests with LORICA_TEST_DEVICE set to the device (ctest, in parallel).
#   (e) peak GPU memory: the allocator peaks of both sides of (c).
# Writes $OUT/summary.txt and one log per step (8 files).
set -uo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
device=cuda quick=0 build_dir="" jobs=""
while (($#)); do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    *) echo "check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$device" in cpu|cuda|cuda:*) ;; *) echo "check.sh: --device must be cpu or cuda" >&2; exit 2 ;; esac
out=${OUT:-$here/build-check/out}
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
start=$SECONDS
say() { printf '%s\n' "$*" | tee -a "$summary"; }
elapsed() { echo $((SECONDS - start)); }
# Seconds left of the call's budget (540 s on the GPU machine), at least 20.
budget=${LORICA_CHECK_BUDGET_S:-540}
left() { local l=$((budget - (SECONDS - start))); ((l < 20)) && l=20; echo $l; }
result_field() { sed -n "s/.*RESULT.* $2=\([^ ]*\).*/\1/p; s/^RESULT $2=\([^ ]*\).*/\1/p" "$1" | head -1; }

say "== Lorica device check: device $device$( ((quick)) && echo ', quick'), $(date -u +%FT%TZ), $(uname -m), $(nproc) cores"
if command -v nvidia-smi >/dev/null && [ "$device" != cpu ]; then
  say "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
fi

# ---- 0. the kit --------------------------------------------------------------------------------
prefix_path=""
if compgen -G "$here/.device-kit/*.deb" >/dev/null; then
  kit=/tmp/lorica-kit
  rm -rf "$kit" && mkdir -p "$kit"
  for f in "$here"/.device-kit/*.deb; do dpkg -x "$f" "$kit"; done
  # Debian's -dev symlinks may be absolute (libz.so → /lib/…): point them into the prefix.
  find "$kit" -type l -lname '/*' | while read -r link; do ln -sfn "$kit$(readlink "$link")" "$link"; done
  export LD_LIBRARY_PATH="$kit/usr/lib/x86_64-linux-gnu:$kit/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PATH="$PATH:$kit/usr/bin"  # ninja, only when the machine has none
  export LORICA_FASHION_MNIST_ROOT="$kit/usr/share/datasets/fashion-mnist"
  prefix_path="$kit/usr;$kit"
  say "kit: $(ls "$here"/.device-kit/*.deb | wc -l) packages unpacked into $kit"
else
  say "kit: none (.device-kit/ missing): the system's packages"
fi

# ---- LibTorch and Python -----------------------------------------------------------------------
torch_prefix=${LORICA_TORCH_PREFIX:-}
[ -n "$torch_prefix" ] || torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null || true)
[ -n "$torch_prefix" ] || { [ -f "$here/.torch-prefix" ] && torch_prefix=$(cat "$here/.torch-prefix"); }
[ -n "$torch_prefix" ] || { say "FAIL: no LibTorch (set LORICA_TORCH_PREFIX)"; exit 1; }
python=${LORICA_PYTHON:-}
if [ -z "$python" ]; then
  if python3 -c 'import torch' 2>/dev/null; then python=python3
  elif [ -x "$torch_prefix/../../../../../../bin/python" ]; then python=$(cd "$torch_prefix/../../../../../../bin" && pwd)/python
  else python=python3; fi
fi
say "LibTorch: $torch_prefix"
say "Python: $python ($("$python" -c 'import torch, timm, peft; print("torch", torch.__version__, "timm", timm.__version__, "peft", peft.__version__)' 2>&1 | tail -1))"

# ---- 1. configure and build --------------------------------------------------------------------
[ -n "$jobs" ] || { ((quick)) && jobs=2 || jobs=$(nproc); }
cmake_bin=$(command -v cmake || echo "$(dirname "$(command -v python3)")/cmake")
if [ -z "$build_dir" ]; then
  build_dir="$here/build-check"
  generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
  timeout "$(left)" "$cmake_bin" -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DLORICA_BUILD_GUI=OFF -DLORICA_BUILD_TESTS=ON -DLORICA_BUILD_BENCH=ON \
    -DCMAKE_PREFIX_PATH="$torch_prefix${prefix_path:+;$prefix_path}" > "$out/build.log" 2>&1 \
    || { say "FAIL: configure (see build.log)"; tail -30 "$out/build.log"; exit 1; }
fi
build() { timeout "$(left)" nice "$cmake_bin" --build "$build_dir" -j "$jobs" --target "$@" >> "$out/build.log" 2>&1; }
t0=$SECONDS
if build lorica-cli bench_vit_throughput bench_sd_lora bench_end_to_end; then
  say "build: lorica-cli + benches in $((SECONDS - t0)) s"
else
  say "FAIL: build (see build.log)"; grep -m5 -E "error|Error" "$out/build.log" | tee -a "$summary"; exit 1
fi
cli="$build_dir/cli/lorica-cli"
[ -x "$cli" ] || cli=$(find "$build_dir" -name lorica-cli -type f -perm -u+x | head -1)

# ---- 2. (b) the default experiment ---------------------------------------------------------------
work=$(mktemp -d /tmp/lorica-check.XXXXXX)
median_step_ms() {  # DB → median step_ms of every stream step after the first 5 of each task
  "$python" - "$1" <<'PY'
import sqlite3, statistics, sys
rows = [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT step_ms FROM step_metrics WHERE step_in_task > 5 AND step_ms IS NOT NULL")]
print(f"{statistics.median(rows):.3f} {len(rows)}" if rows else "nan 0")
PY
}
{
  ((quick)) && dflt=(-s train.max_steps_per_task=12 -s foundation.epochs=1 -s data.train_per_class=300) || dflt=()
  t0=$SECONDS
  timeout "$(left)" "$cli" run --preset default -s device="$device" -s cache_dir="$work/cache" "${dflt[@]}" \
    --db "$work/dev.db" --progress-every 100 > "$out/default_experiment.log" 2>&1
  rc=$?; dev_s=$((SECONDS - t0))
  t0=$SECONDS
  cpu_rc=0
  if [ "$device" != cpu ]; then
    timeout "$(left)" "$cli" run --preset default -s device=cpu -s cache_dir="$work/cache" -s train.max_steps_per_task=24 \
      --db "$work/cpu.db" >> "$out/default_experiment.log" 2>&1
    cpu_rc=$?
  fi
  read -r dev_ms dev_n <<<"$(median_step_ms "$work/dev.db")"
  if [ "$device" != cpu ]; then read -r cpu_ms cpu_n <<<"$(median_step_ms "$work/cpu.db")"; else cpu_ms=$dev_ms cpu_n=$dev_n; fi
  say "(b) default experiment on $device: exit $rc in ${dev_s} s; median step $dev_ms ms over $dev_n steps;" \
      "CPU (exit $cpu_rc): median step $cpu_ms ms over $cpu_n steps; CPU ÷ $device = $(awk -v a="$cpu_ms" -v b="$dev_ms" 'BEGIN{printf "%.2f", a/b}')"
}

# ---- 3. (c) ViT-B/16 throughput: Lorica vs timm + PEFT -------------------------------------------
if ((quick)); then vit=(--batch 2 --steps 2 --warmup 1); else vit=(--batch 128 --steps 20 --warmup 5); fi
peak=989  # H200 SXM dense bf16, TFLOP/s (datasheet); KINDS.md measured ~790 on an 8192³ bf16 matmul
[ "$device" = cpu ] && peak=0
timeout "$(left)" "$build_dir/bench/bench_vit_throughput" --device "$device" --precision bf16 "${vit[@]}" --peak-tflops "$peak" \
  > "$out/vit_lorica.log" 2>&1 || say "FAIL: bench_vit_throughput (see vit_lorica.log)"
timeout "$(left)" env PYTHONUNBUFFERED=1 "$python" "$here/bench/device/timm_peft_throughput.py" --device "$device" --precision bf16 \
  "${vit[@]}" > "$out/vit_timm_peft.log" 2>&1 || say "FAIL: timm_peft_throughput.py (see vit_timm_peft.log)"
l_ips=$(result_field "$out/vit_lorica.log" images_per_s); t_ips=$(result_field "$out/vit_timm_peft.log" images_per_s)
gflop=$(result_field "$out/vit_lorica.log" gflop_per_image)
l_mem=$(result_field "$out/vit_lorica.log" peak_mem_gib); t_mem=$(result_field "$out/vit_timm_peft.log" peak_mem_gib)
if [ -n "$l_ips" ] && [ -n "$t_ips" ]; then
  say "(c) ViT-B/16 224 px, LoRA r=10 q,v, bf16, batch ${vit[1]}: Lorica $l_ips images/s, timm+PEFT $t_ips images/s," \
      "ratio $(awk -v a="$l_ips" -v b="$t_ips" 'BEGIN{printf "%.3f", a/b}') (goal ≥ 1.1)"
  if [ "$peak" != 0 ]; then
    say "    MFU ($gflop GFLOP/image of matmuls, of $peak TFLOP/s): Lorica $(awk -v i="$l_ips" -v g="$gflop" -v p="$peak" 'BEGIN{printf "%.1f%%", 100*i*g/1e3/p}')," \
        "timm+PEFT $(awk -v i="$t_ips" -v g="$gflop" -v p="$peak" 'BEGIN{printf "%.1f%%", 100*i*g/1e3/p}')"
  else
    say "    model FLOPs: $gflop GFLOP/image (no MFU on the CPU)"
  fi
  say "(e) peak GPU memory allocated: Lorica ${l_mem} GiB, timm+PEFT ${t_mem} GiB"
else
  say "(c) incomplete: Lorica '${l_ips:-none}', timm+PEFT '${t_ips:-none}' images/s"
fi

# ---- 4. (d) SD-LoRA step at task 20 ÷ task 1 ------------------------------------------------------
if ((quick)); then sd=(--steps 3); else sd=(--steps 20); fi
timeout "$(left)" "$build_dir/bench/bench_sd_lora" --device "$device" --tasks 20 "${sd[@]}" > "$out/sd_lora.log" 2>&1 \
  || say "FAIL: bench_sd_lora (see sd_lora.log)"
say "(d) SD-LoRA on $device: $(grep -m1 'training step' "$out/sd_lora.log" || echo 'no figure')"

# ---- 4b. (f) the whole loop end to end ------------------------------------------------------------
# Time, from the CPU path measured on a development machine (2 cores of an AMD EPYC, loaded by other
# builds; 2,000 images of the same kind) scaled to 16 cores: writing the 24,000 JPEGs takes 1.4 ms of
# one core each → ≈ 2 s; preparing them (decode + resize to 256 px + CRC-32 + shards, 196 KB an image,
# 4.7 GB in all) 10.5 ms of one core each → ≈ 16 s plus the disk; the run on an H100 (19,200 images
# trained, ~84,000 evaluated: SD-LoRA evaluates every seen task 3 times after each task; set-up with a
# random ViT-B/16 and its 343-MB foundation checkpoint) ≈ 40-90 s by the (c) figures; the data path
# alone ≈ 5 s. Total ≈ 1-2 minutes, under its 200-s limit. The folder lives in $work (removed at the
# end): ~5 GB on disk.
if ((quick)); then e2e=(--quick); else e2e=(--tasks 10 --batch 128); fi
e2e_limit=$(left); ((e2e_limit > 200)) && e2e_limit=200
timeout "$e2e_limit" "$build_dir/bench/bench_end_to_end" --device "$device" "${e2e[@]}" --out "$work/end_to_end" \
  > "$out/end_to_end.log" 2>&1 || say "FAIL: bench_end_to_end (see end_to_end.log; limit ${e2e_limit} s)"
e_ips=$(result_field "$out/end_to_end.log" images_per_s); e_share=$(result_field "$out/end_to_end.log" data_share)
e_min=$(result_field "$out/end_to_end.log" est_minutes)
if [ -n "$e_ips" ]; then
  say "(f) end to end, sd-lora-vitb-imagenet-r-10 on $device ($(result_field "$out/end_to_end.log" images) generated JPEGs," \
      "prepared in $(result_field "$out/end_to_end.log" prepare_s) s): the loop $e_ips images/s (training" \
      "$(result_field "$out/end_to_end.log" train_images_per_s), evaluation $(result_field "$out/end_to_end.log" eval_images_per_s));" \
      "data path's share $(awk -v s="$e_share" 'BEGIN{printf "%.1f%%", 100*s}') (alone:" \
      "$(result_field "$out/end_to_end.log" data_train_images_per_s) images/s); estimated wall time at 20 epochs" \
      "$e_min minutes (goal ≤ 10 on an H100; official code 98)"
else
  say "(f) end to end: no figure ($(grep -m1 -iE 'error|bench_end_to_end:' "$out/end_to_end.log" || echo 'see end_to_end.log'))"
fi

# ---- 5. (a) the engine tests -----------------------------------------------------------------------
t0=$SECONDS
if build lorica_engine_tests; then
  say "build: engine tests in $((SECONDS - t0)) s"
  filter=()
  ((quick)) && filter=(--gtest_filter='Fp32CpuDigest*:GradScaler*:PrecisionConfig*:PrecisionLoop*:AutocastScope*:LossReadback*:DeviceSelection*')
  ((quick)) && shards=1 || shards=$(( $(nproc) > 8 ? 8 : $(nproc) ))
  tests_bin="$build_dir/tests/lorica_engine_tests"
  limit=$(left)
  for ((i = 0; i < shards; ++i)); do  # gtest shards in parallel processes (the GPU is shared by all)
    LORICA_TEST_DEVICE=$device OMP_NUM_THREADS=1 GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i \
      timeout "$limit" "$tests_bin" --gtest_brief=1 "${filter[@]}" > "$work/shard$i.log" 2>&1 &
  done
  wait
  cat "$work"/shard*.log > "$out/engine_tests.log"
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out/engine_tests.log" | awk '{s += $1} END {print s + 0}')
  failed_names() { grep '^\[  FAILED  \] [A-Za-z]' "$out/engine_tests.log" | sed 's/ (.*//' | sort -u; }
  failed=$(failed_names | wc -l)
  finished=$(grep -c '^\[==========\] .* ran\.' "$out/engine_tests.log")
  say "(a) engine tests with LORICA_TEST_DEVICE=$device: $passed passed, $failed failed, $finished of $shards shards finished in $((SECONDS - t0)) s"
  failed_names | head -20 | tee -a "$summary"
else
  say "FAIL: build of the engine tests (see build.log)"
fi

[ "$device" != cpu ] && command -v nvidia-smi >/dev/null && say "GPU after the check: $(nvidia-smi --query-gpu=memory.used,temperature.gpu,clocks.sm --format=csv,noheader | head -1)"
rm -rf "$work"
say "== done in $(elapsed) s; files in $out: $(ls "$out" | tr '\n' ' ')"
