#!/usr/bin/env python3
"""Probe 6: 20 users asking while the corpus is reindexed (bot /reindex and `planbot index --force`).

usage: PROJECT/.venv/bin/python p6_concurrency.py PROJECT_DIR DB [--users 20] [--seconds 240]
       [--work /tmp/probes/p6]

DB: an index of the sample plans (copied). Two versions of the plans folder are prepared: A (the
sample plans) and B (each plan with one more clause assigning Sở Nội vụ a dated duty). The real
`planbot -v run` serves DB with PLANBOT_PLANS_DIR=F. During --seconds:
  * --users private users each send questions in a loop (wait for the reply, then the next):
    "/nhiemvu Sở Nội vụ" (its header "Sở Nội vụ: N nội dung trong P kế hoạch" is checked) and
    ordinary questions;
  * the admin flips F between A and B and sends /reindex (the bot's own worker thread), waiting
    for its result each time;
  * another process runs `planbot index --db DB --force --no-embed F` in a loop (a second writer).
Failures: a reply that is the generic error, no reply within 90 s, "database is locked"
anywhere (bot log, CLI stderr), an ERROR/Traceback in the bot log, a failed CLI run, a /reindex
that reports failures, and /nhiemvu headers "N nội dung trong P kế hoạch" whose (N, P) is not
that of some mix of whole plans (each plan wholly in version A or B): a half-written or
missing plan was visible. Writes WORK/p6_result.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("db")
ap.add_argument("--users", type=int, default=20)
ap.add_argument("--seconds", type=int, default=240)
ap.add_argument("--work", default="/tmp/probes/p6")
ap.add_argument("--seed", type=int, default=6)
args = ap.parse_args()
PROJECT = Path(args.project).resolve()
sys.path.insert(0, str(PROJECT))
from answering.knowledge_base import KnowledgeBase  # noqa: E402
from store.database import Store  # noqa: E402
from tests.emulator.harness import EmulatorServer  # noqa: E402

PLANBOT = str(PROJECT / ".venv" / "bin" / "planbot")
WORK = Path(args.work)
if WORK.exists():
    shutil.rmtree(WORK)
WORK.mkdir(parents=True)
rng = random.Random(args.seed)
ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}
SAMPLES = sorted((PROJECT / "sample_plans").glob("*.txt"))
GENERIC = "Xin lỗi, đã có lỗi khi xử lý yêu cầu"
ADMIN = 999

# -- versions A and B --------------------------------------------------------------------------
A, B, F = WORK / "A", WORK / "B", WORK / "F"
for d in (A, B, F):
    d.mkdir()
for s in SAMPLES:
    text = s.read_text(encoding="utf-8")
    (A / s.name).write_text(text, encoding="utf-8")
    lines = text.split("\n")
    at = next((j for j, line in enumerate(lines) if line.lstrip("#* ").startswith("II.")), 5)
    lines.insert(
        at + 1,
        "\n- Sở Nội vụ chủ trì rà soát bổ sung danh mục vị trí việc làm, hoàn thành trước ngày 15/12/2026.\n",
    )
    (B / s.name).write_text("\n".join(lines), encoding="utf-8")
    shutil.copy(A / s.name, F / s.name)

# Per-plan /nhiemvu counts for each version (what a whole plan contributes).
per_plan = {}
for tag, folder in (("A", A), ("B", B)):
    db = WORK / f"count_{tag}.db"
    subprocess.run(
        [PLANBOT, "index", "--db", str(db), "--no-embed", str(folder)],
        check=True,
        env=ENV,
        capture_output=True,
    )
    st = Store(db)
    kb = KnowledgeBase(st, None)
    counts: dict[str, int] = {}
    for r in kb.duties("Sở Nội vụ"):
        counts[r.plan.file] = counts.get(r.plan.file, 0) + 1
    per_plan[tag] = counts
    st.close()
files = sorted(set(per_plan["A"]) | set(per_plan["B"]))
# /nhiemvu says "N nội dung trong P kế hoạch": N = the agency's items, P = plans that have some.
# Every plan is either wholly A or wholly B: the valid (N, P) pairs are those of the 2^plans mixes.
valid_pairs = set()
for choice in itertools.product("AB", repeat=len(files)):
    counts = [per_plan[v].get(f, 0) for f, v in zip(files, choice, strict=True)]
    valid_pairs.add((sum(counts), sum(1 for c in counts if c)))
print(f"per-plan counts: {per_plan}; valid (N, P): {sorted(valid_pairs)}", flush=True)

DB = WORK / "bot.db"
shutil.copy(args.db, DB)
QUESTIONS = [
    "/nhiemvu Sở Nội vụ",
    "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
    "Nhiệm vụ nào phải xong trước 01/7/2025?",
    "Báo cáo định kỳ gửi khi nào?",
    "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?",
    "/hanchot quý IV/2025",
    "/baocao",
    "Sở Y tế phải làm gì?",
    "so noi vu chu tri viec gi",
    "/plans",
]


async def main() -> dict:
    emu = EmulatorServer().start()
    token = emu.new_token()
    log = WORK / "bot.log"
    env = {
        **ENV,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emu.base_url,
        "PLANBOT_DB": str(DB),
        "PLANBOT_ADMIN_IDS": str(ADMIN),
        "PLANBOT_PLANS_DIR": str(F),
    }
    bot = subprocess.Popen(
        [PLANBOT, "-v", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stats = {
        "questions": 0,
        "replies": 0,
        "generic_errors": 0,
        "timeouts": 0,
        "bad_headers": 0,
        "headers_checked": 0,
        "reindex_runs": 0,
        "reindex_failed_reports": 0,
        "cli_runs": 0,
        "cli_failed": 0,
        "locked_in_cli": 0,
        "examples": [],
    }
    try:
        t0 = time.monotonic()
        while emu.state(token)["requests"].get("getUpdates", 0) == 0:
            if bot.poll() is not None or time.monotonic() - t0 > 240:
                raise RuntimeError("bot did not start: " + log.read_text(errors="replace")[-2000:])
            await asyncio.sleep(0.3)
        end = time.monotonic() + args.seconds
        users = [
            emu.private_user(token, first_name=f"U{i}", user_id=20_000 + i)
            for i in range(args.users)
        ]
        admin = emu.private_user(token, first_name="Admin", user_id=ADMIN)

        async def user_loop(u, i):
            r = random.Random(i)
            while time.monotonic() < end:
                q = r.choice(QUESTIONS)
                stats["questions"] += 1
                if q.startswith("/"):
                    cmd, _, rest = q.partition(" ")
                    await u.send_command(cmd, rest)
                else:
                    await u.send_text(q)
                try:
                    [reply] = await u.wait_for_replies(1, timeout=90)
                except AssertionError:
                    stats["timeouts"] += 1
                    stats["examples"].append({"user": i, "q": q, "problem": "no reply in 90 s"})
                    continue
                stats["replies"] += 1
                text = reply.get("text", "")
                if GENERIC in text:
                    stats["generic_errors"] += 1
                    stats["examples"].append(
                        {"user": i, "q": q, "problem": "generic error", "text": text[:200]}
                    )
                if q == "/nhiemvu Sở Nội vụ":
                    m = re.search(r"Sở Nội vụ: (\d+) nội dung trong (\d+) kế hoạch", text)
                    if not m:
                        stats["unpaired_replies"] = stats.get("unpaired_replies", 0) + 1
                        continue
                    stats["headers_checked"] += 1
                    seen = (int(m.group(1)), int(m.group(2)))
                    stats.setdefault("headers_seen", {}).setdefault(f"{seen[0]} in {seen[1]}", 0)
                    stats["headers_seen"][f"{seen[0]} in {seen[1]}"] += 1
                    if seen not in valid_pairs:
                        stats["bad_headers"] += 1
                        stats["examples"].append(
                            {
                                "user": i,
                                "q": q,
                                "problem": "header not from whole plans",
                                "text": text[:200],
                            }
                        )

        async def admin_loop():
            version = "A"
            while time.monotonic() < end:
                version = "B" if version == "A" else "A"
                for s in SAMPLES:  # atomic flips: the CLI writer must never read a half-copied file
                    tmp = F / f".{s.name}.tmp"
                    shutil.copy((B if version == "B" else A) / s.name, tmp)
                    os.replace(tmp, F / s.name)
                await admin.send_command("/reindex")
                stats["reindex_runs"] += 1
                final = None
                t = time.monotonic()
                while time.monotonic() - t < 300:
                    try:
                        got = await admin.wait_for_replies(1, timeout=30)
                    except AssertionError:
                        continue
                    text = got[0].get("text", "")
                    if text.startswith("✅ Đã đọc lại") or text.startswith("❌") or GENERIC in text:
                        final = text
                        break
                if (
                    final is None
                    or not final.startswith("✅")
                    or not re.search(r", 0 lỗi\.", final.split("\n")[0])
                ):
                    stats["reindex_failed_reports"] += 1
                    stats["examples"].append(
                        {
                            "problem": "/reindex did not report success",
                            "text": (final or "no final message")[:300],
                        }
                    )
                await asyncio.sleep(1)

        async def cli_loop():
            while time.monotonic() < end:
                p = await asyncio.create_subprocess_exec(
                    PLANBOT,
                    "index",
                    "--db",
                    str(DB),
                    "--force",
                    "--no-embed",
                    str(F),
                    env=ENV,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await p.communicate()
                stats["cli_runs"] += 1
                if p.returncode != 0:
                    stats["cli_failed"] += 1
                    stats["examples"].append(
                        {
                            "problem": f"CLI reindex rc={p.returncode}",
                            "text": err.decode(errors="replace")[-400:],
                        }
                    )
                if b"database is locked" in err or b"database is locked" in out:
                    stats["locked_in_cli"] += 1
                await asyncio.sleep(rng.uniform(0, 2))

        await asyncio.gather(
            *(user_loop(u, i) for i, u in enumerate(users)), admin_loop(), cli_loop()
        )
    finally:
        if bot.poll() is None:
            os.killpg(bot.pid, signal.SIGTERM)
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(bot.pid, signal.SIGKILL)
        emu.stop()
    text = log.read_text(errors="replace")
    stats["locked_in_bot_log"] = text.count("database is locked")
    stats["error_lines_in_bot_log"] = [
        line for line in text.splitlines() if line.startswith("ERROR")
    ][:10]
    stats["tracebacks_in_bot_log"] = text.count("Traceback (most recent call last)")
    stats["token_in_bot_log"] = token in text
    tb = text.find("Traceback (most recent call last)")
    stats["first_traceback"] = text[tb : tb + 3000] if tb >= 0 else ""
    return stats


stats = asyncio.run(main())
stats["failed"] = (
    stats["generic_errors"]
    + stats["timeouts"]
    + stats["bad_headers"]
    + stats["reindex_failed_reports"]
    + stats["cli_failed"]
    + stats["locked_in_cli"]
    + (1 if stats["locked_in_bot_log"] else 0)
    + stats["tracebacks_in_bot_log"]
)
(WORK / "p6_result.json").write_text(
    json.dumps(stats, ensure_ascii=False, indent=2), encoding="utf-8"
)
print(
    json.dumps(
        {k: v for k, v in stats.items() if k not in ("examples", "first_traceback")},
        ensure_ascii=False,
        indent=1,
    )
)
for e in stats["examples"][:10]:
    print("EXAMPLE:", e)
if stats["first_traceback"]:
    print(stats["first_traceback"])
sys.exit(1 if stats["failed"] else 0)
