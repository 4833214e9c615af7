#!/usr/bin/env bash
# The main job on the bundled sample plans: set up, index, answer questions, show the bot.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
planbot index sample_plans
planbot plans
echo; echo '$ planbot ask "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"'
planbot ask "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"
echo; echo '$ planbot ask "Nhiệm vụ nào phải xong trước 01/7/2025?"'
planbot ask "Nhiệm vụ nào phải xong trước 01/7/2025?"
echo; echo '$ planbot remind --dry-run --on 2021-04-07T08:00'
planbot remind --dry-run --on 2021-04-07T08:00 || true
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  exec planbot run
fi
echo; echo "Không có TELEGRAM_BOT_TOKEN: trò chuyện thử qua cùng các handler của bot (console):"
planbot chat "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?" "/baocao" "/nhiemvu so noi vu" || true
