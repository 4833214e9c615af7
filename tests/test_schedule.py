"""Reminders with a frozen clock: the sample plans indexed into a temporary database.

The pure core (`reminders.model`, `reminders.due`, `reminders.render`) is driven hour by hour
across month, quarter and year ends; the service (`reminders.jobs`) is driven with an injected
`now` and a fake bot (through `bot.reminders.jobs.sender`, which maps its Telegram errors) to
show that a restart neither repeats nor loses a reminder.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.reminders.jobs import register_reminders, sender
from bot.settings import load_bot_settings
from knowledge.telegram_text import MAX_MESSAGE
from reminders import jobs, storage
from reminders.cli import parse_on, remind_dry_run
from reminders.due import TASK_KINDS, candidates, due_now
from reminders.model import Knowledge, PlanInfo, Policy, Subscription, Task, everything, task_key
from reminders.render import DONE_PREFIX, period_label, render
from store.database import Store
from store.migrations import migrate

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PLAN_000 = "000_7b0f32ab0385fc88.txt"
PLAN_003 = "003_c46a33fedfcb2327.txt"
POLICY = Policy(tz=TZ)


def at(y: int, m: int, d: int, hh: int = 8, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture(scope="module")
def knowledge(sample_db) -> Knowledge:
    store = Store(sample_db)
    try:
        return storage.load_knowledge(store.db)
    finally:
        store.close()


@pytest.fixture
def db_path(sample_db_copy) -> Path:
    """A private copy of the indexed sample database (tests write subscriptions into it)."""
    return sample_db_copy


@pytest.fixture
def settings(db_path):
    return replace(load_bot_settings(env={}, dotenv=False), db_path=db_path)


def simulate(
    sub, knowledge, start: datetime, end: datetime, step=timedelta(hours=1), policy=POLICY, done=()
):
    """Run the pure core every `step` from `start` to `end`; what each run sent, keys recorded."""
    sent: set[str] = set()
    runs: list[tuple[datetime, list]] = []
    now = start
    while now <= end:
        digest = due_now(sub, knowledge, policy, now, sent, done)
        messages = render(digest, sub, knowledge)
        if messages:
            for message in messages:
                sent.update(message.keys)
            runs.append((now, messages, digest))
        now += step
    return runs


def text_of(messages) -> str:
    return "\n".join(m.text for m in messages)


# ---------------------------------------------------------------------------------------------
# Reporting reminders


def test_q1_report_reminded_on_7_and_9_april_then_only_the_monthly_report_in_may(knowledge):
    sub = everything(-100, at(2021, 3, 30, 10))
    runs = simulate(sub, knowledge, at(2021, 3, 30, 10), at(2021, 5, 31, 23))
    days = [now for now, _, _ in runs]
    assert days == [at(2021, 4, 7), at(2021, 4, 9), at(2021, 5, 7), at(2021, 5, 10)]

    for _now, messages, digest in runs[:2]:
        text = text_of(messages)
        assert len(messages) == 1
        assert "Báo cáo quý I năm 2021" in text
        assert "10/04/2021" in text
        assert "Sở Y tế tỉnh Thanh Hóa" in text  # plan 000, by its issuer
        assert "Đơn vị gửi: Các đơn vị trực thuộc. Gửi đến: Văn phòng Sở Y tế." in text
        assert "mục IV.3" in text and "chậm nhất là ngày 10 của tháng kế tiếp liền kề" in text
        assert "Báo cáo tháng 3/2021" in text
        assert "Hạn rơi vào thứ Bảy" in text  # 10/04/2021 is a Saturday: said, not moved
        plan_000_q1 = [r for r in digest.reminders if r.rule and r.rule.plan.file == PLAN_000]
        assert [(r.due, r.periods) for r in plan_000_q1] == [(date(2021, 4, 10), ("quarter",))]
    assert "còn 3 ngày" in text_of(runs[0][1]) and "còn 1 ngày" in text_of(runs[1][1])

    for _now, messages, digest in runs[2:]:
        text = text_of(messages)
        assert "Báo cáo tháng 4/2021" in text and "10/05/2021" in text
        assert "quý" not in text and PLAN_000 not in str(digest.keys)
        assert not any(r.rule and r.rule.plan.file == PLAN_000 for r in digest.reminders)
    # 09/05/2021 is a Sunday: the 1-day reminder waits for Monday 08:00, the deadline day itself.
    assert "hạn là hôm nay" in text_of(runs[3][1])


def test_idempotency_key_names_chat_target_due_date_and_offset(knowledge):
    sub = everything(-100, at(2021, 3, 30))
    digest = due_now(sub, knowledge, POLICY, at(2021, 4, 7), set())
    keys = set(digest.keys)
    assert "-100|m|2021-04-10|d3" in keys
    rule_keys = [k for k in keys if k.startswith(f"-100|r:{PLAN_000}:")]
    assert len(rule_keys) == 1 and rule_keys[0].endswith("|2021-04-10|d3")


@pytest.mark.parametrize(
    ("day", "expected", "absent"),
    [
        (
            at(2021, 7, 7),
            ["Báo cáo quý II năm 2021 và báo cáo 6 tháng đầu năm 2021", "Báo cáo tháng 6/2021"],
            [],
        ),
        (
            at(2021, 10, 7),
            ["Báo cáo quý III năm 2021 và báo cáo 9 tháng năm 2021"],
            ["báo cáo 6 tháng"],
        ),
        (
            at(2022, 1, 7),
            ["Báo cáo quý IV năm 2021 và báo cáo năm 2021", "Báo cáo tháng 12/2021"],
            ["báo cáo 6 tháng đầu", "và báo cáo 6 tháng cuối"],  # the yearly report covers it
        ),
    ],
)
def test_quarter_half_year_nine_months_and_year_reports(knowledge, day, expected, absent):
    sub = everything(-100, day - timedelta(days=30))
    sent = {r.key for r in candidates(sub, knowledge, POLICY, day) if r.send_from < day}
    text = text_of(render(due_now(sub, knowledge, POLICY, day, sent), sub, knowledge))
    for phrase in expected:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text


def test_year_end_report_due_monday_after_a_sunday_reminder(knowledge):
    # 10/01/2022 is a Monday: the 3-day reminder goes on Friday 07/01, the 1-day one
    # (Sunday 09/01) waits for Monday 08:00 and still goes, the deadline being that day.
    sub = everything(-100, at(2021, 12, 20))
    runs = simulate(sub, knowledge, at(2021, 12, 20), at(2022, 1, 12))
    days = [now for now, _, _ in runs]
    assert at(2022, 1, 7) in days and at(2022, 1, 10) in days
    assert at(2022, 1, 9) not in days
    monday = text_of(next(m for now, m, _ in runs if now == at(2022, 1, 10)))
    assert "hạn là hôm nay" in monday and "Hạn rơi vào" not in monday


def test_period_labels_across_year_end():
    assert period_label("quarter", date(2022, 1, 10)) == "báo cáo quý IV năm 2021"
    assert period_label("month", date(2022, 1, 10)) == "báo cáo tháng 12/2021"
    assert period_label("half_year", date(2022, 1, 10)) == "báo cáo 6 tháng cuối năm 2021"
    assert period_label("half_year", date(2021, 7, 10)) == "báo cáo 6 tháng đầu năm 2021"
    assert period_label("nine_months", date(2021, 10, 10)) == "báo cáo 9 tháng năm 2021"
    assert period_label("year", date(2022, 1, 10)) == "báo cáo năm 2021"


def test_report_day_past_the_end_of_a_short_month_is_its_last_day():
    policy = replace(POLICY, report_day=31)
    sub = everything(-1, at(2021, 1, 1))
    runs = simulate(sub, Knowledge(), at(2021, 2, 20), at(2021, 3, 3), policy=policy)
    dues = {r.due for _, _, d in runs for r in d.reminders}
    assert dues == {date(2021, 2, 28)}


# ---------------------------------------------------------------------------------------------
# Task deadlines


def _plan003_task(knowledge, row: str) -> Task:
    return next(
        t for t in knowledge.tasks if t.plan.file == PLAN_003 and t.citation == f"Phụ lục, TT {row}"
    )


def test_task_due_before_1_july_2025_is_announced_7_days_and_1_day_before(knowledge):
    task = _plan003_task(knowledge, "5")
    assert (task.kind, task.end, task.before, task.deadline_text) == (
        "date",
        date(2025, 7, 1),
        True,
        "Trước 01/7/2025",
    )
    sub = everything(-100, at(2025, 6, 1))
    runs = simulate(sub, knowledge, at(2025, 6, 1), at(2025, 7, 15))
    about = [
        (now, d)
        for now, _, d in runs
        if any(r.task and r.task.key == task.key for r in d.reminders)
    ]
    assert [now for now, _ in about] == [at(2025, 6, 24), at(2025, 6, 30), at(2025, 7, 1)]
    kinds = [next(r for r in d.reminders if r.task and r.task.key == task.key) for _, d in about]
    assert [(r.kind, r.offset) for r in kinds] == [("task", 7), ("task", 1), ("overdue", -1)]
    texts = [
        text_of(m)
        for now, m, _ in runs
        if now in (at(2025, 6, 24), at(2025, 6, 30), at(2025, 7, 1))
    ]
    assert "trước ngày 01/07/2025 — còn 7 ngày" in texts[0]
    assert "trước ngày 01/07/2025 — hôm nay là ngày cuối" in texts[1]
    assert "Nhiệm vụ đã quá hạn" in texts[2]
    assert "Phụ lục, TT 5" in texts[0] and "Chủ trì: Sở Y tế" in texts[0]


def test_quarter_end_task_reminders_and_one_overdue_notice(knowledge):
    # Plan 000, II.3: "Trong quý II năm 2021" → ends 30/06/2021 (Wednesday).
    task = next(
        t
        for t in knowledge.tasks
        if t.plan.file == PLAN_000 and t.kind == "quarter" and t.end == date(2021, 6, 30)
    )
    sub = everything(-1, at(2021, 6, 1))
    runs = simulate(sub, knowledge, at(2021, 6, 1), at(2021, 7, 31))
    about = [
        now for now, _, d in runs if any(r.task and r.task.key == task.key for r in d.reminders)
    ]
    assert about == [at(2021, 6, 23), at(2021, 6, 29), at(2021, 7, 1)]


def test_year_deadline_overdue_on_saturday_waits_for_monday(knowledge):
    # Plan 004, TT 16: "2027" → ends Friday 31/12/2027; the overdue notice (Saturday) goes Monday.
    task = next(t for t in knowledge.tasks if t.kind == "year" and t.end == date(2027, 12, 31))
    sub = everything(-1, at(2027, 12, 1))
    runs = simulate(sub, knowledge, at(2027, 12, 1), at(2028, 1, 20))
    about = [
        now for now, _, d in runs if any(r.task and r.task.key == task.key for r in d.reminders)
    ]
    assert about == [at(2027, 12, 24), at(2027, 12, 30), at(2028, 1, 3)]


def test_never_nags_about_ongoing_recurring_conditional_or_unparsed_tasks(knowledge, sample_db):
    store = Store(sample_db)
    try:
        undated = {
            r[0]
            for r in store.db.execute(
                "SELECT i.id FROM items i JOIN deadlines d ON d.id = i.deadline_id WHERE d.kind IN "
                "('ongoing', 'recurring', 'conditional', 'unparsed', 'from', 'range')"
            ).fetchall()
        }
    finally:
        store.close()
    assert undated
    assert all(t.kind in TASK_KINDS for t in knowledge.tasks)
    assert not undated & {t.item_id for t in knowledge.tasks}
    sub = everything(-1, at(2018, 1, 1))
    reminded = set()
    day = at(2018, 1, 1)
    while day < at(2030, 1, 1):
        reminded |= {r.task.item_id for r in candidates(sub, knowledge, POLICY, day) if r.task}
        day += timedelta(days=7)
    assert reminded and not reminded & undated


def test_agency_and_plan_filters(knowledge):
    now = at(2025, 6, 24)
    health = replace(everything(-1, at(2025, 6, 1)), agency="Sở Y tế")
    rows = {r.task.citation for r in due_now(health, knowledge, POLICY, now).reminders if r.task}
    assert rows == {"Phụ lục, TT 5", "Phụ lục, TT 6"}  # the clause without agencies is left out
    education = replace(health, agency="Sở Giáo dục và Đào tạo")
    assert not due_now(education, knowledge, POLICY, now)
    only_003 = replace(everything(-1, at(2025, 7, 2)), plan_file=PLAN_003)
    assert not due_now(only_003, knowledge, POLICY, at(2025, 7, 7))  # no monthly report either
    assert due_now(everything(-1, at(2025, 7, 2)), knowledge, POLICY, at(2025, 7, 7))


def test_adding_an_earlier_offset_later_does_not_resend(knowledge):
    sub = everything(-1, at(2021, 3, 30))
    sent = set(due_now(sub, knowledge, POLICY, at(2021, 4, 7)).keys)  # the 3-day reminder went
    more = replace(sub, report_days=(5, 3, 1))  # then the chat asks for 5 days too
    assert not due_now(more, knowledge, POLICY, at(2021, 4, 8), sent)
    assert due_now(more, knowledge, POLICY, at(2021, 4, 9), sent)


def test_done_task_is_skipped(knowledge):
    task = _plan003_task(knowledge, "5")
    sub = everything(-1, at(2025, 6, 1))
    digest = due_now(sub, knowledge, POLICY, at(2025, 6, 24), done={task.key})
    assert task.key not in {r.target for r in digest.reminders}
    assert _plan003_task(knowledge, "6").key in {r.target for r in digest.reminders}


# ---------------------------------------------------------------------------------------------
# Quiet hours and working days


def test_quiet_hours_defer_to_the_next_allowed_time(knowledge):
    sub = everything(-1, at(2021, 3, 30))
    early = due_now(sub, knowledge, POLICY, at(2021, 4, 7, 7, 0))
    assert not early  # the 08:00 reminder is not due yet
    late_sub = replace(sub, remind_time=time(6, 0))  # outside the hours: moved to 07:30
    assert late_sub.time_of_day(POLICY) == time(7, 30)
    assert due_now(late_sub, knowledge, POLICY, at(2021, 4, 7, 7, 30))
    # Down until the evening: nothing at 18:00, what is still owed goes the next working morning.
    evening = due_now(sub, knowledge, POLICY, at(2021, 4, 7, 18, 0))
    assert not evening and not evening.allowed and evening.deferred_to == at(2021, 4, 8, 8, 0)
    assert due_now(sub, knowledge, POLICY, at(2021, 4, 8, 8, 0))
    # Friday evening, deadline Saturday: Monday would be too late, so nothing is promised.
    friday = due_now(sub, knowledge, POLICY, at(2021, 4, 9, 18, 0))
    assert not friday and not friday.allowed and friday.deferred_to is None


def test_weekend_reminder_goes_on_monday_and_is_dropped_after_the_deadline(knowledge):
    assert POLICY.next_allowed(at(2021, 5, 9, 8)) == at(2021, 5, 10, 8)  # Sunday → Monday
    assert POLICY.next_allowed(at(2021, 5, 7, 20)) == at(2021, 5, 10, 8)  # Friday night → Monday
    assert POLICY.next_allowed(at(2021, 5, 10, 6)) == at(2021, 5, 10, 8)
    sub = everything(-1, at(2021, 3, 30))
    # Bot down from 6 to 12 April: the Q1 reminders (deadline Saturday 10/04) are not sent late.
    assert not due_now(sub, knowledge, POLICY, at(2021, 4, 12, 9), set())


def test_saturday_and_sunday_due_days_are_named(knowledge):
    sub = everything(-1, at(2021, 1, 1))
    saturday = text_of(render(due_now(sub, knowledge, POLICY, at(2021, 4, 7)), sub))
    assert "Hạn rơi vào thứ Bảy" in saturday and "hạn không lùi" in saturday
    sunday = text_of(render(due_now(sub, knowledge, POLICY, at(2021, 10, 7)), sub))  # 10/10/2021
    assert "Hạn rơi vào Chủ nhật" in sunday


# ---------------------------------------------------------------------------------------------
# Messages


def _fake_tasks(n: int, text: str) -> Knowledge:
    plan = PlanInfo(1, "x.txt", "Kế hoạch số 1/KH-UBND (UBND tỉnh, 2024)")
    tasks = tuple(
        Task(
            task_key("x.txt", f"TT {i}", f"{text} {i}"),
            i,
            plan,
            f"Phụ lục, TT {i}",
            f"{text} {i}",
            "Trước 01/7/2025",
            "date",
            date(2025, 7, 1),
            True,
            ("Sở Y tế",),
        )
        for i in range(1, n + 1)
    )
    return Knowledge(tasks=tasks, plans=(plan,))


def test_one_message_per_run_split_under_the_telegram_limit_with_a_button_per_task():
    knowledge = _fake_tasks(40, "Nội dung <rất> dài & quan trọng " * 12)
    sub = everything(-1, at(2025, 6, 1))
    digest = due_now(sub, knowledge, POLICY, at(2025, 6, 24))
    messages = render(digest, sub, knowledge)
    assert len(messages) > 1
    assert all(len(m.text.encode("utf-16-le")) // 2 <= MAX_MESSAGE for m in messages)
    buttons = [data for m in messages for _, data in m.buttons]
    assert buttons == [f"{DONE_PREFIX}{i}" for i in range(1, 41)]
    assert sorted(k for m in messages for k in m.keys) == sorted(digest.keys)
    assert (
        "&lt;rất&gt; dài &amp; quan trọng" in messages[0].text and "<rất>" not in messages[0].text
    )


# ---------------------------------------------------------------------------------------------
# Storage, service and restart


class FakeBot:
    """Records send_message calls; `fail` is a list of exceptions to raise first."""

    def __init__(self, fail=()):
        self.sent: list[tuple[int, str, object]] = []
        self.fail = list(fail)

    async def send_message(self, chat_id, text, parse_mode=None, reply_markup=None, **_):
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((chat_id, text, reply_markup))
        return SimpleNamespace(message_id=len(self.sent), chat_id=chat_id)


def _subscribe(db_path: Path, chat_id: int, created: datetime, **changes) -> None:
    store = Store(db_path)
    sub = replace(everything(chat_id, created), chat_type="group", **changes)
    storage.save_subscription(store.db, sub, created)
    store.close()


async def _run(settings, bot, now, chat_id=None):
    """Start a fresh service (a process start) on the database and run once at `now`."""
    store = Store(settings.db_path)
    try:
        svc = jobs.ReminderService(settings, store, clock=lambda: now)
        if chat_id is None:
            return await svc.run_all(sender(bot))
        return [await svc.run_chat(sender(bot), chat_id)]
    finally:
        store.close()


async def test_restart_between_the_two_reminders_neither_repeats_nor_loses(settings):
    _subscribe(settings.db_path, -100, at(2021, 3, 30, 10))
    bot = FakeBot()
    await _run(settings, bot, at(2021, 4, 7, 8))
    assert len(bot.sent) == 1 and "còn 3 ngày" in bot.sent[0][1]
    await _run(settings, bot, at(2021, 4, 7, 8, 0))  # restarted the same minute
    await _run(settings, bot, at(2021, 4, 7, 11))  # and again later that day
    assert len(bot.sent) == 1
    # Down on the morning of the 9th; back at 15:00: the missed 1-day reminder goes once.
    await _run(settings, bot, at(2021, 4, 9, 15))
    assert (
        len(bot.sent) == 2 and "còn 1 ngày" in bot.sent[1][1] and "quý I năm 2021" in bot.sent[1][1]
    )
    await _run(settings, bot, at(2021, 4, 9, 16))
    await _run(settings, bot, at(2021, 4, 12, 8))
    assert len(bot.sent) == 2


async def test_down_through_both_reminders_sends_one_catch_up_message(settings):
    _subscribe(settings.db_path, -100, at(2021, 3, 30, 10))
    bot = FakeBot()
    [result] = await _run(settings, bot, at(2021, 4, 9, 9, 30))
    assert result.status == "sent" and len(bot.sent) == 1
    assert bot.sent[0][1].count("Báo cáo quý I năm 2021") == 2  # plan 000 and plan 004, once each
    assert {k.rsplit("|", 1)[1] for k in result.keys} == {"d3", "d1"}  # both offsets settled
    await _run(settings, bot, at(2021, 4, 9, 10))
    assert len(bot.sent) == 1


async def test_only_subscribed_active_chats_get_messages(settings):
    _subscribe(settings.db_path, -100, at(2021, 3, 30))
    _subscribe(
        settings.db_path, -200, at(2021, 3, 30), agency="Sở Giáo dục và Đào tạo", plan_file=PLAN_003
    )
    bot = FakeBot()
    results = await _run(settings, bot, at(2021, 4, 7, 8))
    assert {r.chat_id: r.status for r in results} == {-200: "nothing", -100: "sent"}
    assert [chat for chat, _, _ in bot.sent] == [-100]


@pytest.mark.parametrize(
    "error", [Forbidden("Forbidden: bot was blocked by the user"), BadRequest("Chat not found")]
)
async def test_blocked_or_deleted_chat_is_marked_inactive(settings, error):
    _subscribe(settings.db_path, -100, at(2021, 3, 30))
    [result] = await _run(settings, FakeBot([error]), at(2021, 4, 7, 8))
    assert result.status == "gone"
    store = Store(settings.db_path)
    assert storage.get_subscription(store.db, -100).active is False
    assert not storage.active_subscriptions(store.db)
    store.close()
    bot = FakeBot()
    await _run(settings, bot, at(2021, 4, 9, 8))
    assert not bot.sent


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_waited_out(settings, monkeypatch):
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    monkeypatch.setattr(jobs.asyncio, "sleep", no_sleep)
    _subscribe(settings.db_path, -100, at(2021, 3, 30))
    bot = FakeBot([RetryAfter(7)])
    [result] = await _run(settings, bot, at(2021, 4, 7, 8))
    assert result.status == "sent" and len(bot.sent) == 1 and waits and waits[0] >= 7


def test_migration_is_idempotent_and_subscriptions_round_trip(db_path):
    store = Store(db_path)
    try:
        names = [r[0] for r in store.db.execute("SELECT name FROM _migrations")]
        assert names.count("m004_reminders") == 1
        migrate(store.db)  # nothing left to apply: no error, no duplicate
        sub = Subscription(
            chat_id=-5,
            created_at=at(2024, 1, 2, 9),
            chat_type="supergroup",
            title="Tổ",
            agency="Sở Y tế",
            plan_file=PLAN_003,
            report_days=(5, 3, 1),
            task_days=(14, 1),
            remind_time=time(9, 0),
            created_by=42,
        )
        storage.save_subscription(store.db, sub, at(2024, 1, 2, 9))
        assert storage.get_subscription(store.db, -5) == sub
        storage.mark_done(store.db, -5, "t:x", 7, 42, at(2024, 1, 3))
        assert storage.done_keys(store.db, -5) == {"t:x"}
        storage.unmark_done(store.db, -5, "t:x")
        assert storage.done_keys(store.db, -5) == set()
    finally:
        store.close()


def test_done_item_ids_follow_the_stable_key(db_path, knowledge):
    task = _plan003_task(knowledge, "6")
    store = Store(db_path)
    try:
        assert storage.item_key_for(store.db, task.item_id) == task.key
        storage.mark_done(store.db, -5, task.key, task.item_id, 1, at(2025, 6, 24))
        assert storage.done_item_ids(store.db, -5) == {task.item_id}
    finally:
        store.close()


def test_register_reminders_rebuilds_named_timezone_aware_jobs(settings):
    from telegram.ext import ApplicationBuilder

    _subscribe(settings.db_path, -100, at(2021, 3, 30), remind_time=time(9, 0))
    _subscribe(settings.db_path, -200, at(2021, 3, 30))
    app = ApplicationBuilder().token("123456:TEST").build()
    store = Store(settings.db_path)
    try:
        register_reminders(app, settings, store)
        names = sorted(job.name for job in app.job_queue.jobs())
        assert names == ["nhacviec:-100", "nhacviec:-200", "nhacviec:catchup"]
        job = app.job_queue.get_jobs_by_name("nhacviec:-100")[0]
        assert str(job.job.trigger.timezone) == "Asia/Ho_Chi_Minh"
        assert (
            "hour='9'" in str(job.job.trigger)
            and job.job.misfire_grace_time == settings.misfire_grace_seconds
        )
    finally:
        store.close()


# ---------------------------------------------------------------------------------------------
# Dry run


def test_dry_run_prints_the_april_reminder(settings):
    out = remind_dry_run(settings, parse_on("2021-04-07T08:00", settings), None)
    assert "Sẽ gửi 1 tin nhắn" in out
    assert "Báo cáo quý I năm 2021" in out and "10/04/2021" in out and "còn 3 ngày" in out
    assert "Không có nhắc việc" in remind_dry_run(settings, parse_on("2021-04-08", settings), None)
    assert "Ngoài giờ gửi" in remind_dry_run(settings, parse_on("2021-04-10T09:00", settings), None)


def test_dry_run_for_a_chat_uses_its_subscription(settings):
    _subscribe(settings.db_path, -100, at(2025, 6, 1), agency="Sở Y tế")
    out = remind_dry_run(settings, parse_on("2025-06-24", settings), -100)
    assert "Phụ lục, TT 5" in out and "III.2, ý 3" not in out
    assert "[✅ Đã xong (1)]" in out
    assert parse_on("2021-04-07", settings) == at(2021, 4, 7, 8)
    with pytest.raises(Exception, match="chưa đăng ký"):
        remind_dry_run(settings, parse_on("2025-06-24", settings), -999)


def test_nhacviec_arguments_name_an_agency_and_or_a_plan(settings):
    from bot.reminders.commands import _parse_args

    store = Store(settings.db_path)
    try:
        svc = jobs.ReminderService(settings, store)
        assert _parse_args(svc, "Sở Y tế") == ({"agency": "Sở Y tế"}, None)
        assert _parse_args(svc, "so y te kế hoạch 220/KH-UBND") == (
            {"plan_file": "004_59a1719852ce6b3c.txt", "agency": "Sở Y tế"},
            None,
        )
        assert _parse_args(svc, "kh 4") == ({"plan_file": PLAN_003}, None)
        assert _parse_args(svc, "Sở Kế hoạch và Đầu tư") == (
            {"agency": "Sở Kế hoạch và Đầu tư"},
            None,
        )
        assert _parse_args(svc, "tất cả") == ({"agency": None, "plan_file": None}, None)
        assert "Không tìm thấy kế hoạch" in _parse_args(svc, "kế hoạch 999")[1]
        assert "Không nhận ra cơ quan" in _parse_args(svc, "xyz abc")[1]
    finally:
        store.close()


def test_a_plan_for_2021_stops_asking_for_reports_after_its_final_yearly_report(knowledge):
    """Plan 000 covers 2021 ("nhiệm vụ … năm 2021"): its 2021 year report is due 10/01/2022,
    and nothing of it is announced for April 2022 (only the general monthly report)."""
    january = everything(-100, at(2021, 12, 20))
    text = text_of(render(due_now(january, knowledge, POLICY, at(2022, 1, 7)), january, knowledge))
    assert "Báo cáo quý IV năm 2021 và báo cáo năm 2021" in text
    april = everything(-100, at(2022, 3, 20))
    text = text_of(render(due_now(april, knowledge, POLICY, at(2022, 4, 7)), april, knowledge))
    assert "Báo cáo tháng 3/2022" in text
    assert "mục IV.3" not in text  # plan 000's quarterly rule is over
