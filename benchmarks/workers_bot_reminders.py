"""p5 through the real bot: `planbot run --now … --port P` as N webhook workers over one
database send a reminder digest to many chats, and a random worker is killed with SIGKILL while
they send, then restarted (every other time under a new PLANBOT_WORKER_ID, so its claims must
lapse and be taken over; else under its own, which takes them back).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py bot-reminders --work /tmp/wp-b

Every worker's start-up catch-up runs every chat; each outbox row goes out through the worker
that claimed it (`reminders.claims`), and a worker that found rows held by another looks again
when their lease (`--lease`, PLANBOT_REMINDER_LEASE_SECONDS) lapses. "Telegram" is the stand-in
Bot API of `benchmarks.workers_webhook`: every message it got is counted per (chat, task) as in
`benchmarks.workers_reminders`.
"""

from __future__ import annotations

import os
import random
import signal
import time
from itertools import count
from pathlib import Path

from benchmarks.workers_reminders import NOW, count_deliveries, reminder_db
from benchmarks.workers_webhook import BotApi, free_port, start_workers, stop


def run_bot_reminders(
    work: Path,
    workers: int = 3,
    chats: int = 150,
    tasks: int = 40,
    kills: int = 6,
    lease: float = 2.0,
    seed: int = 5,
    db: Path | str | None = None,
) -> dict:
    from store.database import Store

    db, chat_ids = reminder_db(work, chats, tasks, db)
    api = BotApi(delay=0.03)  # a kill during a send's way back costs a (marked) resend
    rng = random.Random(seed)
    serial = count(workers)

    def start(name: str, port: int):
        [proc] = start_workers(
            api,
            db,
            [port],
            work,
            names=[name],
            args=("--now", NOW),
            PLANBOT_REMINDER_LEASE_SECONDS=str(lease),
        )
        return proc

    running = {
        f"w{n}": (start(f"w{n}", port), port)
        for n, port in enumerate(free_port() for _ in range(workers))
    }
    sends = lambda: len(api.calls_of("sendMessage"))  # noqa: E731
    killed = 0
    try:
        deadline = time.monotonic() + 120
        while sends() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        for k in range(kills):
            time.sleep(rng.uniform(0.2, 1.0))
            victim = rng.choice(sorted(running))
            proc, port = running.pop(victim)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed += 1
            name = victim if k % 2 else f"w{next(serial)}"
            running[name] = (start(name, port), port)
        # Drained: nothing pending, every chat decided, no send for 3 s (or 4 minutes passed).
        deadline = time.monotonic() + 240
        last, quiet_since = sends(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if sends() != last:
                last, quiet_since = sends(), time.monotonic()
                continue
            check = Store(db)
            pending, decided = check.db.execute(
                "SELECT (SELECT count(*) FROM reminder_outbox WHERE state = 'pending'),"
                " (SELECT count(DISTINCT chat_id) FROM reminder_outbox)"
            ).fetchone()
            check.close()
            if pending == 0 and decided == len(chat_ids) and time.monotonic() - quiet_since > 3:
                break
        alive = sum(1 for proc, _ in running.values() if proc.poll() is None)
    finally:
        for proc, _ in running.values():
            stop(proc)
        api.shutdown()
    entries = [
        {"chat": int(p["chat_id"]), "text": p.get("text", "")} for p in api.calls_of("sendMessage")
    ]
    logs = "\n".join(log.read_text(errors="replace") for log in sorted(work.glob("w*.log")))
    bad = [line for line in logs.splitlines() if "Traceback" in line or line.startswith("ERROR")]
    return {
        "workers": workers,
        "chats": len(chat_ids),
        **count_deliveries(entries, chat_ids, tasks, db),
        "kills": killed,
        "workers_alive_at_end": alive,
        "error_lines_in_logs": len(bad),
        "examples": bad[:5],
    }
