#!/usr/bin/env python3
"""Probe 5: reminders under kill -9 of the real `planbot run` process.

usage: PROJECT/.venv/bin/python p5_reminder_crash.py PROJECT_DIR [--chats 300] [--kills 35]
       [--max-delay 3.0] [--work /tmp/probes/p5]

What it does (no clock freezing: `planbot run` has no clock hook, so the reminders are made due
*now* through the settings): a database with the sample plans plus a synthetic plan whose 60
tasks are due "Trước ngày <tomorrow>" (their last day is today, so the 1-day task reminder is
due today); PLANBOT_REPORT_DAY=<tomorrow's day> and PLANBOT_REMINDER_DAYS=1 make the monthly
report reminder due today too. --chats private chats are subscribed through
reminders.storage (created yesterday). The bot is started against the project's Bot API
emulator (tests/emulator/launcher.js); its start-up catch-up job sends what is due. Each round:
start `planbot run`, wait until it sends its first reminder message (emulator request counter),
wait a random 0..--max-delay seconds, SIGKILL it. After --kills rounds, one last clean run
drains what is left (SIGTERM once the sends stop). Then, for every chat, every delivered text is
read back from the emulator and each reminder key (the monthly report + each task, identified
by its unique text) is counted: lost = 0 deliveries, doubled = more than 1, doubled_unmarked = more
than 1 not marked "Gửi lại" (a resend after an interruption); at most one marked resend per kill.
Must run on a working day inside the quiet hours (07:30-17:30 Asia/Ho_Chi_Minh) unless
--quiet-end/--quiet-start widen them (they are passed to the bot as settings).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("--chats", type=int, default=300)
ap.add_argument("--kills", type=int, default=35)
ap.add_argument("--max-delay", type=float, default=3.0)
ap.add_argument("--work", default="/tmp/probes/p5")
ap.add_argument("--seed", type=int, default=5)
ap.add_argument("--quiet-start", default="00:00")
ap.add_argument("--quiet-end", default="23:59")
args = ap.parse_args()

PROJECT = Path(args.project).resolve()
sys.path.insert(0, str(PROJECT))
from reminders import storage  # noqa: E402
from reminders.model import Subscription  # noqa: E402
from store.database import Store  # noqa: E402
from tests.emulator.harness import EmulatorServer, _post_sync  # noqa: E402

PLANBOT = str(PROJECT / ".venv" / "bin" / "planbot")
WORK = Path(args.work)
if WORK.exists():
    shutil.rmtree(WORK)
WORK.mkdir(parents=True)
rng = random.Random(args.seed)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
now = datetime.now(TZ)
if now.weekday() >= 5:
    sys.exit(
        "today is not a working day in Vietnam: the policy defers every reminder; run on Mon-Fri"
    )
tomorrow = (now + timedelta(days=1)).date()
if tomorrow.month != now.month:
    sys.exit(
        "today is the last day of a month: the monthly-report trick needs tomorrow in the same month"
    )

# -- database ----------------------------------------------------------------------------------
rows = ["STT\tNội dung nhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành"]
for i in range(1, 61):
    rows.append(
        f"{i}\tNhiệm vụ thử số {i:03d}: rà soát và báo cáo kết quả thực hiện đợt {i:03d}\tSở Nội vụ\tSở Tài chính\t"
        f"Trước ngày {tomorrow:%d/%m/%Y}"
    )
plan = (
    f"UBND TỈNH THỬ NGHIỆM\n\nSố: 999/KH-UBND\n\nThử Nghiệm, ngày 01 tháng {now.month} năm {now.year}\n\nKẾ HOẠCH\n"
    f"Thử nghiệm nhắc việc năm {now.year}\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n1. Bảo đảm các nhiệm vụ được thực hiện đúng hạn.\n\n"
    "II. TỔ CHỨC THỰC HIỆN\n\n1. Sở Nội vụ chủ trì, theo dõi, đôn đốc thực hiện Kế hoạch.\n\nPHỤ LỤC\n\n"
    + "\n".join(rows)
    + "\n"
)
(WORK / "plans").mkdir()
(WORK / "plans" / "reminder_plan.txt").write_text(plan, encoding="utf-8")
db = WORK / "bot.db"
env = {**os.environ, "HF_HUB_OFFLINE": "1"}
subprocess.run(
    [
        PLANBOT,
        "index",
        "--db",
        str(db),
        "--no-embed",
        str(PROJECT / "sample_plans"),
        str(WORK / "plans"),
    ],
    check=True,
    env=env,
    capture_output=True,
)
store = Store(db)
chat_ids = [7_000_000 + i for i in range(args.chats)]
for cid in chat_ids:
    storage.save_subscription(
        store.db,
        Subscription(chat_id=cid, created_at=now - timedelta(days=1), title=f"chat {cid}"),
        now,
    )
store.close()
TASK_RE = re.compile(r"Nhiệm vụ thử số (\d{3})")
MONTHLY_RE = re.compile(r"Báo cáo tháng \d{1,2}/\d{4}")

# -- emulator + bot ----------------------------------------------------------------------------
emu = EmulatorServer().start()
token = emu.new_token()
bot_env = {
    **env,
    "TELEGRAM_BOT_TOKEN": token,
    "TELEGRAM_API_BASE_URL": emu.base_url,
    "PLANBOT_DB": str(db),
    "PLANBOT_ADMIN_IDS": "999",
    "PLANBOT_REPORT_DAY": str(tomorrow.day),
    "PLANBOT_REMINDER_DAYS": "1",
    "PLANBOT_TASK_REMINDER_DAYS": "1",
    "PLANBOT_REMINDER_TIME": "00:01",  # today's reminders are already due, whatever the hour
    "PLANBOT_QUIET_START": args.quiet_start,
    "PLANBOT_QUIET_END": args.quiet_end,
    "PLANBOT_PLANS_DIR": str(WORK / "plans"),
}


def sends() -> int:
    return int(emu.state(token)["requests"].get("sendMessage", 0))


def start_bot(tag: str) -> tuple[subprocess.Popen, Path]:
    log = WORK / f"bot_{tag}.log"
    p = subprocess.Popen(
        [PLANBOT, "-v", "run"],
        env=bot_env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return p, log


rounds = []
try:
    for k in range(args.kills):
        before = sends()
        p, log = start_bot(f"{k:02d}")
        t0 = time.monotonic()
        started = False
        while time.monotonic() - t0 < 90 and p.poll() is None:
            if sends() > before:
                started = True
                break
            time.sleep(0.02)
        delay = rng.uniform(0, args.max_delay)
        if started:
            time.sleep(delay)
        alive = p.poll() is None
        if alive:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        after = sends()
        rounds.append(
            {
                "round": k,
                "sending_started": started,
                "killed_after_first_send_s": round(delay, 3) if started else None,
                "was_alive": alive,
                "messages_this_round": after - before,
            }
        )
        print(
            f"round {k + 1}/{args.kills}: started={started} delay={delay:.2f}s killed={alive} sent={after - before}",
            flush=True,
        )
        if not started:
            break  # nothing left to send
    # Final clean run: let the catch-up finish, then stop politely.
    before = sends()
    p, log = start_bot("final")
    last, quiet_since = sends(), time.monotonic()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        time.sleep(0.5)
        cur = sends()
        if cur != last:
            last, quiet_since = cur, time.monotonic()
        elif time.monotonic() - quiet_since > 15 and time.monotonic() - t0 > 40:
            break
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    rounds.append({"round": "final", "messages_this_round": sends() - before})
    print(f"final clean run sent {sends() - before}", flush=True)

    # -- count deliveries per (chat, key) --------------------------------------------------------
    per_key: Counter = Counter()
    unmarked_per_key: Counter = Counter()  # deliveries not marked as a resend after an interruption
    marked_messages = 0
    messages_per_chat: Counter = Counter()
    for cid in chat_ids:
        entries = _post_sync(
            emu.api_url + "/getUpdates", {"token": token, "chatId": cid, "after": 0}
        )
        for e in entries:
            if e["event"] != "message":
                continue
            text = e["message"].get("text", "")
            messages_per_chat[cid] += 1
            marked = "Gửi lại" in text
            marked_messages += marked
            keys = [f"task {n}" for n in TASK_RE.findall(text)] + (
                ["monthly"] if MONTHLY_RE.search(text) else []
            )
            for k in keys:
                per_key[(cid, k)] += 1
                unmarked_per_key[(cid, k)] += not marked
    expected = [(cid, f"task {i:03d}") for cid in chat_ids for i in range(1, 61)] + [
        (cid, "monthly") for cid in chat_ids
    ]
    lost = [k for k in expected if per_key[k] == 0]
    doubled = [k for k in expected if per_key[k] > 1]
    doubled_unmarked = [k for k in expected if unmarked_per_key[k] > 1]
    extra = [k for k in per_key if k not in set(expected)]
    st = Store(db)
    sent_rows = st.db.execute("SELECT count(*) FROM sent_reminders").fetchone()[0]
    st.close()
    logs = "\n".join(f.read_text(errors="replace") for f in sorted(WORK.glob("bot_*.log")))
    token_in_logs = token in logs
    errors_in_logs = [
        line for line in logs.splitlines() if " ERROR " in f" {line} " or line.startswith("ERROR")
    ][:10]
    summary = {
        "chats": len(chat_ids),
        "keys_expected": len(expected),
        "rounds_killed": sum(1 for r in rounds if r.get("was_alive")),
        "lost": len(lost),
        "doubled": len(doubled),
        "doubled_unmarked": len(doubled_unmarked),
        "marked_resent_messages": marked_messages,
        "unexpected_keys": len(extra),
        "max_deliveries_of_one_key": max(per_key.values()) if per_key else 0,
        "chats_with_doubles": len({c for c, _ in doubled}),
        "messages_delivered": sum(messages_per_chat.values()),
        "sent_reminders_rows": sent_rows,
        "token_in_bot_logs": token_in_logs,
        "error_lines_in_logs": errors_in_logs,
        "examples_doubled": [f"{c}:{k}x{per_key[(c, k)]}" for c, k in doubled[:10]],
        "examples_lost": [f"{c}:{k}" for c, k in lost[:10]],
        "rounds": rounds,
    }
    (WORK / "p5_result.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    print(
        json.dumps(
            {k: v for k, v in summary.items() if k != "rounds"}, ensure_ascii=False, indent=1
        )
    )
finally:
    emu.stop()
# A kill between Telegram accepting a message and the "sent" commit can only be repaired by a resend
# (the Bot API has no idempotency key); what is promised: nothing lost, no unmarked repeat, and at
# most one marked resend per kill.
sys.exit(
    1
    if (
        summary["lost"]
        or summary["doubled_unmarked"]
        or summary["marked_resent_messages"] > summary["rounds_killed"]
    )
    else 0
)
