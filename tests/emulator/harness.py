"""End-to-end harness: a real Bot API emulator on 127.0.0.1 and simulated Telegram users.

`EmulatorServer` runs ``node tests/emulator/launcher.js`` (telegram-test-api behind a fixing
proxy, see README.md). python-telegram-bot talks to it through ``base_url``/``base_file_url``;
`TelegramUser` plays the human side through the emulator's client endpoints. Everything here
uses loopback HTTP only.

    with EmulatorServer() as emu:
        token = emu.new_token()
        app = emu.application_builder(token).build()
        ...
        async with running_bot(app):
            lan = emu.private_user(token, first_name="Lan")
            await lan.send_command("/start")
            [reply] = await lan.wait_for_replies(1)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dtm
import fcntl
import hashlib
import itertools
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import httpx

EMULATOR_DIR = Path(__file__).resolve().parent
LAUNCHER = EMULATOR_DIR / "launcher.js"
LOOPBACK = "127.0.0.1"

_log = logging.getLogger(__name__)
_ids = itertools.count(random.randint(10_000, 90_000) * 1000)


class EmulatorUnavailable(RuntimeError):
    """Node.js (or npm, to install the emulator) is missing on this machine."""


class EmulatorError(RuntimeError):
    """The emulator answered a client/test request with ok=false."""


class ReplyTimeout(AssertionError):
    """The bot did not answer in time (an AssertionError so pytest shows it as a failure)."""


def node_available() -> bool:
    return shutil.which("node") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets/lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# Never let an HTTP(S)_PROXY from the environment capture loopback traffic.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _post_sync(url: str, payload: Any, timeout: float = 10.0) -> Any:
    data = json.dumps(payload if payload is not None else {}).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with _NO_PROXY.open(req, timeout=timeout) as res:
            body = json.loads(res.read())
    except urllib.error.HTTPError as err:
        body = json.loads(err.read() or b"{}")
    if not body.get("ok"):
        raise EmulatorError(f"{url}: {body.get('description', body)}")
    return body["result"]


class EmulatorServer:
    """Runs the emulator (``node launcher.js --port N``) in its own process group.

    Use as a context manager or call start()/stop(). Attributes once started:
    ``api_url`` (http://127.0.0.1:N), ``base_url`` (for ApplicationBuilder.base_url),
    ``file_base_url`` (for ApplicationBuilder.base_file_url).
    """

    def __init__(
        self, *, port: int | None = None, verbose: bool = False, startup_timeout: float = 30.0
    ):
        self._requested_port = port
        self.verbose = verbose
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()
        self.log: deque[str] = deque(maxlen=400)
        self._bot_users: dict[str, dict] = {}

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        if self.port is None:
            raise RuntimeError("EmulatorServer is not started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.api_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.api_url}/file/bot"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def ensure_node_modules() -> None:
        """`npm ci` once, from the committed package-lock.json, if node_modules is missing."""
        marker = EMULATOR_DIR / "node_modules" / "telegram-test-api" / "package.json"
        if marker.exists():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise EmulatorUnavailable(
                "npm is not installed: cannot install tests/emulator/node_modules"
            )
        lock_name = (
            "planbot-emulator-"
            + hashlib.sha1(str(EMULATOR_DIR).encode()).hexdigest()[:12]
            + ".lock"
        )
        with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers: only one installs
            if marker.exists():
                return
            proc = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(EMULATOR_DIR)],
                cwd=EMULATOR_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                raise RuntimeError(
                    f"npm ci failed in {EMULATOR_DIR}:\n{proc.stdout}\n{proc.stderr}"
                )

    def start(self) -> EmulatorServer:
        if self.running:
            return self
        node = shutil.which("node")
        if node is None:
            raise EmulatorUnavailable(
                "node is not installed: the Bot API emulator needs Node.js >= 18"
            )
        self.ensure_node_modules()
        for _attempt in range(3):
            port = self._requested_port or free_port()
            if self._spawn(node, port):
                self.port = port
                return self
            if self._requested_port:
                break
        raise RuntimeError("emulator did not start:\n" + "\n".join(self.log))

    def _spawn(self, node: str, port: int) -> bool:
        cmd = [node, str(LAUNCHER), "--port", str(port), "--exit-with-stdin"]
        cmd += ["--verbose"] if self.verbose else []
        self._ready.clear()
        self._proc = subprocess.Popen(
            cmd,
            cwd=EMULATOR_DIR,
            stdin=subprocess.PIPE,  # closed when this process dies -> the launcher exits
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_output, args=(self._proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            if self._ready.wait(0.05):
                return True
        self.stop()
        return False

    def _read_output(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            self.log.append(line)
            if line.startswith("READY "):
                self._ready.set()
            elif self.verbose or "error" in line.lower():
                _log.info("emulator: %s", line)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if self._reader is not None:
            self._reader.join(2)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    # -- test-side helpers (sync; the emulator is another process, so this never blocks it) ----
    def request(self, path: str, payload: Any = None, timeout: float = 10.0) -> Any:
        """POST JSON to a client or /_test endpoint; returns ``result`` or raises EmulatorError."""
        return _post_sync(self.api_url + path, payload, timeout)

    def bot_api(self, token: str, method: str, **params: Any) -> Any:
        """Call a Bot API method as the bot would (handy for assertions, e.g. getMyCommands)."""
        return _post_sync(f"{self.base_url}{token}/{method}", params)

    @staticmethod
    def new_token() -> str:
        """A fresh, well-formed bot token; every token is an isolated bot in the emulator."""
        return f"{random.randint(10**8, 10**10)}:{secrets.token_urlsafe(26)}"

    def bot_user(self, token: str) -> dict:
        if token not in self._bot_users:
            self._bot_users[token] = self.bot_api(token, "getMe")
        return self._bot_users[token]

    def state(self, token: str) -> dict:
        """What the bot did besides messages: commands (per scope), chat_actions, documents,
        callback_answers, settings, pending_updates, requests (count per Bot API method)."""
        return self.request("/_test/state", {"token": token})

    def set_chat_admins(
        self, chat_id: int, user_ids: Iterable[int], owner_id: int | None = None
    ) -> None:
        """Table used by getChatAdministrators / getChatMember."""
        self.request(
            "/_test/chatAdmins", {"chatId": chat_id, "userIds": list(user_ids), "ownerId": owner_id}
        )

    def file_bytes(self, token: str, file_id: str) -> bytes:
        """Download a file (e.g. one the bot sent with sendDocument) like a client would."""
        path = self.bot_api(token, "getFile", file_id=file_id)["file_path"]
        with _NO_PROXY.open(f"{self.file_base_url}{token}/{path}", timeout=10) as res:
            return res.read()

    def application_builder(self, token: str):  # -> telegram.ext.ApplicationBuilder
        """An ApplicationBuilder already pointed at this emulator."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(token)
            .base_url(self.base_url)
            .base_file_url(self.file_base_url)
        )

    def private_user(
        self,
        token: str,
        *,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        user_id: int | None = None,
    ) -> TelegramUser:
        """A person talking to the bot in a private chat (chat id == user id)."""
        uid = user_id or next(_ids)
        chat = Chat(
            self,
            token,
            {
                "id": uid,
                "type": "private",
                "first_name": first_name,
                **({"username": username} if username else {}),
            },
        )
        return TelegramUser(
            chat, user_id=uid, first_name=first_name, last_name=last_name, username=username
        )

    def group_chat(
        self,
        token: str,
        *,
        title: str = "Tổ công tác",
        chat_type: str = "group",
        chat_id: int | None = None,
    ) -> GroupChat:
        """A group (or supergroup) chat; add people with ``.member(...)``."""
        if chat_id is None:
            n = next(_ids)
            chat_id = -(10**12 + n) if chat_type == "supergroup" else -n
        return GroupChat(self, token, {"id": chat_id, "type": chat_type, "title": title})


