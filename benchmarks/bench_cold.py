"""Whole-process cold start: `planbot ask`/`tasks`/`index`/`run` timed as a user runs them.

    python benchmarks/bench_cold.py --db DB [--runs 5] [--code DIR ...] [--no-run]

DB must hold the sample plans indexed with embeddings (`planbot index --db DB sample_plans`).
Each `--code` is a checkout of the project (default: this one) run as `python -m planbot.cli`
(`indexer.cli` in checkouts older than `planbot/`) from its folder, so two versions are measured
side by side, runs interleaved. Per command: median wall time and peak RSS of the process, and
whether it imported torch. `run` is timed from spawn to its first getUpdates, against a minimal
Bot API stand-in served here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STRUCTURED = "Sở Nội vụ chịu trách nhiệm gì?"
DENSE = "Tăng cường ứng dụng công nghệ thông tin trong quản lý hồ sơ bệnh án"
TOKEN = "123456:bench-cold-token"
# Printed by the child at exit: did it import torch? (prepended to `python -c`)
PROBE = (
    "import atexit, sys; atexit.register(lambda: print('TORCH=' + str('torch' in sys.modules), file=sys.stderr)); "
    "from {module} import main; sys.argv[0] = 'planbot'; main()"
)


def cli_module(code: Path) -> str:
    """The module holding the `planbot` group in this checkout (it moved from indexer/ to planbot/)."""
    return "planbot.cli" if (code / "planbot" / "cli.py").exists() else "indexer.cli"


def timed(code: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, bool, int]:
    """(seconds, peak RSS MiB, torch imported, exit status) of one `planbot ARGS` process."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([PYTHON, "-c", PROBE.format(module=cli_module(code)), *args], cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        torch = b"TORCH=True" in err.read()
    return seconds, usage.ru_maxrss / 1024, torch, proc.returncode


class _BotApi(BaseHTTPRequestHandler):
    """Enough of the Bot API for `planbot run` to start polling; notes the first getUpdates."""

    first_poll: threading.Event

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        method = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if method == "getUpdates":
            self.server.first_poll.set()  # type: ignore[attr-defined]
            time.sleep(0.5)
            result: object = []
        elif method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
        else:
            result = True
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the bot was stopped while polling
            pass

    def log_message(self, *args: object) -> None:
        pass


def time_run(code: Path, env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from spawning `planbot run` to its first getUpdates (then it is stopped)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BotApi)
    server.first_poll = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(env, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{server.server_port}/bot")
    env.pop("PLANBOT_WEBHOOK_URL", None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", cli_module(code), "run"], cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        polled = server.first_poll.wait(timeout)  # type: ignore[attr-defined]
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server.shutdown()
    return seconds if polled else float("nan")


CASE_NAMES = ("ask structured", "tasks --agency", "ask dense", "index unchanged", "index --no-embed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", type=Path, action="append", help="project checkout(s) to compare")
    parser.add_argument("--plans", type=Path, default=ROOT / "sample_plans")
    parser.add_argument("--no-run", action="store_true", help="skip `planbot run`")
    parser.add_argument("--only", action="append", help="time only these commands (e.g. 'ask dense')")
    opts = parser.parse_args()
    codes = [c.resolve() for c in opts.code or [ROOT]]
    db, plans = str(opts.db.resolve()), str(opts.plans.resolve())
    env = dict(os.environ, HF_HUB_OFFLINE="1", PLANBOT_DB=db)
    env.setdefault("PLANBOT_MODEL", str(ROOT / "data" / "models" / "multilingual-e5-small"))
    cases = {
        "ask structured": ["ask", "--db", db, STRUCTURED],
        "tasks --agency": ["tasks", "--db", db, "--agency", "Sở Nội vụ"],
        "ask dense": ["ask", "--db", db, DENSE],
        "index unchanged": ["index", "--db", db, plans],
        "index --no-embed": ["index", "--db", db, "--no-embed", plans],
    }
    if opts.only:
        cases = {name: args for name, args in cases.items() if name in opts.only}
    seen: dict[tuple[str, str], list[tuple[float, float, bool, int]]] = {}
    runs: dict[str, list[float]] = {}
    for _ in range(opts.runs):
        for code in codes:
            for name, args in cases.items():
                seen.setdefault((code.name, name), []).append(timed(code, args, env))
            if not opts.no_run:
                runs.setdefault(code.name, []).append(time_run(code, env))
    print(f"{'code':<12} {'command':<18} {'median s':>9} {'max RSS MiB':>12} {'torch':>6} {'exit':>5}   runs")
    for (code, name), rows in seen.items():
        secs = [r[0] for r in rows]
        print(
            f"{code:<12} {name:<18} {statistics.median(secs):9.2f} {max(r[1] for r in rows):12.0f} "
            f"{'yes' if any(r[2] for r in rows) else 'no':>6} {max(r[3] for r in rows):5d}   "
            + " ".join(f"{s:.2f}" for s in secs)
        )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for code in codes:
        med = {name: statistics.median(r[0] for r in seen[(code.name, name)]) for name in cases}
        if len(med) < len(CASE_NAMES):
            continue
        print(
            f"{code.name}: ask structured / tasks = {med['ask structured'] / med['tasks --agency']:.1f}×; "
            f"index unchanged / --no-embed = {med['index unchanged'] / med['index --no-embed']:.1f}×"
            + (f"; run → first getUpdates {statistics.median(runs[code.name]):.2f} s "
               f"({' '.join(f'{s:.2f}' for s in runs[code.name])})" if code.name in runs else "")
        )


if __name__ == "__main__":
    main()
