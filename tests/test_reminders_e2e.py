"""Reminders end to end through the Bot API emulator: subscribe a group, move the clock, get the
reminder in that group only, press "Đã xong", and the task is gone from the next reminder.

The application is built here from the reminders' own pieces (`register_reminders` + `handlers()`)
so the test does not depend on the rest of the bot. The clock is injected into the service; the
chat's real daily job is run with `Job.run` at the moved time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.commands import handlers
from bot.reminders.jobs import CATCHUP_JOB, job_name, register_reminders
from bot.settings import load_bot_settings
from indexer.settings import load_settings
from reminders import storage
from reminders.jobs import ReminderService, clock_from
from reminders.model import everything
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import EmulatorServer, running_bot

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(sample_db_any):
    """The reminder tests run on SQLite and on PostgreSQL."""
    opened = Store(sample_db_any)
    yield opened
    opened.close()


@pytest.mark.asyncio
async def test_group_subscribes_gets_reminder_only_there_and_done_removes_task(
    emulator: EmulatorServer, app_builder, bot_token, store
):
    settings = replace(load_bot_settings(env={}, dotenv=False), db_path=store.path)
    clock = {"now": datetime(2025, 6, 20, 9, 0, tzinfo=TZ)}
    app = app_builder.build()
    svc = register_reminders(app, settings, store, clock=lambda: clock["now"])
    for handler in handlers():
        app.add_handler(handler)
    for job in app.job_queue.get_jobs_by_name(CATCHUP_JOB):
        job.schedule_removal()  # this test moves the clock itself

    async def run_daily_job(group_id: int) -> None:
        [job] = app.job_queue.get_jobs_by_name(job_name(group_id))
        await job.run(app)

    async with running_bot(app):
        group = emulator.group_chat(bot_token, title="Tổ công tác Sở Y tế")
        an, binh = group.member(first_name="An"), group.member(first_name="Bình")
        emulator.set_chat_admins(group.id, [an.id])
        other = emulator.group_chat(bot_token, title="Nhóm khác")
        lan = emulator.private_user(bot_token, first_name="Lan")

        # A member who is not an administrator may not subscribe the group.
        await binh.send_command("/nhacviec", "Sở Y tế")
        [denied] = await group.wait_for_replies(1)
        assert "Chỉ quản trị viên" in denied["text"]
        assert storage.get_subscription(store.db, group.id) is None

        await an.send_command("/nhacviec", "Sở Y tế", at_bot=True)
        [saved] = await group.wait_for_replies(1)
        assert "Đã lưu" in saved["text"] and "Cơ quan: Sở Y tế" in saved["text"]
        labels = [b["text"] for row in saved["reply_markup"]["inline_keyboard"] for b in row]
        assert "🔕 Dừng nhắc" in labels
        assert "24/06/2025" in saved["text"]  # the next reminder is announced
        assert app.job_queue.get_jobs_by_name(job_name(group.id))

        # Anyone sees the settings; only administrators change them with the buttons.
        await binh.send_command("/nhacviec")
        [shown] = await group.wait_for_replies(1)
        assert "Nhắc việc đang bật" in shown["text"]
        await binh.press("nv:rep", shown)
        await group.assert_no_reply(0.3)
        assert "Chỉ quản trị viên" in emulator.state(bot_token)["callback_answers"][-1]["text"]
        await an.press("nv:rep", shown)
        [cycled] = await group.wait_for_replies(1)
        assert "nhắc trước 5, 3, 1 ngày" in cycled["text"]
        assert storage.get_subscription(store.db, group.id).report_days == (5, 3, 1)

        # Seven days before "Trước ngày 01/7/2025".
        clock["now"] = datetime(2025, 6, 24, 8, 0, tzinfo=TZ)
        await run_daily_job(group.id)
        [reminder] = await group.wait_for_replies(1)
        text = reminder["text"]
        assert "Phụ lục, TT 5" in text and "Phụ lục, TT 6" in text and "còn 7 ngày" in text
        assert reminder["_request"]["parse_mode"] == "HTML"
        buttons = {
            b["text"]: b["callback_data"]
            for row in reminder["reply_markup"]["inline_keyboard"]
            for b in row
        }
        assert set(buttons) == {"✅ Đã xong (1)", "✅ Đã xong (2)"}
        await other.assert_no_reply(0.3)
        await lan.chat.assert_no_reply(0.2)

        # Task 1 (TT 5) is done: the button turns into "Hoàn tác".
        await binh.press("✅ Đã xong (1)", reminder)
        [edited] = await group.wait_for_replies(1)
        assert edited["_event"] == "edit"
        edited_labels = [
            b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row
        ]
        assert edited_labels == ["↩️ Hoàn tác (1)", "✅ Đã xong (2)"]
        answers = emulator.state(bot_token)["callback_answers"]
        assert "Đã ghi nhận hoàn thành" in answers[-1]["text"]

        # Running again the same day sends nothing; one day before, only TT 6 is left.
        await run_daily_job(group.id)
        await group.assert_no_reply(0.3)
        clock["now"] = datetime(2025, 6, 30, 8, 0, tzinfo=TZ)
        await run_daily_job(group.id)
        [last] = await group.wait_for_replies(1)
        assert "Phụ lục, TT 6" in last["text"] and "Phụ lục, TT 5" not in last["text"]
        assert "hôm nay là ngày cuối" in last["text"]
        await other.assert_no_reply(0.2)

        # Unsubscribe: the job is gone.
        await an.send_command("/huynhac")
        [stopped] = await group.wait_for_replies(1)
        assert "Đã tắt nhắc việc" in stopped["text"]
        assert not storage.get_subscription(store.db, group.id).active
        assert not [j for j in app.job_queue.get_jobs_by_name(job_name(group.id)) if not j.removed]
        assert svc.now() == clock["now"]


# ---------------------------------------------------------------------------------------------
# `planbot run --now`: the real command, with a chosen clock


def start_planbot_run(
    emulator: EmulatorServer, token: str, db: Path, cwd: Path, *args: str, setup: str = ""
) -> subprocess.Popen:
    """`planbot -v run ARGS` in its own process group, against the emulator (no embedding model);
    `setup`: Python run first in that process."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PLANBOT_DB": str(db),
        "PLANBOT_MODEL": str(cwd / "no-model"),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-c", f"{setup}\nfrom planbot.cli import main; main()", "-v", "run", *args],
        env=env,
        cwd=cwd,
        stdout=(cwd / "bot.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.asyncio
async def test_planbot_run_now_sends_the_digest_due_at_that_moment(
    emulator: EmulatorServer, bot_token, sample_db_copy, tmp_path
):
    """Monday 09/06/2025 08:00: the monthly report (due the 10th) is one day away. Today's real
    date owes this chat nothing, so only the chosen clock can make the digest come."""
    user = emulator.private_user(bot_token, first_name="Lan")
    store = Store(sample_db_copy)
    storage.save_subscription(
        store.db, everything(user.chat_id, datetime(2025, 6, 1, tzinfo=TZ)), datetime(2025, 6, 1, tzinfo=TZ)
    )
    store.close()
    bot = start_planbot_run(emulator, bot_token, sample_db_copy, tmp_path, "--now", "2025-06-09 08:00")
    try:
        [digest] = await user.chat.wait_for_replies(1, timeout=60)
    finally:
        stop(bot)
    text = digest["text"]
    assert "Nhắc việc thứ Hai, 09/06/2025" in text
    assert "Hạn nộp báo cáo: thứ Ba, 10/06/2025" in text and "Báo cáo tháng 5/2025" in text
    store = Store(sample_db_copy)
    assert f"{user.chat_id}|m|2025-06-10|d1" in storage.sent_keys(store.db, user.chat_id)
    store.close()


def test_planbot_run_now_refuses_a_moment_it_cannot_read(tmp_path):
    from click.testing import CliRunner

    from planbot.cli import main

    result = CliRunner().invoke(main, ["run", "--db", str(tmp_path / "x.db"), "--now", "mai 8 giờ"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: Thời điểm không hợp lệ: mai 8 giờ (dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)."
    )


def test_daily_jobs_follow_a_chosen_clock(tmp_path):
    """With the clock at 07:59, a chat's 08:00 job is due in one real minute, whatever the hour."""
    settings = replace(load_settings(env={}, dotenv=False), db_path=tmp_path / "p.db")
    store = Store(tmp_path / "p.db")
    real = datetime.now(TZ)
    chosen = ReminderService(settings, store, clock=clock_from(datetime(2025, 6, 9, 7, 59, tzinfo=TZ)))
    at = chosen.real_time_of(time(8, 0))
    target = datetime.combine(real.date(), at.replace(tzinfo=None), tzinfo=TZ)
    delta = (target - real) % timedelta(days=1)
    assert timedelta(seconds=55) <= delta <= timedelta(seconds=65)
    assert ReminderService(settings, store).real_time_of(time(8, 0)) == time(8, 0, tzinfo=TZ)
    store.close()