# --------------------------------------------------------------------------------------------
# The human side
# --------------------------------------------------------------------------------------------
# One HTTP client per event loop for all simulated users (a client per request costs a TLS context
# and a new connection each time, on the bot's own loop: the load benchmark then measured the
# harness). A client belongs to the loop it was opened on, and pytest gives each test its own loop,
# so they are kept per loop; `running_bot` closes its loop's client when the last bot stops.
_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
_bots_running: dict[asyncio.AbstractEventLoop, int] = {}


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    for other in [other for other in _clients if other.is_closed()]:
        del _clients[other]  # its loop is gone, and its sockets with it
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient(
            trust_env=False, limits=httpx.Limits(max_connections=None, max_keepalive_connections=64)
        )
    return client


async def close_client() -> None:
    """Close the current loop's shared client (a later request opens a new one)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


async def _apost(url: str, payload: Any, timeout: float = 10.0) -> Any:
    res = await _client().post(url, json=payload, timeout=timeout)
    body = res.json()
    if not body.get("ok"):
        raise EmulatorError(f"{url}: {body.get('description', body)}")
    return body["result"]


def _plain(message: dict) -> dict:
    """A message as returned by wait_for_replies, without the harness metadata."""
    return {k: v for k, v in message.items() if not k.startswith("_")}


class Chat:
    """One chat as seen from the client side; reads the bot's messages in that chat in order."""

    def __init__(self, server: EmulatorServer, token: str, chat: dict):
        self.server = server
        self.token = token
        self.chat = chat
        self._cursor = 0  # last outbox entry already returned by wait_for_replies

    @property
    def id(self) -> int:
        return self.chat["id"]

    @property
    def type(self) -> str:
        return self.chat["type"]

    async def wait_for_replies(
        self, n: int = 1, timeout: float = 10.0, events: Iterable[str] = ("message", "edit")
    ) -> list[dict]:
        """Wait until the bot produced ``n`` more messages/edits in this chat and return them.

        Each item is the Telegram Message dict (as after the event: an edit returns the edited
        message) plus ``_event`` ("message" | "edit" | "delete"), ``_request`` (the parameters the
        bot sent, e.g. parse_mode and raw text) and ``_seq``. Events not in ``events`` are skipped.
        """
        wanted = set(events)
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReplyTimeout(
                    f"expected {n} bot replies in chat {self.id} within {timeout}s, got {len(got)}: "
                    + json.dumps([_plain(m) for m in got], ensure_ascii=False)[:2000]
                )
            entries = await _apost(
                self.server.api_url + "/getUpdates",
                {
                    "token": self.token,
                    "chatId": self.id,
                    "after": self._cursor,
                    "timeout": min(remaining, 5.0),
                },
                timeout=remaining + 10,
            )
            for entry in entries:
                if len(got) >= n:
                    break
                self._cursor = entry["seq"]
                if entry["event"] in wanted:
                    got.append(
                        {
                            **entry["message"],
                            "_event": entry["event"],
                            "_request": entry.get("request", {}),
                            "_seq": entry["seq"],
                        }
                    )
        return got

    async def assert_no_reply(self, within: float = 0.5) -> None:
        """Fail if the bot writes anything in this chat during the next ``within`` seconds."""
        try:
            extra = await self.wait_for_replies(
                1, timeout=within, events=("message", "edit", "delete")
            )
        except ReplyTimeout:
            return
        raise AssertionError(f"unexpected bot activity in chat {self.id}: {extra}")


