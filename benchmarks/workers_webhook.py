"""p6 through the real bot: `planbot run --port` as N webhook workers over one database, users'
updates posted to a random worker (as the reverse proxy would), while another process reindexes.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py webhook --work /tmp/wp-w

The Bot API is a stand-in (`BotApi`: an HTTP server answering the methods the bot calls and
keeping every message it sends; the project's emulator has no webhooks). Each user posts a
question or "/nhiemvu Sở Nội vụ", waits for the message that replies to it (90 s at most), then
asks again. Failures: no reply, the generic error reply, a /nhiemvu header "N nội dung trong P
kế hoạch" that no mix of whole plans gives (a half-written plan seen), a Traceback or ERROR line
in a worker's log, a worker that died.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from benchmarks.workers_probe import QUESTIONS, ROOT, _per_plan, _spawn, plan_versions

TOKEN = "123456:probe-token-for-webhook-workers"
SECRET = "probe_webhook_secret"
PATH = "telegram/planbot"
GENERIC = "Xin lỗi, đã có lỗi"
HEADER = re.compile(r"Sở Nội vụ</b>: (\d+) nội dung trong (\d+) kế hoạch")
DUTIES = "/nhiemvu Sở Nội vụ"


class BotApi(ThreadingHTTPServer):
    """A stand-in Bot API on 127.0.0.1: answers getMe, sendMessage, editMessageText and (with
    True) anything else; keeps every call and every sent message."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay  # seconds between keeping a sent message and answering (the way back)
        self.calls: list[tuple[str, dict]] = []
        self.changed = threading.Condition()
        self.ids = iter(range(1_000_000, 10**9))
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/bot"

    def record(self, method: str, params: dict) -> None:
        with self.changed:
            self.calls.append((method, params))
            self.changed.notify_all()

    def calls_of(self, method: str) -> list[dict]:
        with self.changed:
            return [p for m, p in self.calls if m == method]

    def sent_to(self, chat_id: int) -> list[dict]:
        with self.changed:
            return [
                p
                for m, p in self.calls
                if m == "sendMessage" and int(p.get("chat_id", 0)) == chat_id
            ]

    def next_message(self, chat_id: int, seen: int, timeout: float) -> dict | None:
        """The first message sent to `chat_id` after the `seen` ones (private chats' replies
        quote nothing, so a user asks one question at a time and takes the next message)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                sent = [
                    p
                    for m, p in self.calls
                    if m == "sendMessage" and int(p.get("chat_id", 0)) == chat_id
                ]
                if len(sent) > seen:
                    return sent[seen]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def settled(self, chat_id: int, quiet: float = 0.3) -> int:
        """How many messages `chat_id` got, once none came for `quiet` s (the rest of an answer
        split in several messages)."""
        count = len(self.sent_to(chat_id))
        while True:
            time.sleep(quiet)
            now = len(self.sent_to(chat_id))
            if now == count:
                return count
            count = now


class _Handler(BaseHTTPRequestHandler):
    server: BotApi

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        method = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        json_body = "json" in (self.headers.get("Content-Type") or "")
        params = json.loads(body or "{}") if json_body else dict(parse_qsl(body))
        self.server.record(method, params)
        if method == "sendMessage" and self.server.delay:
            time.sleep(self.server.delay)  # Telegram has it; its answer is on its way
        if method == "getMe":
            result: object = {
                "id": 1,
                "is_bot": True,
                "first_name": "Planbot",
                "username": "planbot_probe_bot",
            }
        elif method in ("sendMessage", "editMessageText"):
            result = {
                "message_id": int(params.get("message_id") or next(self.server.ids)),
                "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id") or 0), "type": "private"},
                "text": params.get("text", ""),
            }
        else:
            result = True
        data = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_update(port: int, update: dict, secret: str = SECRET) -> int:
    """POST one update to a worker, as Telegram (through the proxy) does; the HTTP status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{PATH}",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def text_update(update_id: int, chat_id: int, message_id: int, text: str) -> dict:
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": f"U{chat_id}"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


