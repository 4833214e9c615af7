"""Reminders exactly once across kill -9 of the real bot (issue 10, item 4).

`planbot run --now` is started against the Bot API emulator with a digest due for many chats,
killed with SIGKILL at random moments while it sends, again and again; then a clean run drains
what is left. Every message each chat received is read back from the emulator.

What the product guarantees (reminders/jobs.py): no reminder is lost; a message is repeated only
when the kill fell between Telegram accepting it and "sent" being committed, and then it says so
("Gửi lại sau một lần gián đoạn…"); reminder sends go one at a time, so at most one message per
kill. The Bot API cannot tell a bot whether a message arrived, so that one repeat is the price.
"""

from __future__ import annotations

import os
import random
import re
import signal
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from indexer.indexing import index_text
from reminders import storage
from reminders.model import everything
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import EmulatorServer
from tests.emulator.harness import _post_sync
from tests.generated_plans import plan_with_tasks
from tests.test_reminders_e2e import start_planbot_run, stop

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = "2025-06-24 09:00"  # Tuesday; the tasks' last day (due "Trước ngày 25/06/2025")
CHATS = 100
TASKS = 40
KILLS = 30
MAX_DELAY = 0.8  # seconds after the round's first reminder reached the emulator
# No embedding model here, so no warm-up to wait for: the catch-up starts 1 s after start-up
# instead of 5 (keeps 30 restarts within a few minutes; nothing else is changed).
FAST_CATCHUP = "import datetime, bot.reminders.jobs as j; j.CATCHUP_AFTER = datetime.timedelta(seconds=1)"
RESENT = "(Gửi lại sau một lần gián đoạn"
TASK = re.compile(r"Nhiệm vụ thử số (\d{3})")


def test_kill_9_while_a_digest_goes_out_loses_nothing_and_repeats_at_most_one_marked_message_per_kill(
    emulator: EmulatorServer, bot_token, tmp_path
):
    db = tmp_path / "planbot.db"
    store = Store(db)
    index_text(store, "thu-nghiem.txt", plan_with_tasks(TASKS, date(2025, 6, 25)))
    created = datetime(2025, 6, 22, tzinfo=TZ)
    chats = [emulator.private_user(bot_token, first_name=f"U{i}").chat_id for i in range(CHATS)]
    for chat_id in chats:
        storage.save_subscription(store.db, everything(chat_id, created), created)
    store.close()
    rng = random.Random(10)

    def sends() -> int:
        return int(emulator.state(bot_token)["requests"].get("sendMessage", 0))

    kills = 0
    while kills < KILLS:
        before = sends()
        bot = start_planbot_run(emulator, bot_token, db, tmp_path, "--now", NOW, setup=FAST_CATCHUP)
        deadline = time.monotonic() + 60
        while sends() == before and bot.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sends() > before, f"round {kills}: nothing sent (everything delivered too early?)"
        time.sleep(rng.uniform(0, MAX_DELAY))
        assert bot.poll() is None, (tmp_path / "bot.log").read_text(errors="replace")[-3000:]
        os.killpg(bot.pid, signal.SIGKILL)
        bot.wait()
        kills += 1

    # A clean run drains the outbox; it is stopped once every chat's digest is settled.
    bot = start_planbot_run(emulator, bot_token, db, tmp_path, "--now", NOW, setup=FAST_CATCHUP)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            time.sleep(0.5)
            check = Store(db)
            pending, settled = check.db.execute(
                "SELECT (SELECT count(*) FROM reminder_outbox WHERE state = 'pending'),"
                " (SELECT count(DISTINCT chat_id) FROM reminder_outbox)"
            ).fetchone()
            check.close()
            if pending == 0 and settled == CHATS:
                break
        else:
            pytest.fail(f"the clean run did not drain the outbox: {pending} pending, {settled} chats")
    finally:
        stop(bot)

    lost, repeated, unmarked_repeats, resent_messages = [], [], [], 0
    for chat_id in chats:
        entries = _post_sync(emulator.api_url + "/getUpdates", {"token": bot_token, "chatId": chat_id, "after": 0})
        texts = [e["message"]["text"] for e in entries if e["event"] == "message"]
        resent = [t for t in texts if t.startswith(RESENT)]
        resent_messages += len(resent)
        counts = Counter(n for t in texts for n in TASK.findall(t))
        first_time = Counter(n for t in texts if not t.startswith(RESENT) for n in TASK.findall(t))
        lost += [(chat_id, n) for n in (f"{i:03d}" for i in range(1, TASKS + 1)) if counts[n] == 0]
        repeated += [(chat_id, n) for n, c in counts.items() if c > 1]
        unmarked_repeats += [(chat_id, n) for n, c in first_time.items() if c > 1]
    print(f"{kills} kills: {len(lost)} lost, {resent_messages} messages resent, {len(repeated)} reminders repeated")
    assert lost == []
    assert unmarked_repeats == []  # a repeat is always the marked resend of a message
    assert resent_messages <= kills  # one message at most per kill
