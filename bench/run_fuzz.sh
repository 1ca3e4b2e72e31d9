#!/usr/bin/env bash
# Fuzzes every reader of Lorica with libFuzzer, AddressSanitizer and UBSan, one target after another:
#
#   bench/run_fuzz.sh [SECONDS=60] [TARGET...]
#
#   fuzz_safetensors    safetensors files                  (engine/io/safetensors*.cpp)
#   fuzz_idx            IDX files, gzipped or plain         (engine/data/idx_file.cpp)
#   fuzz_cifar          CIFAR batches and class-name lists  (engine/data/cifar_records.cpp)
#   fuzz_image          PNG and JPEG decoding               (engine/data/image_decode.cpp)
#   fuzz_config         config JSON + --set overrides       (engine/config/*.cpp)
#   fuzz_peft_adapter   PEFT adapter_config.json + adapter_model.safetensors (engine/io/peft_layout.cpp)
#
# SECONDS is per target (default: all six). Needs clang with libFuzzer (Debian: apt-get install -y clang
# libclang-rt-14-dev) and the -dev packages of scripts/setup.sh; no LibTorch. Builds the "fuzz" preset
# (build-fuzz/), writes seed corpora with bench/fuzz_corpus/make_seeds.cpp, and keeps each target's
# corpus in $FUZZ_DIR (default build-fuzz/corpus/<target>) between runs. Crashes, leaks and timeouts
# go to build-fuzz/artifacts/<target>/ and make the script exit 1; reproduce one with
#   build-fuzz/fuzz_<target> build-fuzz/artifacts/<target>/crash-<hash>
# At the end it prints one line per target: executions, executions per second, corpus size, result.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_safetensors fuzz_idx fuzz_cifar fuzz_image fuzz_config fuzz_peft_adapter)
build="$root/build-fuzz"
work="${FUZZ_DIR:-$build}"

if ! command -v clang++ > /dev/null; then
    echo "error: clang++ not found; install it with: apt-get install -y clang libclang-rt-14-dev" >&2
    exit 2
fi
cd "$root"
echo "== building (preset fuzz, $build)"
cmake --preset fuzz > /dev/null
nice cmake --build --preset fuzz --target make_fuzz_seeds "${targets[@]}"
rm -rf "$work/seeds"
"$build/make_fuzz_seeds" "$work/seeds" "$root/resources/presets"
cp "$root"/tests/data/safetensors/*.safetensors "$work/seeds/safetensors/" 2> /dev/null || true

# Per target: the longest input, and the seed directory name.
declare -A max_len=([fuzz_safetensors]=4096 [fuzz_idx]=4096 [fuzz_cifar]=8192 [fuzz_image]=16384 [fuzz_config]=8192
                    [fuzz_peft_adapter]=4096)
dict_file="$work/safetensors.dict"
cat > "$dict_file" << 'DICT'
"\"dtype\""
"\"shape\""
"\"data_offsets\""
"\"__metadata__\""
"\"F32\""
"\"F16\""
"\"BF16\""
"\"I64\""
"\"U8\""
"\"BOOL\""
"\"F8_E4M3\""
"\"peft_type\""
"\"LORA\""
"\"lora_alpha\""
"\"rank_pattern\""
"\"alpha_pattern\""
"\"use_rslora\""
"\"use_dora\""
"\"bias\""
".lora_A.weight"
".lora_B.weight"
"base_model.model."
"18446744073709551615"
"9223372036854775807"
"-1"
"\\u0000"
DICT

status=0
summary=()
for target in "${targets[@]}"; do
    name="${target#fuzz_}"
    corpus="$work/corpus/$name"
    artifacts="$build/artifacts/$name"
    log="$build/logs/$name.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    dict=()
    case "$name" in safetensors | peft_adapter) dict=(-dict="$dict_file") ;; esac
    echo "== $target for ${seconds}s (log $log)"
    set +e
    nice "$build/$target" "$corpus" "$work/seeds/$name" "${dict[@]}" -max_total_time="$seconds" \
        -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    files=$(find "$corpus" -type f | wc -l)
    if ((rc == 0)); then result=ok; else result="FAILED (rc $rc: $(grep -m1 -E 'ERROR|==[0-9]+==|deadly|Timeout|out-of-memory' "$log" || echo see log))"; status=1; fi
    summary+=("$(printf '%-18s %12s execs  %8s/s  corpus %5s  %s' "$target" "${execs:-?}" "${speed:-?}" "$files" "$result")")
    tail -n 3 "$log"
done
echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
