#!/usr/bin/env bash
# Installs the Lorica .deb on a clean Debian 12 (bookworm) root and runs it there.
#
#   sudo packaging/test-clean-install.sh [DEB]       DEB default: build-package/lorica_*_amd64.deb
#   sudo packaging/test-clean-install.sh --prepare   only build (and cache) the clean root
#
# The clean root is a `debootstrap --variant=minbase bookworm` tree from Debian's mirror, cached as a
# tarball under ~/.cache/lorica (LORICA_CACHE) so reruns start in seconds; each run unpacks a fresh
# copy, so nothing of an earlier run is left in it. Inside the root, as a plain user where it can:
#   install   apt-get install ./lorica_*.deb (apt resolves Depends and Recommends from the mirror,
#             Fashion-MNIST comes with the Recommends: dataset-fashion-mnist)
#   files     desktop entry, icon, AppStream metadata at the standard places; the binaries' RUNPATH is
#             $ORIGIN/../lib/lorica (lorica), $ORIGIN (/usr/lib/lorica/lorica-cli-engine), none (lorica-cli,
#             which links no LibTorch), and every library resolves inside the root (ldd)
#   version   lorica-cli --version, lorica --version
#   cli       lorica-cli run --preset smoke
#   gui       QT_QPA_PLATFORM=offscreen lorica --run-preset smoke --screenshots DIR (PNGs written)
#   torch-lib LORICA_TORCH_LIB pointing at a folder without LibTorch: refused with exit 2 and a message
#   torch-lib-cuda  only with LORICA_TEST_TORCH_SITE=<site-packages of a CUDA torch wheel of the same
#             version> (bound read-only into the root): lorica-cli --version restarts on that LibTorch
#             and loads its libtorch_cuda.so
# Prints PASS/FAIL per step, the package size, and exits 1 when a step failed.
# Needs root (debootstrap, chroot, mount). Env: LORICA_MIRROR (default http://deb.debian.org/debian),
# LORICA_KEEP_ROOT=1 keeps the root for inspection, OMP_NUM_THREADS (default 2) for the runs.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${LORICA_CACHE:-$HOME/.cache/lorica}
mirror=${LORICA_MIRROR:-http://deb.debian.org/debian}
tarball="$cache/debian-bookworm-minbase.tar.gz"
threads=${OMP_NUM_THREADS:-2}

[ "$(id -u)" -eq 0 ] || { echo "error: needs root (debootstrap, chroot, mount): run with sudo" >&2; exit 2; }

prepare_only=0
deb=""
case "${1:-}" in
  --prepare) prepare_only=1 ;;
  "") deb=$(ls -1t "$here"/build-package/lorica_*_amd64.deb 2>/dev/null | head -n1 || true) ;;
  *) deb=$1 ;;
esac
if [ "$prepare_only" -eq 0 ]; then
  [ -n "$deb" ] && [ -f "$deb" ] || { echo "error: no package ${deb:-build-package/lorica_*_amd64.deb} (run packaging/build-deb.sh)" >&2; exit 2; }
  deb=$(readlink -f "$deb")
fi

# --- the clean root, cached ----------------------------------------------------------------------
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "error: debootstrap missing (apt-get install debootstrap)" >&2; exit 2; }
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/bootstrap.XXXXXX")
  echo "== debootstrap bookworm (minbase) from $mirror into $staging"
  if ! debootstrap --variant=minbase bookworm "$staging" "$mirror" >"$staging.log" 2>&1; then
    tail -n 20 "$staging.log" >&2
    echo "error: debootstrap failed (log: $staging.log)" >&2
    rm -rf "$staging"
    exit 2
  fi
  rm -f "$staging/var/cache/apt/archives/"*.deb
  tar -C "$staging" -czf "$tarball.part" . && mv "$tarball.part" "$tarball"
  rm -rf "$staging" "$staging.log"
fi
echo "clean root: $tarball ($(du -h "$tarball" | cut -f1))"
[ "$prepare_only" -eq 1 ] && exit 0

