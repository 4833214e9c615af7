"""`planbot run` in webhook mode as 3 processes over one database (issue 19, part 4).

The project's Bot API emulator has no webhooks, so the Bot API here is a minimal stand-in (an
HTTP server in this process answering the methods the bot calls, recording each call), and the
test posts updates to the workers' ports as Telegram, through a proxy, would. What is checked:
each worker starts on its own port and sets the same webhook; a question posted to worker 1 is
answered with pages; "▶" under that answer, posted to worker 2, shows page 2; a forged secret
is refused.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from indexer.indexing import index_paths
from store.database import Store
from tests.test_bot_e2e import QUESTION
from tests.test_reminders_e2e import stop

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token-for-webhook-workers"
SECRET = "webhook_secret_123"
PATH = "telegram/planbot"
CHAT = 4242


class FakeBotApi(BaseHTTPRequestHandler):
    calls: list[tuple[str, dict]] = []
    lock = threading.Lock()
    counter = iter(range(1000, 10**6))

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        method = self.path.rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if "json" in (self.headers.get("Content-Type") or ""):
            params = json.loads(body or "{}")
        else:
            params = dict(parse_qsl(body))
        with self.lock:
            self.calls.append((method, params))
        now = int(time.time())
        if method == "getMe":
            result: object = {
                "id": 1,
                "is_bot": True,
                "first_name": "Planbot",
                "username": "planbot_test_bot",
            }
        elif method in ("sendMessage", "editMessageText"):
            chat = int(params.get("chat_id") or CHAT)
            message_id = int(params.get("message_id") or next(self.counter))
            result = {
                "message_id": message_id,
                "date": now,
                "chat": {"id": chat, "type": "private"},
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


def post(port: int, update: dict, secret: str = SECRET) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{PATH}",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def calls(method: str) -> list[dict]:
    with FakeBotApi.lock:
        return [params for m, params in FakeBotApi.calls if m == method]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def user() -> dict:
    return {"id": CHAT, "is_bot": False, "first_name": "Lan"}


@pytest.mark.e2e
def test_three_webhook_workers_share_one_url_and_answer_each_others_buttons(tmp_path: Path) -> None:
    db = tmp_path / "planbot.db"
    store = Store(db)
    index_paths(store, [ROOT / "sample_plans"], None)
    store.close()
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeBotApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    ports = [free_port() for _ in range(3)]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "PLANBOT_DB": str(db),
        "PLANBOT_MODEL": str(tmp_path / "no-model"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{api.server_address[1]}/bot",
        "PLANBOT_WEBHOOK_URL": f"https://planbot.example.gov.vn:8443/{PATH}",
        "PLANBOT_WEBHOOK_SECRET": SECRET,
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "planbot.cli", "-v", "run", "--port", str(port)],
            env={**env, "PLANBOT_WORKER_ID": f"w{n}"},
            cwd=tmp_path,
            stdout=(tmp_path / f"w{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for n, port in enumerate(ports)
    ]
    try:
        wait_for(lambda: len(calls("setWebhook")) == 3, timeout=90)
        assert {c["url"] for c in calls("setWebhook")} == {env["PLANBOT_WEBHOOK_URL"]}
        for port in ports:  # each worker listens on its own port
            wait_for(lambda port=port: post(port, {"update_id": 1}, secret="wrong") == 403)

        message = {
            "message_id": 10,
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private"},
        }
        update = {"update_id": 2, "message": {**message, "from": user(), "text": QUESTION}}
        assert post(ports[0], update) == 200
        answer = wait_for(
            lambda: [c for c in calls("sendMessage") if "(trang 1/2)" in c.get("text", "")]
        )[0]
        markup = json.loads(answer["reply_markup"])
        [forward] = [
            b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == "▶"
        ]

        sent = {
            **message,
            "message_id": 1000,
            "from": {"id": 1, "is_bot": True, "first_name": "Planbot"},
        }
        press = {
            "id": "cb1",
            "from": user(),
            "chat_instance": "ci",
            "data": forward,
            "message": sent,
        }
        assert post(ports[1], {"update_id": 3, "callback_query": press}) == 200  # worker 2
        page2 = wait_for(
            lambda: [c for c in calls("editMessageText") if "(trang 2/2)" in c.get("text", "")]
        )
        assert "TT 13" in page2[0]["text"], page2[0]["text"]
        assert all(w.poll() is None for w in workers)
    finally:
        for worker in workers:
            stop(worker)
        api.shutdown()
    logs = "\n".join((tmp_path / f"w{n}.log").read_text(errors="replace") for n in range(3))
    assert "Traceback" not in logs and TOKEN not in logs
