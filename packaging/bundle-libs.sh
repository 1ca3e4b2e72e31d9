#!/usr/bin/env bash
# Copies into OUT_DIR the shared libraries that BINARY... need (NEEDED, followed recursively) and that
# are found in one of SEARCH_DIRS (LibTorch's lib/ and the NVIDIA wheels' lib/ folders), strips them
# and sets their RUNPATH to $ORIGIN, so that they find each other inside the package. Libraries found
# elsewhere (the system's: Qt, libstdc++, ...) are left out: the package depends on Debian's packages
# for them (dpkg-shlibdeps). Refuses a CUDA LibTorch library (libtorch_cuda, libc10_cuda, cuDNN,
# cuBLAS, NCCL): the package is the CPU one. Prints one line per library bundled.
#
#   packaging/bundle-libs.sh OUT_DIR SEARCH_DIR[:SEARCH_DIR...] BINARY...
# Used by packaging/CMakeLists.txt (target lorica_bundled_libs) with LORICA_PACKAGE=ON.
set -euo pipefail

out=$1
IFS=: read -r -a search <<<"$2"
shift 2
for tool in readelf strip patchelf; do
  command -v "$tool" >/dev/null || { echo "error: $tool missing (apt-get install binutils patchelf)" >&2; exit 2; }
done

rm -rf "$out"
mkdir -p "$out"
needed() { LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
find_in_search() {
  local d
  for d in "${search[@]}"; do
    [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}

queue=("$@")
declare -A seen=()
while ((${#queue[@]})); do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  for name in $(needed "$file"); do
    [ -n "${seen[$name]:-}" ] && continue
    seen[$name]=1
    src=$(find_in_search "$name") || continue
    case $name in
      libtorch_cuda*|libc10_cuda*|libcudnn*|libcublas*|libnccl*|libcusparse*|libcufft*|libnvshmem*)
        echo "error: $file needs $name: a CUDA library in the CPU package (link with LORICA_PACKAGE=ON)" >&2
        exit 1 ;;
    esac
    cp -L "$src" "$out/$name"
    chmod 0644 "$out/$name"
    strip --strip-unneeded "$out/$name"
    patchelf --set-rpath '$ORIGIN' "$out/$name"
    echo "bundled $name ($(du -h "$out/$name" | cut -f1), from $src)"
    queue+=("$out/$name")
  done
done
