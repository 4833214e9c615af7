#!/usr/bin/env python3
"""Probe 3: hostile and odd questions through `planbot ask --json -`, and the bot's HTML.

usage: p3_questions.py PROJECT_DIR DB [--n 2400] [--work /tmp/probes/p3] [--seed 3]

DB: an index of the sample plans (e.g. `planbot index --db DB sample_plans`).
Part A (CLI): every generated question, one per line, through `planbot ask --db DB --json -`.
A crash stops the CLI's loop, so the driver restarts it after the crashing line and records the
traceback: crashes = questions whose line got no JSON answer. Part B (bot formatting): the same
questions in-process, through the exact functions the bot uses for a private text message
(`bot.questions.question_text` normalisation, `KnowledgeBase.ask(limit=30)`, `answer_listing`,
`paginate`, `page_keyboard`, `choice_html`/`choice_keyboard` when agencies are ambiguous). Each
message is checked with a port of Telegram's HTML entity parser (the one in
tests/emulator/launcher.js): unsupported/unbalanced tags = "can't parse entities"; text longer
than 4096 UTF-16 units or empty after parsing; callback_data over 64 bytes. A question also
fails Part B if any of these functions raises. Writes WORK/p3_result.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("db")
ap.add_argument("--n", type=int, default=2400)
ap.add_argument("--work", default="/tmp/probes/p3")
ap.add_argument("--seed", type=int, default=3)
ap.add_argument("--skip-cli", action="store_true")
ap.add_argument("--skip-bot", action="store_true")
args = ap.parse_args()

PROJECT = Path(args.project).resolve()
PLANBOT = str(PROJECT / ".venv" / "bin" / "planbot")
PY = str(PROJECT / ".venv" / "bin" / "python")
WORK = Path(args.work)
WORK.mkdir(parents=True, exist_ok=True)
rng = random.Random(args.seed)
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONIOENCODING": "utf-8"}

seed_qs = []
for f in (PROJECT / "tests" / "data").glob("*.jsonl"):
    for line in f.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seed_qs.append(json.loads(line)["q"])
seed_qs += [
    "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
    "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?",
    "Nhiệm vụ nào phải xong trước 01/7/2025?",
    "Báo cáo định kỳ gửi khi nào?",
    "Sở Y tế phải làm gì trong quý IV năm 2025?",
    "UBND các huyện phối hợp những việc gì?",
    "hạn chót tháng 6/2025",
    "so noi vu chu tri viec gi",
]

FIXED = [
    "",
    " ",
    "\t",
    "?",
    "??????",
    ".",
    "a",
    "0",
    "1/1/1",
    "…",
    "x" * 10000,
    ("Sở Nội vụ chịu trách nhiệm gì? " * 400)[:10000],
    ("ạ" * 10000),
    ("<b>" * 3000),
    ("&" * 10000),
    ("\u200b" * 5000) + "Sở Nội vụ",
    ("Ai chủ trì " * 1000),
    "😀",
    "😀😀😀😀",
    "🇻🇳🇻🇳",
    "👍",
    "🔥" * 200,
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    '" OR 1=1 --',
    "' OR '1'='1",
    "'; DROP TABLE plans; --",
    '" OR 1=1 --',
    "NEAR(",
    "NEAR(a b",
    "NEAR(Sở Nội vụ, 3)",
    "*",
    "**",
    "a*",
    "*a",
    "a AND",
    "AND",
    "OR",
    "NOT",
    "a OR",
    "NOT a",
    "a NOT b",
    "(",
    ")",
    "((((",
    "))))",
    '"',
    '"""',
    '"unbalanced',
    'Sở "Nội vụ',
    "Sở 'Nội vụ",
    "^Sở",
    "body:Sở",
    "items_fts:noi",
    "{a b}:c",
    "a + b",
    "-a",
    "a:*",
    "rowid=1",
    'Sở Nội vụ" OR "1',
    "Sở Nội vụ* AND NOT y tế",
    "' UNION SELECT token FROM x --",
    "%",
    "_",
    "\\",
    "\\\\",
    "\x00",
    "a\x00b",
    "<b>",
    "</b>",
    "<i>Sở Nội vụ</i>",
    "&",
    "&amp;",
    "&lt;",
    "&#60;",
    "&#x3C;",
    "&nbsp;",
    "&unknown;",
    "<script>alert(1)</script>",
    '<a href="http://evil">x</a>',
    "<pre>",
    "<tg-spoiler>",
    "a < b",
    "a > b",
    "x<y&z",
    "Sở <b>Nội vụ</b> chủ trì gì?",
    "Sở Nội vụ & Sở Y tế",
    "Sở Nội vụ <3",
    "<Sở Nội vụ>",
    "1 < 2 & 3 > 2",
    "</code></pre>",
    "\u200bSở\u200b Nội\u200b vụ\u200b",
    "S\u200co\u200d",
    "\u2060Sở Nội vụ",
    "\ufeffSở Nội vụ chịu trách nhiệm gì",
    "\u202eụv iộN ởS",
    "\u202eSở Nội vụ\u202c chịu trách nhiệm gì?",
    "\u200fSở Nội vụ",
    "مرحبا",
    "שלום Sở Nội vụ",
    "مرحبا Sở Y tế phải làm gì?",
    unicodedata.normalize("NFD", "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"),
    unicodedata.normalize("NFD", "Nhiệm vụ nào phải hoàn thành trước 01/7/2025?"),
    unicodedata.normalize("NFKD", "Báo cáo định kỳ gửi khi nào?"),
    "What are the duties of Sở Nội vụ?",
    "Sở Nội vụ 的任务是什么?",
    "Sở Y tế は何をしますか",
    "Sở Nội vụ responsibilities deadline when",
    "SỞ NỘI VỤ CHỊU TRÁCH NHIỆM GÌ",
    "sở nội vụ",
    "SO NOI VU",
    "soNoiVu",
    "Sở  Nội   vụ",
    "Sở\tNội\tvụ",
    "Nhiệm vụ trước 31/02/2025?",
    "trước 99/99/9999",
    "trước 00/00/0000",
    "quý V năm 2025",
    "quý 0 năm 2025",
    "tháng 13/2025",
    "năm 0",
    "năm 99999",
    "trước ngày 1/1/10000000000000000000",
    "trong tháng 2/2024 và 30/2/2024",
    "hạn chót quý IV năm 1899",
    "việc đến hạn từ 01/01/2025 đến 01/01/2024",
    "trước 1/1/1",
    "trước ngày 29/02/2023",
    "sau 31/12/9999",
    "/start",
    "/help",
    "/nhiemvu",
    "/reindex",
    "@TestNameBot",
    "@TestNameBot @TestNameBot",
    "Sở",
    "Sở Sở Sở Sở Sở Sở Sở Sở Sở Sở",
    "UBND",
    "các sở",
    "các sở, ngành, địa phương",
    "Ban",
    "Phòng",
    "Sở Nội vụ " * 60,
    ("Sở Y tế, " * 50) + "chịu trách nhiệm gì?",
]

