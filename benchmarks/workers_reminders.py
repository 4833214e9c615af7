"""The reminders half of `benchmarks/workers_probe.py` (p5 with several worker processes):
`run_reminders` sets up the database and the workers, kills and restarts them, and counts what
"Telegram" (an append-only file) received; `reminder_worker` is one worker process (started as
`workers_probe.py _reminder_worker …`). See workers_probe.py for what is measured."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from benchmarks.workers_probe import TZ, _spawn
from reminders.jobs import RESENT_NOTE

NOW = "2025-06-24 09:00"  # a Tuesday; the tasks' last day (due "Trước ngày 25/06/2025")
TASK = re.compile(r"Nhiệm vụ thử số (\d{3})")


def reminder_worker(db: str, name: str, telegram: str, lease: float, seed: int) -> None:
    """One worker process: the reminder service in a loop until the outbox is drained."""
    from indexer.settings import load_settings
    from reminders.jobs import ReminderService, clock_from
    from reminders.pacing import Pacer
    from reminders.storage import active_subscriptions
    from store.database import Store

    rng = random.Random(seed)
    now = datetime.strptime(NOW, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
    settings = load_settings({"PLANBOT_DB": db}, dotenv=False)
    store = Store(db)
    pacer = Pacer(per_second=400, private_gap=0.01)  # Telegram's limits lifted: many sends fast
    svc = ReminderService(
        settings, store, clock_from(now), pacer, worker=name, lease=timedelta(seconds=lease)
    )
    fd = os.open(telegram, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    counter = itertools.count(1)

    async def send(chat_id: int, html: str, buttons: list[tuple[str, str]]) -> int:
        await asyncio.sleep(rng.uniform(0, 0.015))  # the request's way out
        line = (
            json.dumps({"chat": chat_id, "text": html, "worker": name}, ensure_ascii=False) + "\n"
        )
        os.write(fd, line.encode())  # Telegram has it
        await asyncio.sleep(rng.uniform(0, 0.015))  # the answer's way back
        return next(counter)

    async def loop() -> None:
        chats = [s.chat_id for s in active_subscriptions(store.db)]
        while True:
            rng.shuffle(chats)
            for chat_id in chats:
                await svc.run_chat(send, chat_id, svc.now())
            left = store.db.execute(
                "SELECT count(*) FROM reminder_outbox WHERE state = 'pending'"
            ).fetchone()[0]
            decided = store.db.execute(
                "SELECT count(DISTINCT chat_id) FROM reminder_outbox"
            ).fetchone()[0]
            if left == 0 and decided == len(chats):
                return
            await asyncio.sleep(0.05)

    asyncio.run(loop())


def run_reminders(
    work: Path,
    workers: int = 3,
    chats: int = 60,
    tasks: int = 30,
    kills: int = 6,
    lease: float = 1.5,
    seed: int = 5,
    db: Path | str | None = None,
) -> dict:
    """The probe in `work`; `db`: an empty database to use (a PostgreSQL URL once that backend is
    in), default a new SQLite file in `work`."""
    db, chat_ids = reminder_db(work, chats, tasks, db)
    telegram = work / "telegram.jsonl"
    telegram.touch()
    rng = random.Random(seed)
    names = [f"w{i}" for i in range(workers)]
    serial = itertools.count(workers)

    def start(name: str) -> subprocess.Popen:
        args = (
            "_reminder_worker",
            str(db),
            name,
            str(telegram),
            str(lease),
            str(rng.randrange(10**6)),
        )
        return _spawn(*args, log=work / f"{name}.log")

    procs = {name: start(name) for name in names}
    killed = 0
    deliveries = lambda: telegram.read_bytes().count(b"\n")  # noqa: E731
    started = time.monotonic()
    while deliveries() == 0 and time.monotonic() - started < 60:
        time.sleep(0.01)
    for k in range(kills):
        time.sleep(rng.uniform(0.05, 0.4))
        alive = [name for name, proc in procs.items() if proc.poll() is None]
        if not alive:
            break
        victim = rng.choice(alive)
        os.killpg(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait()
        killed += 1
        del procs[victim]
        name = victim if k % 2 else f"w{next(serial)}"  # every other time under a new name
        procs[name] = start(name)
    for proc in procs.values():
        try:
            proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    entries = [json.loads(line) for line in telegram.read_text(encoding="utf-8").splitlines()]
    return {
        "workers": workers,
        "chats": chats,
        **count_deliveries(entries, chat_ids, tasks, db),
        "kills": killed,
        "exit_codes": [p.returncode for p in procs.values()],
    }


def reminder_db(
    work: Path, chats: int, tasks: int, db: Path | str | None = None
) -> tuple[Path | str, list[int]]:
    """A fresh `work`; in `db` (default a SQLite file in it) a plan of `tasks` tasks due on the
    25th and `chats` chats subscribed since the 22nd: its location and the chats' ids."""
    from indexer.indexing import index_text
    from reminders import storage
    from reminders.model import everything
    from store.database import Store
    from tests.generated_plans import plan_with_tasks

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db = db or work / "bot.db"
    store = Store(db)
    index_text(store, "thu-nghiem.txt", plan_with_tasks(tasks, date(2025, 6, 25)))
    created = datetime(2025, 6, 22, tzinfo=TZ)
    chat_ids = [8_000_000 + i for i in range(chats)]
    for chat_id in chat_ids:
        storage.save_subscription(store.db, everything(chat_id, created), created)
    store.close()
    return db, chat_ids


def count_deliveries(entries: list[dict], chat_ids: list[int], tasks: int, db: Path | str) -> dict:
    """Per (chat, task): lost, repeated, repeated unmarked; `entries`: {chat, text, worker} per
    message Telegram received."""
    from store.database import Store

    per_key: Counter = Counter()
    unmarked: Counter = Counter()
    resent = 0
    by_worker: Counter = Counter()
    for entry in entries:
        marked = entry["text"].startswith(RESENT_NOTE)
        resent += marked
        by_worker[entry.get("worker", "?")] += 1
        for number in TASK.findall(entry["text"]):
            per_key[(entry["chat"], number)] += 1
            unmarked[(entry["chat"], number)] += not marked
    expected = [(c, f"{i:03d}") for c in chat_ids for i in range(1, tasks + 1)]
    check = Store(db)
    pending = check.db.execute(
        "SELECT count(*) FROM reminder_outbox WHERE state = 'pending'"
    ).fetchone()[0]
    check.close()
    return {
        "reminders_expected": len(expected),
        "messages_delivered": len(entries),
        "by_worker": dict(by_worker),
        "lost": sum(1 for k in expected if per_key[k] == 0),
        "unmarked_repeats": sum(1 for k in expected if unmarked[k] > 1),
        "marked_resends": resent,
        "repeated_reminders": sum(1 for k in expected if per_key[k] > 1),
        "pending_left": pending,
    }