def start_workers(
    api: BotApi,
    db: Path | str,
    ports: list[int],
    work: Path,
    names: list[str] | None = None,
    args: tuple[str, ...] = (),
    **env: str,
) -> list[subprocess.Popen]:
    """`planbot run --port P ARGS` per port (webhook mode, no embedding model), named `names`
    (PLANBOT_WORKER_ID; default w0, w1, …), each logging to `work`/<name>.log."""
    base = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "PLANBOT_DB": str(db),
        "PLANBOT_MODEL": str(work / "no-model"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "PLANBOT_WEBHOOK_URL": f"https://planbot.example.gov.vn:8443/{PATH}",
        "PLANBOT_WEBHOOK_SECRET": SECRET,
        "PLANBOT_SEND_RATE": "0",  # Telegram's limit lifted: the stand-in has none
        **env,
    }
    names = names or [f"w{n}" for n in range(len(ports))]
    return [
        subprocess.Popen(
            [sys.executable, "-m", "planbot.cli", "-v", "run", "--port", str(port), *args],
            env={**base, "PLANBOT_WORKER_ID": name},
            cwd=work,
            stdout=(work / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name, port in zip(names, ports, strict=True)
    ]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_webhook(
    work: Path, workers: int = 3, users: int = 20, seconds: float = 60, db: Path | str | None = None
) -> dict:
    a, b, f, valid, _ = plan_versions(work)
    db = db or work / "bot.db"
    _per_plan(f, db)
    api = BotApi()
    ports = [free_port() for _ in range(workers)]
    procs = start_workers(api, db, ports, work)
    stats: Counter = Counter()
    pairs: Counter = Counter()  # (items, plans) of the /nhiemvu headers seen
    examples: list[str] = []
    lock = threading.Lock()
    try:
        deadline = time.monotonic() + 120
        while len(api.calls_of("setWebhook")) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # setWebhook comes just before the server listens
        until = time.time() + seconds
        indexer = _spawn(
            "_reindexer",
            str(db),
            str(a),
            str(b),
            str(f),
            str(until),
            str(work / "reindex.json"),
            log=work / "reindex.log",
        )
        updates = iter(range(1, 10**9))

        def user(n: int) -> None:
            rng = random.Random(n)
            chat_id = 50_000 + n
            seen = 0  # messages this user has had
            for message_id in range(1, 10**6):
                if time.time() >= until:
                    return
                text = DUTIES if rng.random() < 0.5 else rng.choice(QUESTIONS)
                port = rng.choice(ports)
                status = post_update(port, text_update(next(updates), chat_id, message_id, text))
                reply = api.next_message(chat_id, seen, timeout=90) if status == 200 else None
                seen = api.settled(chat_id)
                with lock:
                    stats["questions"] += 1
                    if reply is None:
                        stats["no_reply"] += 1
                        examples.append(f"no reply (HTTP {status}) to {text!r} on :{port}")
                        continue
                    body = reply.get("text", "")
                    if GENERIC in body:
                        stats["generic_errors"] += 1
                        examples.append(f"generic error for {text!r}")
                    if text == DUTIES:
                        found = HEADER.search(body)
                        stats["headers_checked"] += bool(found)
                        if found:
                            pairs[(int(found[1]), int(found[2]))] += 1
                        if found and (int(found[1]), int(found[2])) not in valid:
                            stats["partial_answers"] += 1
                            examples.append(f"impossible header {found[0]!r}")

        threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        indexer.wait()
        alive = sum(1 for p in procs if p.poll() is None)
    finally:
        for proc in procs:
            stop(proc)
        api.shutdown()
    logs = "\n".join(log.read_text(errors="replace") for log in sorted(work.glob("w*.log")))
    bad_lines = [
        line for line in logs.splitlines() if "Traceback" in line or line.startswith("ERROR")
    ]
    reindex = json.loads((work / "reindex.json").read_text())
    return {
        "workers": workers,
        "users": users,
        "seconds": seconds,
        "questions": stats["questions"],
        "no_reply": stats["no_reply"],
        "generic_errors": stats["generic_errors"],
        "headers_checked": stats["headers_checked"],
        "partial_answers": stats["partial_answers"],
        "headers_seen": {f"{n} in {p}": c for (n, p), c in sorted(pairs.items())},
        "reindex_runs": reindex["runs"],
        "reindex_failed": reindex["failed"],
        "error_lines_in_logs": len(bad_lines),
        "workers_alive_at_end": alive,
        "setwebhook_urls": sorted({c.get("url", "") for c in api.calls_of("setWebhook")}),
        "examples": (examples + bad_lines)[:10],
    }