NOISE = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u202e",
    "\u202c",
    "\u2066",
    "\u00a0",
    "\u3000",
    "\u0301",
    "\u0323",
    "😀",
    "<",
    ">",
    "&",
    '"',
    "'",
    "*",
    "(",
    ")",
    ":",
    "^",
    "-",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "\\",
    "%",
    "_",
    "\x01",
    "\x1b",
    "\x7f",
    "\u2028",
    "ع",
    "中",
]


def mutate(q: str) -> str:
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        if op == 0:
            at = rng.randrange(len(q) + 1)
            q = q[:at] + rng.choice(NOISE) + q[at:]
        elif op == 1:
            q = unicodedata.normalize("NFD", q)
        elif op == 2:
            q = q.upper() if rng.random() < 0.5 else q.lower()
        elif op == 3:
            q = "".join(c for c in unicodedata.normalize("NFD", q) if not unicodedata.combining(c))
        elif op == 4:
            q = q[: rng.randrange(len(q) + 1)]
        elif op == 5:
            q = " ".join(rng.choice(NOISE) + w if rng.random() < 0.3 else w for w in q.split(" "))
        elif op == 6:
            q = q + " " + rng.choice(FIXED[20:140])
        elif op == 7:
            q = "\u202e" + q[::-1]
        elif op == 8:
            q = q * rng.randint(2, 30)
    return q


questions = list(FIXED)
while len(questions) < args.n:
    questions.append(mutate(rng.choice(seed_qs + FIXED)))
# One question per line: newlines (and what Python's universal newlines would split on) are folded.
for_cli = [q.replace("\r", " ").replace("\n", " ") for q in questions]
(WORK / "questions.txt").write_text("\n".join(for_cli) + "\n", encoding="utf-8")
(WORK / "questions.json").write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
result: dict = {"questions": len(questions)}

