#!/usr/bin/env python3
"""Probe 3b: HTML/Telegram markup inside plan *content* (title, headings, task cells, agency
names, notes) must come out escaped in every bot message built from it.

usage: PROJECT/.venv/bin/python p3b_markup_in_plans.py PROJECT_DIR [--work /tmp/probes/p3b]

Indexes a synthetic plan full of markup ("<script>", "<b>", "&", "x<y", "&#x3C;", "<a href>")
plus the sample plans (--no-embed), then renders answers (answer_listing/paginate), /nhiemvu,
/baocao, /plans, /help, "Xem nguyên văn" and a reminder digest (reminders.render.render)
and checks each message with the Telegram HTML entity parser port used in p3.
"""

import argparse
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("--work", default="/tmp/probes/p3b")
args = ap.parse_args()
P = Path(args.project).resolve()
W = Path(args.work)
W.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(P))
rows = [
    "STT\tNội dung nhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành\tGhi chú",
    "1\tRà soát <script>alert(1)</script> & cập nhật <b>dữ liệu</b> x<y\tSở Nội vụ & <i>Sở Tư pháp</i>\tSở <Tài chính>\tTrước ngày 03/12/2026\t<a href='x'>ghi chú</a> &amp; &#x3C;",
    "2\tBáo cáo định kỳ hằng tháng <tg-spoiler> trước ngày 10 của tháng kế tiếp\tPhòng <b>Y tế\tUBND & HĐND\tTrước ngày 03/12/2026\t",
]
plan = (
    "UBND TỈNH <b>THỬ</b> & NGHIỆM\n\nSố: 998/KH-UBND\n\nThử Nghiệm, ngày 01 tháng 11 năm 2026\n\nKẾ HOẠCH\n"
    "Thử <i>nghiệm</i> & kiểm tra <script> năm 2026\n\nI. MỤC ĐÍCH, YÊU CẦU & <b>YÊU</b>\n\n"
    "1. Sở Nội vụ chủ trì, phối hợp với Sở <Tài chính> & Sở Y tế rà soát <b>hồ sơ</b>, hoàn thành trước ngày 03/12/2026.\n\n"
    "2. Định kỳ hằng tháng, Sở Y tế báo cáo UBND tỉnh <kết quả> trước ngày 10 của tháng kế tiếp.\n\nPHỤ LỤC\n\n"
    + "\n".join(rows)
    + "\n"
)
(W / "html_plan.txt").write_text(plan, encoding="utf-8")
db = W / "h.db"
for s in ("", "-wal", "-shm"):
    Path(str(db) + s).unlink(missing_ok=True)
subprocess.run(
    [
        str(P / ".venv/bin/planbot"),
        "index",
        "--db",
        str(db),
        "--no-embed",
        str(W / "html_plan.txt"),
        str(P / "sample_plans"),
    ],
    check=True,
    capture_output=True,
    env={**os.environ, "HF_HUB_OFFLINE": "1"},
)
from telegram_html import text_problems  # noqa: E402 (beside this script)

from answering.knowledge_base import KnowledgeBase  # noqa: E402
from bot.render.listings import answer_listing, duties_listing, reporting_listing  # noqa: E402
from bot.render.messages import help_parts, plans_parts, source_messages  # noqa: E402
from bot.render.pages import paginate  # noqa: E402
from indexer.settings import load_settings  # noqa: E402
from knowledge.telegram_text import split_messages  # noqa: E402
from reminders import storage  # noqa: E402
from reminders.due import due_now  # noqa: E402
from reminders.model import Policy, Subscription  # noqa: E402
from reminders.render import render  # noqa: E402
from store.database import Store  # noqa: E402

store = Store(db)
kb = KnowledgeBase(store, None)
today = date(2026, 12, 2)
msgs = []
for q in [
    "Sở Nội vụ chịu trách nhiệm gì?",
    "Ai chủ trì rà soát hồ sơ?",
    "Nhiệm vụ nào trước 31/12/2026?",
    "Báo cáo định kỳ gửi khi nào?",
    "Phòng Y tế làm gì",
    "UBND & HĐND làm gì",
]:
    msgs += [p.text for p in paginate(answer_listing(kb.ask(q, limit=30, today=today)))]
msgs += [p.text for p in paginate(duties_listing("Sở Nội vụ", kb.duties("Sở Nội vụ"), today))]
msgs += [p.text for p in paginate(reporting_listing(kb.reporting(None)))]
msgs += split_messages(plans_parts(kb.plans())) + split_messages(help_parts(kb.plans(), True))
for r in kb.duties("Sở Nội vụ")[:5]:
    msgs += source_messages(r)
tz = ZoneInfo("Asia/Ho_Chi_Minh")
now = datetime(2026, 12, 2, 9, 0, tzinfo=tz)
policy = Policy.from_settings(
    replace(load_settings(env={}, dotenv=False), report_day=3, reminder_days_before=(1,))
)
know = storage.load_knowledge(store.db)
sub = Subscription(chat_id=1, created_at=now - timedelta(days=1))
msgs += [o.text for o in render(due_now(sub, know, policy, now), sub, know)]
bad = 0
for m in msgs:
    problems = text_problems(m)
    if problems:
        bad += 1
        print("BAD:", problems[0], repr(m[:300]))
print(f"messages checked: {len(msgs)}, bad: {bad}")
sys.exit(1 if bad else 0)
