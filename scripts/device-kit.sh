#!/usr/bin/env bash
# The Debian packages that build the engine, lorica-cli, the benches and the engine tests on the GPU
# machine (which has a compiler, CMake, ninja, CUDA and PyTorch, but reaches no package registry),
# downloaded here into .device-kit/ (ignored by git; a device call carries it: carry [".device-kit"]).
# bench/device/check.sh unpacks them there with `dpkg -x` into a prefix, never into /.
#
#   ./scripts/device-kit.sh          # downloads (again) and prints the kit's size
#
# Debian 12 (bookworm) packages, glibc 2.36: they run on any newer glibc (the GPU image is newer).
# Runtime libraries are included beside their -dev packages, since the GPU image may lack them.
# Fashion-MNIST (dataset-fashion-mnist, ~30 MB) is included for the default experiment and the tests.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
kit="$here/.device-kit"
packages=(
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9      # logging (spdlog uses the external fmt)
  nlohmann-json3-dev libcli11-dev                     # header-only: JSON, command line
  libsqlite3-dev libsqlite3-0                         # results store
  zlib1g-dev zlib1g libpng-dev libpng16-16             # IDX .gz, PNG
  libjpeg-dev libjpeg62-turbo-dev libjpeg62-turbo      # JPEG
  libgtest-dev                                        # GoogleTest (static libraries + CMake config)
  ninja-build                                         # in case the machine's ninja is missing
  dataset-fashion-mnist                               # the default experiment's data
)

rm -rf "$kit"
mkdir -p "$kit"
cd "$kit"
apt-get download "${packages[@]}" 2>&1 | grep -v -e "unsandboxed" -e "^Get:" || true
for f in *.deb; do [ "$f" = "${f//%3a/_}" ] || mv "$f" "${f//%3a/_}"; done  # epoch "1:" → "1_": plain file names
ls -1 *.deb > MANIFEST
[ "$(wc -l < MANIFEST)" -eq ${#packages[@]} ] || { echo "expected ${#packages[@]} packages, got $(wc -l < MANIFEST)" >&2; exit 1; }
bytes=$(du -cb *.deb | tail -1 | cut -f1)
printf '%s: %d packages, %.1f MiB\n' "$kit" "$(wc -l < MANIFEST)" "$(echo "$bytes / 1048576" | bc -l)"
if [ "$bytes" -gt $((50 * 1024 * 1024)) ]; then
  echo "device kit is over 50 MiB: the working tree and the carried kit must stay under 64 MiB together" >&2
  exit 1
fi
