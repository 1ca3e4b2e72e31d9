#!/usr/bin/env bash
# Builds the stand-alone CPU Debian package of Lorica in one command:
#
#   packaging/build-deb.sh            → build-package/lorica_<version>_amd64.deb
#
# Configures build-package/ (LORICA_PACKAGE=ON, install prefix /usr, no tests or benchmarks), builds
# lorica and lorica-cli-engine (linked against LibTorch's CPU libraries only) and lorica-cli (no
# LibTorch), bundles those libraries
# (packaging/bundle-libs.sh), runs cpack, then prints the package's size, its Depends, and each
# binary's RUNPATH and NEEDED libraries. Fails when a packaged binary or library needs a CUDA library
# or has a RUNPATH leaving the package.
# Env: LORICA_TORCH_PREFIX (default: the checkout's .torch-prefix, written by scripts/setup.sh),
#      LORICA_PACKAGE_BUILD_DIR (default build-package), LORICA_JOBS (default 2).
# Needs: the build dependencies of scripts/setup.sh, plus patchelf and dpkg-dev (dpkg-shlibdeps).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${LORICA_PACKAGE_BUILD_DIR:-$here/build-package}
jobs=${LORICA_JOBS:-2}
torch_prefix=${LORICA_TORCH_PREFIX:-$(cat "$here/.torch-prefix" 2>/dev/null || true)}
[ -n "$torch_prefix" ] || { echo "error: no LibTorch: set LORICA_TORCH_PREFIX or run scripts/setup.sh --deps" >&2; exit 2; }
for tool in patchelf dpkg-shlibdeps readelf; do
  command -v "$tool" >/dev/null || { echo "error: $tool missing (apt-get install patchelf dpkg-dev binutils)" >&2; exit 2; }
done

cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DCMAKE_PREFIX_PATH="$torch_prefix" -DLORICA_PACKAGE=ON -DLORICA_BUILD_GUI=ON \
  -DLORICA_BUILD_TESTS=OFF -DLORICA_BUILD_BENCH=OFF
nice cmake --build "$build" -j "$jobs"
rm -f "$build"/lorica_*.deb
(cd "$build" && nice cpack -G DEB)
deb=$(ls -1 "$build"/lorica_*_amd64.deb)

# What went in: no CUDA library NEEDED, every RUNPATH inside the package.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dpkg-deb -x "$deb" "$stage"
bad=0
shopt -s nullglob
[ -n "$(ls "$stage"/usr/lib/lorica/libtorch_cpu.so 2>/dev/null)" ] || { echo "error: no /usr/lib/lorica/libtorch_cpu.so in the package" >&2; bad=1; }
echo
for f in "$stage"/usr/bin/* "$stage"/usr/lib/lorica/*; do
  name=${f#"$stage"}
  runpath=$(LC_ALL=C readelf -d "$f" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]/\2/p')
  needed=$(LC_ALL=C readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  echo "$name  RUNPATH=${runpath:-none}"
  echo "    NEEDED: $needed"
  case " $needed" in *" libtorch_cuda"*|*" libc10_cuda"*|*" libtorch.so "*|*" libcudnn"*|*" libcublas"*|*" libnccl"*)
    echo "    error: a CUDA LibTorch library is NEEDED" >&2; bad=1 ;;
  esac
  for p in ${runpath//:/ }; do
    case $p in '$ORIGIN'|'$ORIGIN/../lib/lorica') ;; *) echo "    error: RUNPATH entry $p leaves the package" >&2; bad=1 ;; esac
  done
done
echo
dpkg-deb -f "$deb" Package Version Depends Recommends Installed-Size
echo "package: $deb  $(stat -c %s "$deb") bytes ($(du -h "$deb" | cut -f1))"
exit $bad
