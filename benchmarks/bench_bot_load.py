"""Load check (not a test): N simulated users ask at once through the Bot API emulator.

Each user sends a question, waits for the bot's reply, and asks the next one (real questions
from tests/data/seed_questions.jsonl). Reports answers per second and reply latency
(p50 / p95 / max), measured from the user's send to the reply arriving; the bot-side time
(update dispatched → reply sent, including the sendMessage call); and the in-process answer
time (knowledge base + HTML formatting). The gap between the first two is the emulator's own
cost (its client endpoints are slow and serialised under concurrent users). The bot runs as in production
(build_application: AIORateLimiter, i.e. Telegram's 30 messages/s overall limit, concurrent
updates); the sample plans are indexed into a temporary database.

    python benchmarks/bench_bot_load.py [--users 20] [--rounds 5] [--model PATH] [--db DB]

The simulated users run in a separate process (as real users are not in the bot's process), so
their HTTP client's CPU time is not taken from the bot; `--users-in-process` runs them on the
bot's own event loop instead, as earlier versions did.

`--db` starts the bot on a copy of an existing index (and its HNSW file), e.g. the 1,000-plan
one `bench_search.py --keep` writes, instead of indexing the sample plans. The bot's resident
memory (VmRSS of this process, which also holds the simulated users' client) is read after
warm-up (model loaded, first answer given) and after the load.

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

from answering.knowledge_base import KnowledgeBase  # noqa: E402
from bot.app import OVERALL_RATE, build_application  # noqa: E402
from bot.render.listings import answer_listing  # noqa: E402
from bot.render.pages import paginate  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from indexer.indexing import index_paths  # noqa: E402
from store.database import Store  # noqa: E402
from tests.emulator.harness import EmulatorServer, TelegramUser, close_client, running_bot  # noqa: E402


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


async def users_in_child(port: int, token: str, plans: list[list[str]]) -> tuple[list[float], float]:
    """Run the users' sessions in a child process; (reply latencies, seconds of the load)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--simulate-users",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate(json.dumps({"port": port, "token": token, "plans": plans}).encode())
    if proc.returncode != 0:
        raise RuntimeError(f"simulated users failed (exit {proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result["latencies"], result["seconds"]


def simulate_users() -> None:
    """Child side of `users_in_child`: the job on stdin, the result as JSON on stdout."""
    job = json.loads(sys.stdin.read())

    async def go() -> dict:
        server = EmulatorServer()
        server.port = job["port"]  # the parent's emulator
        people = [
            server.private_user(job["token"], first_name=f"Người dùng {i + 1}", user_id=900_000 + i)
            for i in range(len(job["plans"]))
        ]
        latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(user_session(p, q, latencies) for p, q in zip(people, job["plans"], strict=True)))
        seconds = time.perf_counter() - started
        await close_client()
        return {"latencies": latencies, "seconds": seconds}

    print(json.dumps(asyncio.run(go())))


def core_times(kb: KnowledgeBase, asked: list[str]) -> list[float]:
    out = []
    for question in asked:
        started = time.perf_counter()
        paginate(answer_listing(kb.ask(question, limit=30)))
        out.append(time.perf_counter() - started)
    return out


