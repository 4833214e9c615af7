"""Bot state and reminder claims on both engines (issue 19): the SQL of `bot.state` and
`reminders.claims` on SQLite and on PostgreSQL, claims taken at once by several connections,
and the 3-process kill -9 probe. Uses the engine fixtures of the PostgreSQL backend
(`empty_db`: tests/conftest.py); skipped where that backend is not in yet."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytest.importorskip(
    "store.pgserve", reason="the PostgreSQL backend (its engine fixtures) is not here"
)

from bot import storage as bot_storage  # noqa: E402
from bot.admin import PendingUpload  # noqa: E402
from indexer.indexing import index_text  # noqa: E402
from indexer.settings import load_settings  # noqa: E402
from reminders import claims, storage  # noqa: E402
from reminders.jobs import RESENT_NOTE, ReminderService, clock_from  # noqa: E402
from reminders.model import everything  # noqa: E402
from reminders.pacing import Pacer  # noqa: E402
from store.connection import transaction  # noqa: E402
from store.database import Store  # noqa: E402
from tests.generated_plans import plan_with_tasks  # noqa: E402

NOW = datetime(2025, 6, 24, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_bot_state(empty_db) -> None:
    a, b = Store(empty_db), Store(empty_db)
    data = bytes(range(256)) * 64
    keys = [
        bot_storage.put_state(a.db, 7, "uploads", PendingUpload(f"f{i}.txt", data), keep=3)
        for i in range(5)
    ]
    assert bot_storage.get_state(b.db, 7, "uploads", keys[0]) is None  # beyond the 3 kept
    assert bot_storage.get_state(b.db, 7, "uploads", keys[4], pop=True) == PendingUpload(
        "f4.txt", data
    )
    assert bot_storage.get_state(a.db, 7, "uploads", keys[4], pop=True) is None  # taken once
    later = datetime.now(UTC) + timedelta(days=2)
    assert bot_storage.sweep_state(b.db, now=later) == 2
    a.close()
    b.close()


def _service(store: Store, worker: str) -> ReminderService:
    settings = load_settings({}, dotenv=False)
    return ReminderService(
        settings,
        store,
        clock_from(NOW),
        Pacer(400, 0.0),
        worker=worker,
        lease=timedelta(seconds=60),
    )


def test_claims_lapse_and_are_taken_over_marked(empty_db) -> None:
    a, b = Store(empty_db), Store(empty_db)
    index_text(a, "thu-nghiem.txt", plan_with_tasks(12, date(2025, 6, 25)))
    storage.save_subscription(a.db, everything(5, NOW - timedelta(days=2)), NOW)
    _, queued = _service(a, "a").decide(storage.get_subscription(a.db, 5), NOW)
    assert queued and claims.claim(b.db, 5, "b") == []
    assert claims.start_send(a.db, queued[0].id, "a") and not claims.start_send(
        b.db, queued[0].id, "b"
    )
    with transaction(a.db):
        a.db.execute("UPDATE reminder_outbox SET claimed_until = ?", [0])
    taken = claims.claim(b.db, 5, "b")
    assert [o.id for o in taken] == [o.id for o in queued] and taken[0].attempts == 1
    assert claims.claim(a.db, 5, "a") == []
    sent: list[str] = []

    async def send(chat_id, html, buttons) -> int:
        sent.append(html)
        return len(sent)

    import asyncio

    assert asyncio.run(_service(b, "b").run_chat(send, 5, NOW)).status == "sent"
    assert len(sent) == len(queued) and sent[0].startswith(RESENT_NOTE)
    assert not any(s.startswith(RESENT_NOTE) for s in sent[1:])
    a.close()
    b.close()


def test_claims_made_at_once_by_four_connections_are_disjoint(empty_db) -> None:
    store = Store(empty_db)
    with transaction(store.db):
        for n in range(120):
            store.db.execute(
                "INSERT INTO reminder_outbox (chat_id, text, buttons, keys, created_at) VALUES (?, ?, ?, ?, ?)",
                [9, f"m{n}", "[]", "[]", NOW.isoformat()],
            )
    store.close()
    got: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        own = Store(empty_db)
        start.wait()
        mine: list[int] = []
        while rows := claims.claim(own.db, 9, name, limit=3):
            mine += [o.id for o in rows]
            for o in rows:
                assert claims.start_send(own.db, o.id, name)
                with transaction(own.db):
                    own.db.execute("UPDATE reminder_outbox SET state = 'sent' WHERE id = ?", [o.id])
        got[name] = mine
        own.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for rows in got.values() for i in rows]
    assert len(ids) == len(set(ids)) == 120


def test_three_workers_kill_9_while_sending(empty_db, tmp_path: Path) -> None:
    from benchmarks.workers_reminders import run_reminders

    summary = run_reminders(tmp_path / "r", chats=40, tasks=12, kills=4, lease=1.0, db=empty_db)
    assert summary["lost"] == 0 and summary["pending_left"] == 0
    assert summary["unmarked_repeats"] == 0 and summary["marked_resends"] <= summary["kills"]
