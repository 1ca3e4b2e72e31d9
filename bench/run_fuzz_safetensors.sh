#!/usr/bin/env bash
# Fuzzes the safetensors reader (engine/io/safetensors*.cpp) with libFuzzer, AddressSanitizer and UBSan.
#
#   bench/run_fuzz_safetensors.sh [seconds=60]
#
# Builds bench/fuzz_safetensors.cpp directly with clang++ (no CMake; needs Debian's `clang` and `nlohmann-json3-dev`:
# `apt-get install -y clang nlohmann-json3-dev`), seeds a corpus with the reference file from tests/data/safetensors
# and a few hand-made headers, and runs for a bounded time. Work files go to build-fuzz-safetensors/ (or $FUZZ_DIR):
# the corpus is kept between runs; crashes are written to artifacts/ and make the script exit non-zero.
# Reproduce one with: build-fuzz-safetensors/fuzz_safetensors build-fuzz-safetensors/artifacts/crash-<hash>
# The same target also builds through CMake: `cmake --preset fuzz && cmake --build build-fuzz` (clang, no LibTorch).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
max_time="${1:-60}"
work="${FUZZ_DIR:-$root/build-fuzz-safetensors}"
cxx="${FUZZ_CXX:-clang++}"

if ! command -v "$cxx" > /dev/null; then
    echo "error: $cxx not found; install it with: apt-get install -y clang" >&2
    exit 2
fi
mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts"

echo "building $work/fuzz_safetensors"
"$cxx" -std=c++20 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" "$root/bench/fuzz_safetensors.cpp" "$root"/engine/io/safetensors*.cpp \
    -o "$work/fuzz_safetensors"

# Seeds: the Python-written reference file and small hand-made files (8-byte little-endian length + header + data).
cp "$root"/tests/data/safetensors/*.safetensors "$work/seeds/" 2> /dev/null || true
seed() {  # seed NAME HEADER DATA_BYTES
    local name="$1" header="$2" data_bytes="$3"
    python3 - "$work/seeds/$name" "$header" "$data_bytes" << 'PY'
import struct, sys
path, header, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + bytes(range(256)) * (n // 256) + bytes(range(n % 256)))
PY
}
seed empty '{}      ' 0
seed one '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}' 8
seed meta '{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]}}' 6
seed ints '{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[0,3],"data_offsets":[8,8]},"c":{"dtype":"BOOL","shape":[3],"data_offsets":[8,11]}}' 11
seed f8 '{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[2,4]}}' 4
seed gap '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}' 12
seed dup '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' 4

cat > "$work/safetensors.dict" << 'DICT'
"\"dtype\""
"\"shape\""
"\"data_offsets\""
"\"__metadata__\""
"\"F64\""
"\"F32\""
"\"F16\""
"\"BF16\""
"\"I64\""
"\"I32\""
"\"I16\""
"\"I8\""
"\"U8\""
"\"BOOL\""
"\"U16\""
"\"U32\""
"\"U64\""
"\"F8_E4M3\""
"\"F8_E5M2\""
"[0,"
"[]"
"{}"
":"
","
"18446744073709551615"
"9223372036854775807"
"4294967296"
"-1"
"\\u0000"
DICT

echo "fuzzing for ${max_time}s"
"$work/fuzz_safetensors" "$work/corpus" "$work/seeds" \
    -dict="$work/safetensors.dict" -max_total_time="$max_time" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1
