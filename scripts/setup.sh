#!/usr/bin/env bash
# Set up rnnkit in ./.venv: PyTorch first (pinned), then rnnkit and its dependencies.
#
# Installing torch before anything else matters: rnnkit (and Lightning) ask for a torch *range*;
# when no torch is installed, pip resolves that range to the newest build, which on Linux is a
# CUDA build of several GB. Installing the pinned version first makes every later requirement
# already satisfied.
#
#   RNNKIT_TORCH        torch requirement to install (default: torch==2.13.0)
#   RNNKIT_TORCH_INDEX  pip index to take torch from, e.g. https://download.pytorch.org/whl/cpu
#                       for a CPU-only build, or .../whl/cu128 for a specific CUDA build
#   PYTHON              interpreter used to create the venv (default: python3, needs >= 3.10)
#
# Safe to run again: an existing .venv and an installed torch are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
torch_req=${RNNKIT_TORCH:-torch==2.13.0}

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    echo "setup: installing $torch_req"
    if [ -n "${RNNKIT_TORCH_INDEX:-}" ]; then
        "${pip[@]}" install --index-url "$RNNKIT_TORCH_INDEX" "$torch_req"
    else
        "${pip[@]}" install "$torch_req"
    fi
fi
echo "setup: installing rnnkit and its dependencies"
"${pip[@]}" install -e ".[dev]"
.venv/bin/python -c "import torch, rnnkit; print(f'setup: rnnkit {rnnkit.__version__}, torch {torch.__version__}, ready in .venv')"