def cpu_seconds(pid: int | str = "self", children: bool = False) -> float:
    """User + system CPU time of a process (and its reaped children) so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(f) for f in fields[11 : 15 if children else 13]) / __import__("os").sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(
    users: int, rounds: int, model: str | None, db: Path | None = None, in_process: bool = False,
    overall_rate: float = OVERALL_RATE,
) -> dict:
    pool = questions()
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer() as emulator:
        embedder = None
        if model:
            from encoders.lazy_model import lazy_embedder

            embedder = lazy_embedder(model)  # as `planbot run`: loaded on first need / warm-up
        if db is not None:
            import shutil

            shutil.copy(db, Path(tmp) / "planbot.db")
            for extra in db.parent.glob(db.name + ".*.hnsw"):
                shutil.copy(extra, Path(tmp) / ("planbot.db" + extra.name[len(db.name):]))
        store = Store(Path(tmp) / "planbot.db")
        if db is None:
            index_paths(store, [ROOT / "sample_plans"], embedder)
        kb = KnowledgeBase(store, embedder)
        token = emulator.new_token()
        settings = BotSettings(
            data_dir=Path(tmp),
            db_path=store.path,
            plans_dir=ROOT / "sample_plans",
            model=model or "",
            telegram_token=token,
            telegram_base_url=emulator.base_url,
        )
        application = build_application(settings, kb, store, embedder, overall_rate=overall_rate)
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
            if embedder is not None:
                await asyncio.to_thread(embedder.get)  # the background warm-up, finished
            state = kb._snapshots.current
            if state.ann is not None:
                await asyncio.to_thread(state.ann.wait)
            await user_session(people[0], [pool[1]], [])
            rss_warm = rss_mb()
            bot_side.clear()
            plans = [
                [pool[(u * rounds + r) % len(pool)] for r in range(rounds)] for u in range(users)
            ]
            emulator_pid = emulator._proc.pid if emulator._proc is not None else 0
            cpu_before = (cpu_seconds(), cpu_seconds(emulator_pid, children=True))
            started = time.perf_counter()
            if in_process:
                await asyncio.gather(
                    *(user_session(p, q, latencies) for p, q in zip(people, plans, strict=True))
                )
                elapsed = time.perf_counter() - started
            else:
                latencies, elapsed = await users_in_child(emulator.port, token, plans)
            rss_loaded = rss_mb()
            cpu_bot = cpu_seconds() - cpu_before[0]
            cpu_emulator = cpu_seconds(emulator_pid, children=True) - cpu_before[1]
        core = core_times(kb, [q for plan in plans for q in plan])
        items = store.item_count()
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
        "users_process": "bot's own" if in_process else "separate",
        "overall_rate_limit": overall_rate,
        "items": items,
        "cpu_ms_per_answer_bot_process": round(cpu_bot * 1000 / len(latencies), 1),
        "cpu_ms_per_answer_emulator": round(cpu_emulator * 1000 / len(latencies), 1),
        "rss_after_warmup_mb": round(rss_warm),
        "rss_after_load_mb": round(rss_loaded),
        "load_average": [round(x, 2) for x in __import__("os").getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=5, help="questions per user, one after another"
    )
    parser.add_argument("--model", help="embedding model folder (default: lexical search only)")
    parser.add_argument("--db", type=Path, help="an existing index to copy (default: index the sample plans)")
    parser.add_argument("--users-in-process", action="store_true", help="simulated users on the bot's event loop")
    parser.add_argument("--simulate-users", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--overall-rate", type=float, default=OVERALL_RATE,
        help=f"the bot's overall send limit, messages/s (default Telegram's {OVERALL_RATE}; 0: none)",
    )
    args = parser.parse_args()
    if args.simulate_users:
        simulate_users()
        return
    result = asyncio.run(
        run(args.users, args.rounds, args.model, args.db, args.users_in_process, args.overall_rate)
    )
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_bot_load.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"{result['users']} users × {result['rounds']} questions ({result['search']}, overall "
        f"limit {result['overall_rate_limit']}/s): "
        f"{result['answers']} answers in {result['seconds']} s = {result['answers_per_second']} answers/s; "
        f"reply latency p50 {result['latency_p50_ms']} ms, p95 {result['latency_p95_ms']} ms, "
        f"max {result['latency_max_ms']} ms; bot side p50 {result['bot_side_p50_ms']} ms, "
        f"p95 {result['bot_side_p95_ms']} ms; core answer p50 {result['core_answer_p50_ms']} ms, "
        f"p95 {result['core_answer_p95_ms']} ms; CPU per answer: bot process (with the simulated "
        f"users) {result['cpu_ms_per_answer_bot_process']} ms, emulator {result['cpu_ms_per_answer_emulator']} ms; "
        f"{result['items']} items; RSS after warm-up "
        f"{result['rss_after_warmup_mb']} MB, after load {result['rss_after_load_mb']} MB; "
        f"load average {result['load_average']}"
    )


if __name__ == "__main__":
    main()
