"""Load check (not a test): N simulated users ask at once through the Bot API emulator.

Each user sends a question, waits for the bot's reply, and asks the next one (real questions
from tests/data/seed_questions.jsonl). Reports answers per second and reply latency
(p50 / p95 / max), measured from the user's send to the reply arriving; the bot-side time
(update dispatched → reply sent, including the sendMessage call); and the in-process answer
time (knowledge base + HTML formatting). The gap between the first two is the emulator's own
cost (its client endpoints are slow and serialised under concurrent users). The bot runs as in production
(build_application: AIORateLimiter, i.e. Telegram's 30 messages/s overall limit, concurrent
updates); the sample plans are indexed into a temporary database.

    python benchmarks/bench_bot_load.py [--users 20] [--rounds 5] [--model PATH]

Results are also written to benchmarks/out/bench_bot_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import TypeHandler  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.formatting import answer_listing, paginate  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from indexer.search import KnowledgeBase  # noqa: E402
from indexer.settings import Settings  # noqa: E402
from indexer.store import Store  # noqa: E402
from tests.emulator.harness import EmulatorServer, TelegramUser, running_bot  # noqa: E402


def questions() -> list[str]:
    path = ROOT / "tests" / "data" / "seed_questions.jsonl"
    return [
        json.loads(line)["q"]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def user_session(user: TelegramUser, asked: list[str], latencies: list[float]) -> None:
    for question in asked:
        sent = time.perf_counter()
        await user.send_text(question)
        await user.wait_for_replies(1, timeout=60)
        latencies.append(time.perf_counter() - sent)


def core_times(kb: KnowledgeBase, asked: list[str]) -> list[float]:
    out = []
    for question in asked:
        started = time.perf_counter()
        paginate(answer_listing(kb.ask(question, limit=30)))
        out.append(time.perf_counter() - started)
    return out


async def run(users: int, rounds: int, model: str | None) -> dict:
    pool = questions()
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        embedder = None
        if model:
            from indexer.embedder import load_embedder

            embedder = load_embedder(model)
        store = Store(Path(tmp) / "planbot.db")
        index_paths(store, [ROOT / "sample_plans"], embedder)
        kb = KnowledgeBase(store, embedder)
        token = emulator.new_token()
        settings = Settings(
            data_dir=Path(tmp),
            db_path=store.path,
            plans_dir=ROOT / "sample_plans",
            model=model or "",
            telegram_token=token,
            telegram_base_url=emulator.base_url,
        )
        application = build_application(settings, kb, store, embedder)
        bot_side: list[float] = []
        started_at: dict[int, float] = {}

        async def begin(update: Update, context: object) -> None:
            started_at[update.update_id] = time.perf_counter()

        async def end(update: Update, context: object) -> None:
            if update.update_id in started_at:
                bot_side.append(time.perf_counter() - started_at.pop(update.update_id))

        application.add_handler(TypeHandler(Update, begin), group=-1)  # before the bot's handlers
        application.add_handler(TypeHandler(Update, end), group=1)  # after them
        latencies: list[float] = []
        async with running_bot(application):
            people = [
                emulator.private_user(token, first_name=f"Người dùng {i + 1}") for i in range(users)
            ]
            await user_session(people[0], [pool[0]], [])  # warm-up (first poll, caches)
            bot_side.clear()
            plans = [
                [pool[(u * rounds + r) % len(pool)] for r in range(rounds)] for u in range(users)
            ]
            started = time.perf_counter()
            await asyncio.gather(
                *(user_session(p, q, latencies) for p, q in zip(people, plans, strict=True))
            )
            elapsed = time.perf_counter() - started
        core = core_times(kb, [q for plan in plans for q in plan])
        store.close()
    return {
        "users": users,
        "rounds": rounds,
        "answers": len(latencies),
        "seconds": round(elapsed, 3),
        "answers_per_second": round(len(latencies) / elapsed, 2),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "latency_p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "latency_max_ms": round(max(latencies) * 1000, 1),
        "bot_side_p50_ms": round(statistics.median(bot_side) * 1000, 1),
        "bot_side_p95_ms": round(percentile(bot_side, 95) * 1000, 1),
        "core_answer_p50_ms": round(statistics.median(core) * 1000, 2),
        "core_answer_p95_ms": round(percentile(core, 95) * 1000, 2),
        "search": "hybrid (e5)" if model else "lexical",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=5, help="questions per user, one after another"
    )
    parser.add_argument("--model", help="embedding model folder (default: lexical search only)")
    args = parser.parse_args()
    result = asyncio.run(run(args.users, args.rounds, args.model))
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_bot_load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"{result['users']} users × {result['rounds']} questions ({result['search']}): "
        f"{result['answers']} answers in {result['seconds']} s = {result['answers_per_second']} answers/s; "
        f"reply latency p50 {result['latency_p50_ms']} ms, p95 {result['latency_p95_ms']} ms, "
        f"max {result['latency_max_ms']} ms; bot side p50 {result['bot_side_p50_ms']} ms, "
        f"p95 {result['bot_side_p95_ms']} ms; core answer p50 {result['core_answer_p50_ms']} ms, "
        f"p95 {result['core_answer_p95_ms']} ms"
    )


if __name__ == "__main__":
    main()
