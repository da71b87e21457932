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

new_enough='import sys; sys.exit(sys.version_info < (3, 10))'
if [ ! -x .venv/bin/python ]; then
    if ! "$python" -c "$new_enough" 2>/dev/null; then
        echo "setup: rnnkit needs Python >= 3.10; $python is $("$python" -V 2>&1)." \
             "Set PYTHON=/path/to/python3.1x" >&2
        exit 1
    fi
    "$python" -m venv .venv
elif ! .venv/bin/python -c "$new_enough"; then
    echo "setup: .venv uses $(.venv/bin/python -V 2>&1); rnnkit needs >= 3.10." \
         "Remove .venv and run again (PYTHON=... chooses the interpreter)" >&2
    exit 1
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch >= 2.4 present (CPU or CUDA): keep it. Otherwise install the pinned build now, before
# anything else can resolve torch to the newest (CUDA) release.
torch_ok='import sys, torch; v = torch.__version__.split("+")[0].split("."); sys.exit((int(v[0]), int(v[1])) < (2, 4))'
if ! .venv/bin/python -c "$torch_ok" 2>/dev/null; then
    echo "setup: installing $torch_req"
    if [ -n "${RNNKIT_TORCH_INDEX:-}" ]; then
        "${pip[@]}" install --index-url "$RNNKIT_TORCH_INDEX" "$torch_req"
    else
        "${pip[@]}" install "$torch_req"
    fi
fi
echo "setup: installing rnnkit and its dependencies"
"${pip[@]}" install -e ".[dev,export]"
.venv/bin/python -c "import torch, rnnkit; print(f'setup: rnnkit {rnnkit.__version__}, torch {torch.__version__}, ready in .venv')"