root=$(mktemp -d /var/tmp/lorica-clean-root.XXXXXX)
mounted=()
cleanup() {
  local m
  for ((i=${#mounted[@]}-1; i>=0; i--)); do
    m=${mounted[i]}
    umount -l "$m" 2>/dev/null || true
  done
  # A bind mount left in place would be deleted through (same file system): never rm then.
  if grep -q " $root/" /proc/mounts; then
    echo "error: still mounted under $root, not removing it:" >&2
    grep " $root/" /proc/mounts >&2
  elif [ "${LORICA_KEEP_ROOT:-0}" = 1 ]; then
    echo "root kept in $root"
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
tar -C "$root" -xzf "$tarball"
chmod 0755 "$root"  # mktemp made it 0700: the plain user inside must reach /
for fs in proc sys dev dev/pts; do
  mkdir -p "$root/$fs"
  case $fs in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sys "$root/sys" ;;
    *) mount --bind "/$fs" "$root/$fs" ;;
  esac
  mounted+=("$root/$fs")
done
if [ -n "${LORICA_TEST_TORCH_SITE:-}" ]; then
  mkdir -p "$root/opt/torch-site"
  mount --bind -o ro "$LORICA_TEST_TORCH_SITE" "$root/opt/torch-site"
  mounted+=("$root/opt/torch-site")
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
cp "$deb" "$root/tmp/"
debname=$(basename "$deb")

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# The researcher: a plain user with an empty home.
in_root useradd -m -s /bin/bash researcher
as_user() {
  chroot --userspec=researcher:researcher "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/home/researcher \
    LANG=C.UTF-8 OMP_NUM_THREADS="$threads" "$@"
}

results=()
failed=0
step() {  # step NAME COMMAND...: runs it, logs its output under $root/tmp/NAME.log, records PASS/FAIL
  local name=$1; shift
  echo
  echo "== $name: $*"
  if "$@" 2>&1 | tee "$root/tmp/$name.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    results+=("PASS  $name")
  else
    results+=("FAIL  $name")
    failed=1
  fi
}

install_deb() {
  in_root apt-get update -q &&
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$debname"
}

check_files() {
  local ok=0 f
  for f in /usr/bin/lorica /usr/bin/lorica-cli /usr/lib/lorica/lorica-cli-engine /usr/share/applications/org.lorica.Lorica.desktop \
           /usr/share/icons/hicolor/scalable/apps/lorica.svg /usr/share/metainfo/org.lorica.Lorica.metainfo.xml \
           /usr/share/lorica/presets/smoke.json /usr/lib/lorica/libtorch_cpu.so /usr/lib/lorica/libc10.so; do
    if [ -e "$root$f" ]; then echo "present  $f"; else echo "MISSING  $f"; ok=1; fi
  done
  # lorica-cli links no LibTorch (it runs lorica-cli-engine for the commands that need it): no RUNPATH.
  for entry in '/usr/bin/lorica $ORIGIN/../lib/lorica' '/usr/lib/lorica/lorica-cli-engine $ORIGIN' '/usr/bin/lorica-cli none'; do
    local runpath expected
    read -r f expected <<<"$entry"
    runpath=$(in_root readelf -d "$f" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p' || true)
    [ -n "$runpath" ] || runpath=$(LC_ALL=C readelf -d "$root$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
    echo "$f RUNPATH=${runpath:-none}"
    [ "${runpath:-none}" = "$expected" ] || { echo "  expected $expected"; ok=1; }
    # Every library from the package (/usr/lib/lorica) or from Debian's packages.
    if in_root ldd "$f" | grep "=>" | grep -vE "=> (/usr/bin/\.\./lib/lorica|/usr/lib/lorica|/lib/x86_64-linux-gnu|/usr/lib/x86_64-linux-gnu)/"; then
      echo "  $f: a library is missing or resolves outside the package and Debian"; ok=1
    fi
    # The CUDA runtime and CUPTI come with libtorch_cpu.so; no GPU LibTorch, cuDNN, cuBLAS, NCCL or driver.
    if in_root ldd "$f" | grep -E "libtorch_cuda|libc10_cuda|libtorch\.so|cudnn|cublas|nccl|libcuda\.so"; then
      echo "  $f: loads a GPU library"; ok=1
    fi
  done
  if in_root ldd /usr/bin/lorica-cli | grep -E "libtorch|libc10"; then
    echo "  /usr/bin/lorica-cli: links LibTorch"; ok=1
  fi
  in_root ldd /usr/lib/lorica/lorica-cli-engine | sed 's/^/  /'
  return $ok
}

run_versions() {
  as_user lorica-cli --version && as_user env QT_QPA_PLATFORM=offscreen lorica --version
}

run_cli_smoke() {
  as_user lorica-cli run --preset smoke --set threads="$threads" --progress-every 100
}

run_gui_smoke() {
  as_user mkdir -p /home/researcher/shots &&
  as_user env QT_QPA_PLATFORM=offscreen lorica --run-preset smoke --set threads="$threads" \
    --screenshots /home/researcher/shots &&
  ls -l "$root/home/researcher/shots" &&
  [ -n "$(ls "$root/home/researcher/shots"/*.png 2>/dev/null)" ]
}

check_torch_lib_refusal() {
  local rc=0
  as_user env LORICA_TORCH_LIB=/tmp lorica-cli --version || rc=$?
  echo "exit code $rc"
  [ "$rc" -eq 2 ]
}

check_torch_lib_cuda() {
  local out
  out=$(as_user env LORICA_TORCH_LIB=/opt/torch-site/torch/lib lorica-cli --version) || return 1
  echo "$out"
  grep -q "LibTorch .*(/opt/torch-site/torch/lib/libtorch_cpu.so)" <<<"$out" &&
  grep -q "/opt/torch-site/torch/lib/libtorch_cuda.so" <<<"$out"
}

step install install_deb
step files check_files
step version run_versions
step cli run_cli_smoke
step gui run_gui_smoke
step torch-lib check_torch_lib_refusal
if [ -n "${LORICA_TEST_TORCH_SITE:-}" ]; then step torch-lib-cuda check_torch_lib_cuda; fi

echo
echo "== summary (clean Debian 12 root, $(in_root dpkg-query -W -f='${Package} ${Version}' lorica 2>/dev/null || echo 'lorica not installed'))"
printf '%s\n' "${results[@]}"
echo "package: $debname  $(stat -c %s "$deb") bytes ($(du -h "$deb" | cut -f1)); installed size: $(in_root dpkg-query -W -f='${Installed-Size}' lorica 2>/dev/null || echo '?') KiB"
exit $failed