class GroupChat(Chat):
    """A group chat with several people in it."""

    def member(
        self,
        *,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        user_id: int | None = None,
    ) -> TelegramUser:
        return TelegramUser(
            self,
            user_id=user_id or next(_ids),
            first_name=first_name,
            last_name=last_name,
            username=username,
        )


class TelegramUser:
    """A person in a chat (private or group). All helpers are async and loopback-only."""

    def __init__(
        self,
        chat: Chat,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
    ):
        self.chat = chat
        self.server = chat.server
        self.token = chat.token
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            self.user["last_name"] = last_name
        if username:
            self.user["username"] = username

    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def chat_id(self) -> int:
        return self.chat.id

    # -- sending -------------------------------------------------------------------------
    async def _send(
        self,
        route: str,
        text: str,
        entities: list[dict] | None = None,
        reply_to: dict | None = None,
    ) -> dict:
        msg: dict[str, Any] = {
            "botToken": self.token,
            "from": self.user,
            "chat": self.chat.chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = _plain(reply_to)
        return await _apost(self.server.api_url + route, msg)

    async def send_text(self, text: str, *, entities: list[dict] | None = None) -> dict:
        """Send a plain message. Returns {update_id, message_id, message} (message as delivered)."""
        return await self._send("/sendMessage", text, entities)

    async def send_command(self, command: str, args: str = "", *, at_bot: bool = False) -> dict:
        """``send_command("/nhiemvu", "Sở Nội vụ")`` -> "/nhiemvu Sở Nội vụ" with a bot_command
        entity; ``at_bot=True`` writes "/nhiemvu@BotUserName" as people do in groups."""
        if not command.startswith("/"):
            command = "/" + command
        if at_bot:
            command += "@" + (await self._bot_username())
        text = f"{command} {args}" if args else command
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return await self._send("/sendCommand", text, entities)

    async def send_mention(self, text: str = "") -> dict:
        """Mention the bot: "@BotUserName <text>" with a ``mention`` entity (group chats)."""
        mention = "@" + (await self._bot_username())
        full = text if mention in text else (f"{mention} {text}" if text else mention)
        offset = utf16_len(full[: full.index(mention)])
        return await self._send(
            "/sendMessage",
            full,
            [{"type": "mention", "offset": offset, "length": utf16_len(mention)}],
        )

    async def reply_to(self, message: dict, text: str) -> dict:
        """Reply (Telegram "reply" feature) to ``message`` (a bot reply or a sent message)."""
        target = message.get("message", message) if "update_id" in message else message
        return await self._send("/sendMessage", text, reply_to=target)

    async def press(self, button: str, message: dict) -> dict:
        """Press the inline button whose callback_data (or label) is ``button`` on ``message``."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        buttons = [b for row in rows for b in row]
        match = next((b for b in buttons if b.get("callback_data") == button), None) or next(
            (b for b in buttons if b.get("text") == button and "callback_data" in b), None
        )
        if match is None:
            raise ValueError(f"no inline button {button!r} on message; buttons: {buttons}")
        payload = {
            "botToken": self.token,
            "from": self.user,
            "message": _plain(message),
            "data": match["callback_data"],
        }
        return await _apost(self.server.api_url + "/sendCallback", payload)

    async def send_document(
        self,
        file_name: str,
        data: bytes,
        mime: str = "application/octet-stream",
        caption: str | None = None,
    ) -> dict:
        """Send a file; the bot gets a ``document`` it can fetch with get_file()/download."""
        payload = {
            "token": self.token,
            "chatId": self.chat_id,
            "chat": self.chat.chat,
            "user": self.user,
            "fileName": file_name,
            "mimeType": mime,
            "contentBase64": base64.b64encode(data).decode(),
        }
        if caption:
            payload["caption"] = caption
        return await _apost(self.server.api_url + "/_test/sendDocument", payload, timeout=30)

    # -- reading -------------------------------------------------------------------------
    async def wait_for_replies(
        self, n: int = 1, timeout: float = 10.0, events: Iterable[str] = ("message", "edit")
    ) -> list[dict]:
        """The bot's next ``n`` messages/edits in this user's chat (see Chat.wait_for_replies).
        In a group the read position is shared by all members of that GroupChat object."""
        return await self.chat.wait_for_replies(n, timeout, events)

    async def _bot_username(self) -> str:
        return (await asyncio.to_thread(self.server.bot_user, self.token))["username"]


# --------------------------------------------------------------------------------------------
# Running a python-telegram-bot Application against the emulator
# --------------------------------------------------------------------------------------------
class RunningBot:
    def __init__(self, application: Any):
        self.application = application
        self.errors: list[BaseException] = []

    @property
    def bot(self) -> Any:
        return self.application.bot


class BotHandlerError(AssertionError):
    """A handler of the bot under test raised; the original exception is chained."""


@contextlib.asynccontextmanager
async def running_bot(
    application: Any,
    *,
    poll_timeout: float = 10.0,
    raise_errors: bool = True,
    drop_pending_updates: bool = False,
) -> AsyncIterator[RunningBot]:
    """Run ``application`` (built with EmulatorServer.application_builder) in the background:
    initialize, start, long-poll with ``allowed_updates=Update.ALL_TYPES``; stop cleanly on exit.
    Exceptions raised in handlers are collected and re-raised at exit (``raise_errors``)."""
    from telegram import Update

    handle = RunningBot(application)

    async def _collect(update: object, context: Any) -> None:
        handle.errors.append(context.error)
        _log.error("handler error in bot under test", exc_info=context.error)

    application.add_error_handler(_collect)
    loop = asyncio.get_running_loop()
    _bots_running[loop] = _bots_running.get(loop, 0) + 1
    try:
        await application.initialize()
        try:
            await application.start()
            if application.updater is not None:
                await application.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES,
                    timeout=dtm.timedelta(seconds=poll_timeout),
                    drop_pending_updates=drop_pending_updates,
                )
            yield handle
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
    finally:
        application.remove_error_handler(_collect)
        _bots_running[loop] -= 1
        if not _bots_running[loop]:
            del _bots_running[loop]
            await close_client()
    if raise_errors and handle.errors:
        raise BotHandlerError(
            f"{len(handle.errors)} handler error(s): {handle.errors!r}"
        ) from handle.errors[0]
