#!/usr/bin/env bash
# Lorica set-up on a fresh Debian 12 machine: system packages, LibTorch (from the PyPI torch wheel, in a
# virtual environment outside the checkout, reused while its version matches), then configure and build.
#
#   ./scripts/setup.sh            # packages + LibTorch + build (preset "release")
#   ./scripts/setup.sh --deps     # packages + LibTorch only
#   LORICA_PRESET=debug ./scripts/setup.sh
#
# Environment: LORICA_CACHE (default ~/.cache/lorica) holds the venv; LORICA_TORCH_VERSION pins torch.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${LORICA_CACHE:-$HOME/.cache/lorica}
torch_version=${LORICA_TORCH_VERSION:-2.11.0}
preset=${LORICA_PRESET:-release}
venv="$cache/venv-torch-$torch_version"

packages=(cmake ninja-build g++ ccache pkg-config python3 python3-venv python3-pip
  qt6-base-dev libqcustomplot-dev libqcustomplot2.1-qt6 libspdlog-dev libsqlite3-dev sqlite3
  nlohmann-json3-dev libcli11-dev libgtest-dev zlib1g-dev libpng-dev libjpeg-dev
  qt6-svg-dev xvfb xauth libgl-dev dataset-fashion-mnist wordnet-base libopenblas0-openmp clang-format
  slurm-wlm munge)  # slurm-wlm, munge: the single-node cluster of the ctest label `slurm` (tests/slurm/)

# Each phase's wall time, printed at the end (a fresh 2-core machine should finish in ≤ 15 minutes).
phase_names=(); phase_seconds=(); phase_start=$SECONDS
end_phase() { if ((${#phase_names[@]})); then phase_seconds+=($((SECONDS - phase_start))); fi; phase_start=$SECONDS; }
step() { end_phase; phase_names+=("$1"); printf '\n== %s\n' "$*"; }
print_phase_times() {
  end_phase
  printf '\nset-up time:'
  for i in "${!phase_names[@]}"; do printf ' %s %ds,' "${phase_names[$i]%% (*}" "${phase_seconds[$i]}"; done
  printf ' total %dm%02ds\n' $((SECONDS / 60)) $((SECONDS % 60))
}

step "system packages"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "all present"
fi

step "LibTorch $torch_version (PyPI torch wheel) in $venv"
have=$("$venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [ "$have" != "$torch_version" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "torch==$torch_version"
else
  echo "reusing torch $have"
fi
step "Python interop packages (timm, PEFT, NLTK) in $venv, for tests/interop"
interop_packages=("timm==1.0.31" "peft==0.21.2" "nltk==3.10.4")
if "$venv/bin/python" -c 'import timm, peft, safetensors, nltk' 2>/dev/null; then
  echo "present"
# torch stays pinned: without it pip upgrades the wheel LibTorch is built from (and the next set-up
# would see another version and start over).
elif "$venv/bin/python" -m pip install -q "torch==$torch_version" "${interop_packages[@]}"; then
  echo "installed ${interop_packages[*]}"
else
  echo "SKIP: could not install ${interop_packages[*]}: the interop tests (interop.timm_peft, interop.wordnet_nltk) will be skipped"
fi
torch_prefix=$("$venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
echo "$torch_prefix" > "$here/.torch-prefix"
echo "CMAKE_PREFIX_PATH for Torch: $torch_prefix"

if [ "${1:-}" = "--deps" ]; then print_phase_times; exit 0; fi

step "configure and build (preset $preset)"
cd "$here"
cmake --preset "$preset" -DCMAKE_PREFIX_PATH="$torch_prefix"
cmake --build --preset "$preset"
echo
echo "built: $here/build/lorica-cli"
print_phase_times
