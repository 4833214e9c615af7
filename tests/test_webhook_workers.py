"""`planbot run` in webhook mode as 3 processes over one database (issue 19, part 4).

The project's Bot API emulator has no webhooks, so the Bot API here is a minimal stand-in
(`benchmarks.workers_webhook.BotApi`: an HTTP server in this process answering the methods the
bot calls, recording each call), and the test posts updates to the workers' ports as Telegram,
through a proxy, would. What is checked: each worker starts on its own port and sets the same
webhook; a forged secret is refused; a question posted to worker 1 is answered with pages, and
"▶" under that answer, posted to worker 2, shows page 2; users asking through the three while
another process reindexes get every answer, none an error or a half-written plan.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from benchmarks.workers_webhook import (
    PATH,
    TOKEN,
    BotApi,
    free_port,
    post_update,
    run_webhook,
    start_workers,
    stop,
    text_update,
)
from indexer.indexing import index_paths
from store.database import Store
from tests.test_bot_e2e import QUESTION

ROOT = Path(__file__).resolve().parent.parent
CHAT = 4242


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.e2e
def test_three_webhook_workers_share_one_url_and_answer_each_others_buttons(tmp_path: Path) -> None:
    db = tmp_path / "planbot.db"
    store = Store(db)
    index_paths(store, [ROOT / "sample_plans"], None)
    store.close()
    api = BotApi()
    ports = [free_port() for _ in range(3)]
    workers = start_workers(api, db, ports, tmp_path)
    try:
        wait_for(lambda: len(api.calls_of("setWebhook")) == 3, timeout=90)
        urls = {c["url"] for c in api.calls_of("setWebhook")}
        assert urls == {f"https://planbot.example.gov.vn:8443/{PATH}"}  # the same, from each
        for port in ports:  # each worker listens on its own port; a forged secret is refused
            wait_for(lambda port=port: post_update(port, {"update_id": 1}, secret="wrong") == 403)

        assert post_update(ports[0], text_update(2, CHAT, 10, QUESTION)) == 200  # worker 1
        answer = api.next_message(CHAT, 0, timeout=30)
        assert answer is not None and "(trang 1/2)" in answer["text"]
        markup = json.loads(answer["reply_markup"])
        [forward] = [
            b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == "▶"
        ]
        shown = {
            "message_id": 1000,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Planbot"},
        }
        user = {"id": CHAT, "is_bot": False, "first_name": "Lan"}
        press = {
            "id": "cb1",
            "from": user,
            "chat_instance": "ci",
            "data": forward,
            "message": shown,
        }
        assert post_update(ports[1], {"update_id": 3, "callback_query": press}) == 200  # worker 2
        page2 = wait_for(
            lambda: [
                c for c in api.calls_of("editMessageText") if "(trang 2/2)" in c.get("text", "")
            ]
        )
        assert "TT 13" in page2[0]["text"]
        assert all(w.poll() is None for w in workers)
    finally:
        for worker in workers:
            stop(worker)
        api.shutdown()
    logs = "\n".join((tmp_path / f"w{n}.log").read_text(errors="replace") for n in range(3))
    assert "Traceback" not in logs and TOKEN not in logs


@pytest.mark.e2e
def test_users_asking_through_three_webhook_workers_during_reindexing(tmp_path: Path) -> None:
    """p6 through the real bot, small (benchmarks/workers_webhook.py)."""
    summary = run_webhook(tmp_path / "w", workers=3, users=4, seconds=5)
    print(summary)
    assert summary["questions"] > 0 and summary["headers_checked"] > 0
    assert summary["no_reply"] == 0 and summary["generic_errors"] == 0
    assert summary["partial_answers"] == 0 and summary["error_lines_in_logs"] == 0
    assert summary["reindex_runs"] >= 1 and summary["reindex_failed"] == 0
    assert summary["workers_alive_at_end"] == 3


@pytest.mark.e2e
@pytest.mark.slow
def test_kill_9_of_webhook_workers_while_reminders_go_out(tmp_path: Path) -> None:
    """p5 through 3 real webhook workers (benchmarks/workers_bot_reminders.py), ~30 s."""
    from benchmarks.workers_bot_reminders import run_bot_reminders

    summary = run_bot_reminders(tmp_path / "b", chats=60, tasks=20, kills=4, lease=2.0)
    print(summary)
    assert summary["kills"] == 4 and summary["messages_delivered"] >= 120
    assert summary["lost"] == 0 and summary["pending_left"] == 0
    assert summary["unmarked_repeats"] == 0 and summary["marked_resends"] <= summary["kills"]
    assert summary["error_lines_in_logs"] == 0