# ---------------------------------------------------------------------------------------------
# Part A: the CLI
if not args.skip_cli:
    answers: list[dict | None] = [None] * len(for_cli)
    crashes = []
    start = 0
    restarts = 0
    while start < len(for_cli):
        chunk = for_cli[start:]
        p = subprocess.run(
            [PLANBOT, "ask", "--db", args.db, "--json", "-"],
            input=("\n".join(chunk) + "\n").encode("utf-8"),
            capture_output=True,
            env=ENV,
            timeout=3600,
        )
        out_lines = [
            line for line in p.stdout.decode("utf-8", "replace").split("\n") if line.strip()
        ]
        for i, line in enumerate(out_lines):
            try:
                answers[start + i] = json.loads(line)
            except json.JSONDecodeError:
                answers[start + i] = {"_unparseable_output": line[:200]}
        done = len(out_lines)
        if p.returncode == 0 and done >= len(chunk):
            break
        bad = start + done
        err = p.stderr.decode("utf-8", "replace")
        crashes.append(
            {
                "index": bad,
                "question": for_cli[bad][:300],
                "rc": p.returncode,
                "stderr_tail": err[-2500:],
                "last_line": (err.strip().splitlines() or [""])[-1],
            }
        )
        print(
            f"CLI crash at question {bad}: {for_cli[bad][:80]!r} -> {crashes[-1]['last_line'][:200]}",
            flush=True,
        )
        start = bad + 1
        restarts += 1
    unparseable = sum(1 for a in answers if a and "_unparseable_output" in a)
    missing = sum(1 for a in answers if a is None)
    distinct = {}
    for c in crashes:
        distinct.setdefault(c["last_line"], []).append(c["index"])
    lt_amp_in_answer = sum(
        1 for a in answers if a and ("<" in a.get("answer", "") or "&" in a.get("answer", ""))
    )
    result["cli"] = {
        "tried": len(for_cli),
        "crashed": len(crashes),
        "unparseable_output_lines": unparseable,
        "missing": missing,
        "restarts": restarts,
        "distinct_crashes": {k: v[:10] for k, v in distinct.items()},
        "crashes": crashes[:20],
        "answers_with_raw_lt_or_amp_in_plain_answer_field": lt_amp_in_answer,
    }
    print(f"CLI: tried={len(for_cli)} crashed={len(crashes)} unparseable={unparseable}", flush=True)

# ---------------------------------------------------------------------------------------------
# Part B: the bot's formatting of the same questions
BOT_CHECK = r"""
import json, re, sys, traceback, os
from datetime import date
sys.path.insert(0, os.getcwd())
from indexer.settings import load_settings
from store.database import Store
from encoders.embedder import load_embedder
from answering.knowledge_base import KnowledgeBase
from bot.render.listings import answer_listing
from bot.render.pages import paginate, page_keyboard, choice_html, choice_keyboard
from bot.questions import question_text, ASK_LIMIT
from telegram_html import text_problems  # copied beside this script

def check_message(text, markup):
    problems = text_problems(text)
    if markup is not None:
        for row in markup.inline_keyboard:
            for b in row:
                if b.callback_data is not None and len(str(b.callback_data).encode("utf-8")) > 64:
                    problems.append(f"callback_data > 64 bytes: {b.callback_data!r}")
                if not b.text.strip():
                    problems.append("button text empty")
    return problems

settings = load_settings()
store = Store(sys.argv[1], create=False)
kb = KnowledgeBase(store, load_embedder(settings.model))
questions = json.load(open(sys.argv[2], encoding="utf-8"))
today = date(2025, 6, 20)
res = {"tried": 0, "failed": 0, "exceptions": {}, "html_problems": {}, "examples": []}
class FakeMessage:  # what question_text reads
    def __init__(self, text): self.text = text
for n, q in enumerate(questions):
    res["tried"] += 1
    problems = []
    try:
        text = question_text(FakeMessage(q), "TestNameBot")
        answer = kb.ask(text, limit=ASK_LIMIT, today=today)
        if answer.candidates:
            problems += check_message(choice_html(answer.candidates), choice_keyboard("abcd1234", answer.candidates))
        listing = answer_listing(answer)
        pages = paginate(listing)
        for page in pages:
            problems += check_message(page.text, page_keyboard("abcd1234", page, answer.intent != "invalid"))
    except Exception as exc:
        tb = traceback.format_exc()
        key = f"{type(exc).__name__}: {str(exc)[:120]}"
        d = res["exceptions"].setdefault(key, {"count": 0, "first_question": q[:300], "traceback": tb[-2500:]})
        d["count"] += 1
        problems.append("exception " + key)
    if problems:
        res["failed"] += 1
        for p in problems:
            k = p.split(":")[0] + ":" + p.split(":")[1][:40] if ":" in p else p
            d = res["html_problems"].setdefault(k, {"count": 0, "first_question": q[:300], "detail": p[:300]})
            d["count"] += 1
    if n % 500 == 499:
        print(f"bot formatting {n + 1}/{len(questions)} failed={res['failed']}", file=sys.stderr, flush=True)
print(json.dumps(res, ensure_ascii=False))
"""
if not args.skip_bot:
    (WORK / "bot_check.py").write_text(BOT_CHECK, encoding="utf-8")
    shutil.copy(Path(__file__).with_name("telegram_html.py"), WORK / "telegram_html.py")
    p = subprocess.run(
        [PY, str(WORK / "bot_check.py"), args.db, str(WORK / "questions.json")],
        capture_output=True,
        env=ENV,
        cwd=str(PROJECT),
        timeout=7200,
    )
    try:
        result["bot"] = json.loads(p.stdout.decode("utf-8").strip().splitlines()[-1])
    except Exception:  # noqa: BLE001
        result["bot"] = {"error": p.stderr.decode("utf-8", "replace")[-3000:]}
    print(
        "BOT:",
        json.dumps({k: v for k, v in result["bot"].items() if k != "examples"}, ensure_ascii=False)[
            :3000
        ],
    )

(WORK / "p3_result.json").write_text(
    json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
)
failed = result.get("cli", {}).get("crashed", 0) + result.get("bot", {}).get("failed", 0)
sys.exit(1 if failed else 0)
