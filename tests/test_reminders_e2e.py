"""Reminders end to end through the Bot API emulator: subscribe a group, move the clock, get the
reminder in that group only, press "Đã xong", and the task is gone from the next reminder.

The application is built here from the reminders' own pieces (`register_reminders` + `handlers()`)
so the test does not depend on the rest of the bot. The clock is injected into the service; the
chat's real daily job is run with `Job.run` at the moved time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from indexer.settings import load_settings
from indexer.store import Store
from reminders import storage
from reminders.handlers import handlers
from reminders.jobs import CATCHUP_JOB, job_name, register_reminders
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import EmulatorServer, running_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def store(sample_db_copy):
    opened = Store(sample_db_copy)
    yield opened
    opened.close()


async def test_group_subscribes_gets_reminder_only_there_and_done_removes_task(
    emulator: EmulatorServer, app_builder, bot_token, store
):
    settings = replace(load_settings(env={}, dotenv=False), db_path=store.path)
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
