#!/usr/bin/env python3
"""Probe 4: the admin boundary of a running `planbot run`, and the bot token in its logs.

usage: PROJECT/.venv/bin/python p4_admin_boundary.py PROJECT_DIR DB [--work /tmp/probes/p4]

DB: an index of the sample plans (copied; the copy is what the bot uses). Starts the project's
Bot API emulator (tests/emulator/launcher.js through tests/emulator/harness.py) and the real
`planbot -v run` (PLANBOT_ADMIN_IDS=999), then, as users who are not bot admins (and, in a
group, not group admins), tries every privileged action: /reindex (private, group, @bot form),
sending plan files (private .txt/.docx/.pdf, in a group), pressing the "Nhập"/"Huỷ" buttons of
an admin's real upload preview with forged callback queries (same callback data, from another
user, in the admin's chat / own chat / a group), and changing a group's reminder subscription
(/nhacviec with and without arguments, /huynhac, every settings button nv:*). An attempt counts
as refused when the bot answered with its refusal (message or callback alert) AND nothing
changed (plans and index generation, subscription row, upload log shows no import). Controls:
the real admin can still import the previewed file; a group admin can subscribe.
Token: every byte the bot process wrote (stdout+stderr, -v) is searched for the token, in three
runs: normal traffic, the emulator killed under the bot (network errors), and a token the
server rejects at start-up. Writes WORK/p4_result.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("db")
ap.add_argument("--work", default="/tmp/probes/p4")
args = ap.parse_args()
PROJECT = Path(args.project).resolve()
sys.path.insert(0, str(PROJECT))
from tests.emulator.harness import EmulatorServer, _apost  # noqa: E402

PLANBOT = str(PROJECT / ".venv" / "bin" / "planbot")
WORK = Path(args.work)
if WORK.exists():
    shutil.rmtree(WORK)
WORK.mkdir(parents=True)
DB = WORK / "bot.db"
shutil.copy(args.db, DB)
ADMIN_ID, MALLORY_ID = 999, 4242
SAMPLE = sorted((PROJECT / "sample_plans").glob("*.txt"))[-1]
NEW_PLAN = (
    SAMPLE.read_text(encoding="utf-8").replace("KẾ HOẠCH", "KẾ HOẠCH", 1)
    + "\n\nGhi chú: bản tải lên thử.\n"
)


def db_state() -> dict:
    conn = sqlite3.connect(str(DB), timeout=30)
    try:
        return {
            "plans": conn.execute(
                "SELECT group_concat(file || ':' || content_hash, ',') FROM (SELECT * FROM plans ORDER BY id)"
            ).fetchone()[0],
            "generation": conn.execute("SELECT generation FROM index_state").fetchone()[0],
            "subs": conn.execute(
                "SELECT group_concat(chat_id || ':' || active || ':' || coalesce(agency,'') || ':' || coalesce(plan_file,'') || ':' || coalesce(report_days,'') || ':' || coalesce(task_days,'') || ':' || coalesce(remind_time,''), ';') FROM subscriptions"
            ).fetchone()[0],
            "uploads_imported": conn.execute(
                "SELECT count(*) FROM upload_log WHERE status IN ('indexed','unchanged')"
            ).fetchone()[0]
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name='upload_log'").fetchone()
            else 0,
        }
    finally:
        conn.close()


def start_bot(emu_base: str, token: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emu_base,
        "PLANBOT_DB": str(DB),
        "PLANBOT_ADMIN_IDS": str(ADMIN_ID),
        "PLANBOT_PLANS_DIR": str(PROJECT / "sample_plans"),
    }
    return subprocess.Popen(
        [PLANBOT, "-v", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def wait_polling(
    emu: EmulatorServer, token: str, p: subprocess.Popen, timeout: float = 180
) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if p.poll() is not None:
            raise RuntimeError("bot exited")
        try:
            if emu.state(token)["requests"].get("getUpdates", 0) > 0:
                return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.3)
    raise RuntimeError("bot never polled")


attempts: list[dict] = []
controls: list[dict] = []


async def main() -> None:
    emu = EmulatorServer().start()
    token = emu.new_token()
    log = WORK / "bot_normal.log"
    bot = start_bot(emu.base_url, token, log)
    try:
        wait_polling(emu, token, bot)
        emu.bot_user(token)  # the bot is known to the emulator
        admin = emu.private_user(token, first_name="Admin", user_id=ADMIN_ID)
        mallory = emu.private_user(token, first_name="Mallory", user_id=MALLORY_ID)
        group = emu.group_chat(token, title="Tổ công tác")
        an = group.member(first_name="An", user_id=5001)
        binh = group.member(first_name="Bình", user_id=5002)
        emu.set_chat_admins(group.id, [an.id], owner_id=an.id)

        def answers() -> list:
            return emu.state(token)["callback_answers"]

        async def replies(chat, n=1, timeout=20.0):
            try:
                return await chat.wait_for_replies(n, timeout=timeout)
            except AssertionError:
                return []

        async def attempt(
            label: str, action, chat, *, expect_reply: bool = True, reply_timeout: float = 20.0
        ):
            before = db_state()
            n_answers = len(answers())
            await action()
            got = await replies(chat, 1, reply_timeout) if expect_reply else []
            if not expect_reply:
                await asyncio.sleep(2.0)
                got = await replies(chat, 1, 1.0)
            await asyncio.sleep(0.5)
            new_answers = answers()[n_answers:]
            texts = [m.get("text", "") for m in got] + [a.get("text") or "" for a in new_answers]
            after = db_state()
            said_no = any("chỉ quản trị viên" in (t or "").lower() for t in texts)
            silent = not got and not any((a.get("text") or "") for a in new_answers)
            unchanged = before == after
            refused = unchanged and (said_no or (silent and not expect_reply))
            attempts.append(
                {
                    "attempt": label,
                    "refused": refused,
                    "said_no": said_no,
                    "silent": silent,
                    "state_unchanged": unchanged,
                    "bot_said": [t[:160] for t in texts][:3],
                    "state_before": before if not unchanged else None,
                    "state_after": after if not unchanged else None,
                }
            )
            print(
                f"{'REFUSED' if refused else 'NOT REFUSED'}: {label} -> {[t[:80] for t in texts][:2]} unchanged={unchanged}",
                flush=True,
            )
            return got

        # -- /reindex ----------------------------------------------------------------------------
        await attempt(
            "/reindex in private (non-admin)",
            lambda: mallory.send_command("/reindex"),
            mallory.chat,
        )
        await attempt(
            "/reindex@bot with args in private",
            lambda: mallory.send_command("/reindex", "--force", at_bot=True),
            mallory.chat,
        )
        await attempt(
            "/reindex@bot in a group (non-admin member)",
            lambda: binh.send_command("/reindex", at_bot=True),
            group,
        )
        await attempt(
            "/reindex@bot in a group (group admin, not bot admin)",
            lambda: an.send_command("/reindex", at_bot=True),
            group,
        )
        # -- uploads -----------------------------------------------------------------------------
        await attempt(
            "plan .txt sent in private (non-admin)",
            lambda: mallory.send_document("ke_hoach_moi.txt", NEW_PLAN.encode(), "text/plain"),
            mallory.chat,
        )
        await attempt(
            "plan .docx (zip bytes) sent in private (non-admin)",
            lambda: mallory.send_document(
                "ke_hoach.docx",
                b"PK\x03\x04junk",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            mallory.chat,
        )
        await attempt(
            "plan .pdf sent in private (non-admin)",
            lambda: mallory.send_document("ke_hoach.pdf", b"%PDF-1.4 junk", "application/pdf"),
            mallory.chat,
        )
        await attempt(
            "plan .txt with caption /reindex (non-admin)",
            lambda: mallory.send_document(
                "x.txt", NEW_PLAN.encode(), "text/plain", caption="/reindex"
            ),
            mallory.chat,
        )
        await attempt(
            "plan .txt sent in a group (non-admin)",
            lambda: binh.send_document("ke_hoach_nhom.txt", NEW_PLAN.encode(), "text/plain"),
            group,
            expect_reply=False,
        )

        # The admin's real preview, whose buttons are then forged by others.
        await admin.send_document("ke_hoach_admin.txt", NEW_PLAN.encode(), "text/plain")
        preview = None
        for _ in range(6):
            got = await replies(admin.chat, 1, 30)
            if got and got[0].get("reply_markup"):
                preview = got[0]
                break
        if preview is None:
            raise RuntimeError("admin got no preview")
        data = {
            b["text"]: b["callback_data"]
            for row in preview["reply_markup"]["inline_keyboard"]
            for b in row
        }
        ok_data = next(v for k, v in data.items() if "Nhập" in k)
        no_data = next(v for k, v in data.items() if "Huỷ" in k)
        mallory_msg = (await mallory.send_text("xin chào"))["message"]
        await replies(mallory.chat, 1, 30)

        def forge(user: dict, message: dict, cb: str):
            async def go():
                await _apost(
                    emu.api_url + "/sendCallback",
                    {"botToken": token, "from": user, "message": message, "data": cb},
                )

            return go

        plain_preview = {k: v for k, v in preview.items() if not k.startswith("_")}
        await attempt(
            f"forged '{ok_data}' (Nhập) on the admin's preview, from a non-admin",
            forge(mallory.user, plain_preview, ok_data),
            admin.chat,
            reply_timeout=6,
        )
        await attempt(
            f"forged '{no_data}' (Huỷ) on the admin's preview, from a non-admin",
            forge(mallory.user, plain_preview, no_data),
            admin.chat,
            reply_timeout=6,
        )
        await attempt(
            "forged Nhập in the non-admin's own chat",
            forge(mallory.user, mallory_msg, ok_data),
            mallory.chat,
            reply_timeout=6,
        )
        grp_msg = (await binh.send_mention("xin chào"))["message"]
        await replies(group, 1, 30)
        await attempt(
            "forged Nhập in a group, from a group member",
            forge(binh.user, grp_msg, ok_data),
            group,
            reply_timeout=6,
        )
        await attempt(
            "forged Nhập with a guessed key (u:00000000:ok)",
            forge(mallory.user, mallory_msg, "u:00000000:ok"),
            mallory.chat,
            reply_timeout=6,
        )

        # Control: the admin can still import the previewed file.
        before = db_state()
        await _apost(
            emu.api_url + "/sendCallback",
            {"botToken": token, "from": admin.user, "message": plain_preview, "data": ok_data},
        )
        got = []
        t_imp = time.monotonic()
        while time.monotonic() - t_imp < 600:  # progress edits, then the final "✅ Đã nhập" / "❌"
            more = await replies(admin.chat, 1, 30)
            got += more
            if more and more[-1].get("text", "").startswith(("✅", "❌", "ℹ️")):
                break
        after = db_state()
        controls.append(
            {
                "control": "admin presses Nhập on own preview",
                "imported": after["generation"] != before["generation"],
                "bot_said": [m.get("text", "")[:120] for m in got],
            }
        )
        print("control admin import:", controls[-1], flush=True)

        # -- reminders in a group --------------------------------------------------------------
        await attempt(
            "/nhacviec in a group (non-admin member)",
            lambda: binh.send_command("/nhacviec", at_bot=True),
            group,
        )
        await attempt(
            "/nhacviec Sở Y tế in a group (non-admin)",
            lambda: binh.send_command("/nhacviec", "Sở Y tế"),
            group,
        )
        await attempt(
            "/nhacviec tất cả in a group (non-admin)",
            lambda: binh.send_command("/nhacviec", "tất cả"),
            group,
        )
        before = db_state()
        await an.send_command("/nhacviec", "Sở Y tế", at_bot=True)
        got = await replies(group, 1, 30)
        settings_msg = got[0] if got else None
        controls.append(
            {
                "control": "group admin subscribes the group",
                "subscribed": db_state()["subs"] != before["subs"],
                "bot_said": [m.get("text", "")[:120] for m in got],
            }
        )
        print("control group admin subscribe:", controls[-1], flush=True)
        await attempt(
            "/huynhac in a group (non-admin)", lambda: binh.send_command("/huynhac"), group
        )
        await attempt(
            "/nhacviec kế hoạch 1 in a group (non-admin)",
            lambda: binh.send_command("/nhacviec", "kế hoạch 220/KH-UBND"),
            group,
        )
        if settings_msg is not None:
            plain_settings = {k: v for k, v in settings_msg.items() if not k.startswith("_")}
            for cb in (
                "nv:stop",
                "nv:rep",
                "nv:task",
                "nv:time",
                "nv:agall",
                "nv:plan:1",
                "nv:plan:0",
                "nv:on",
            ):
                await attempt(
                    f"settings button {cb} pressed by a non-admin member",
                    forge(binh.user, plain_settings, cb),
                    group,
                    reply_timeout=5,
                )
        # Anyone may press "Đã xong" under a reminder (observed, not counted as a boundary).
        # -- token ------------------------------------------------------------------------------
        await mallory.send_text("Sở Nội vụ chịu trách nhiệm gì?")
        await replies(mallory.chat, 1, 60)
        await mallory.send_command("/help")
        await replies(mallory.chat, 1, 30)
    finally:
        stop(bot)
        normal_log = log.read_text(errors="replace")
        # Run 2: the emulator dies under the running bot.
        log2 = WORK / "bot_emulator_killed.log"
        bot2 = start_bot(emu.base_url, token, log2)
        try:
            wait_polling(emu, token, bot2)
            time.sleep(2)
            emu.stop()
            time.sleep(25)
        finally:
            stop(bot2)
    # Run 3: a well-formed token with a mistyped TELEGRAM_API_BASE_URL (the server answers 404 →
    # InvalidToken). Run 4: a token the server rejects (401).
    emu3 = EmulatorServer().start()
    good_shape = emu3.new_token()
    bad_token = "987654321:" + "Z" * 35 + "-bad"
    runs = {
        "token + mistyped base URL (-v)": (good_shape, emu3.base_url.rstrip("/") + "x"),
        "token rejected by the server (-v)": (bad_token, emu3.base_url),
    }
    found = {}
    for label, (tok, base) in runs.items():
        logn = WORK / ("bot_" + label.split()[1].strip("+") + ".log")
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TELEGRAM_BOT_TOKEN": tok,
            "TELEGRAM_API_BASE_URL": base,
            "PLANBOT_DB": str(DB),
            "PLANBOT_ADMIN_IDS": str(ADMIN_ID),
        }
        try:
            p3 = subprocess.run([PLANBOT, "-v", "run"], env=env, capture_output=True, timeout=240)
            logn.write_bytes(p3.stdout + p3.stderr)
        except subprocess.TimeoutExpired as exc:
            logn.write_bytes((exc.stdout or b"") + (exc.stderr or b""))
        text = logn.read_text(errors="replace")
        found[label] = {"leaked": tok in text, "occurrences": text.count(tok), "log": str(logn)}
    emu3.stop()
    leaks = {
        "normal traffic (-v)": token in normal_log,
        "emulator killed under the bot (-v)": token in log2.read_text(errors="replace"),
        **{k: v["leaked"] for k, v in found.items()},
    }
    result = {
        "attempts": len(attempts),
        "refused": sum(a["refused"] for a in attempts),
        "not_refused": [a for a in attempts if not a["refused"]],
        "controls": controls,
        "token_leaks": leaks,
        "all_attempts": attempts,
    }
    (WORK / "p4_result.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    print(
        json.dumps(
            {k: result[k] for k in ("attempts", "refused", "controls", "token_leaks")},
            ensure_ascii=False,
            indent=1,
        )
    )
    for a in result["not_refused"]:
        print("NOT REFUSED:", a["attempt"], a["bot_said"])


asyncio.run(main())
