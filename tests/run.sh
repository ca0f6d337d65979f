#!/usr/bin/env bash
# Runs every kiln test on every CPU-capable backend: ndarray, flex, wgpu (Mesa's software Vulkan)
# and tch (LibTorch 2.9.0 from the PyPI torch wheel), and multi-process DDP under Open MPI's
# mpirun. Installs what is missing first, so it works on a fresh Debian/Ubuntu machine with Rust,
# Python 3 and root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# wgpu on the CPU: Mesa's lavapipe Vulkan driver.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  echo "tests/run.sh: installing Mesa's software Vulkan (mesa-vulkan-drivers)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# Multi-process DDP: Open MPI (mpirun, and the headers rsmpi builds against) and libclang for
# rsmpi's bindings.
if ! dpkg -s openmpi-bin libopenmpi-dev libclang-dev >/dev/null 2>&1; then
  echo "tests/run.sh: installing Open MPI and libclang (openmpi-bin, libopenmpi-dev, libclang-dev)"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openmpi-bin libopenmpi-dev libclang-dev >/dev/null
fi

# tch: LibTorch from the torch==2.9.0 wheel, in a virtualenv kept in .venv/.
if ! .venv/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.9.0")' 2>/dev/null; then
  echo "tests/run.sh: installing torch==2.9.0 into .venv (LibTorch for the tch backend)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check torch==2.9.0
fi
export LIBTORCH_USE_PYTORCH=1
export PATH="$PWD/.venv/bin:$PATH"
torch_lib="$(.venv/bin/python -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Software Vulkan only: never pick a real GPU driver by accident.
export VK_ICD_FILENAMES="$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n1)"
# Mesa warns without a runtime directory (CI containers have none).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

features="kiln-train/wgpu,kiln-train/tch,kiln-train/mpi,kiln-cli/wgpu,kiln-cli/tch,kiln-cli/mpi"
cargo test --release --workspace --features "$features" "$@"
