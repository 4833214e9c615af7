"""Console chat: typed lines go through the bot's real handlers, replies print as plain text.

No token or network: an in-process Bot API (`ConsoleRequest`) stands in for Telegram and
prints what the bot sends. Type a question or a /command; `> label` presses an inline button
of the last reply ("> ▶", "> Xem nguyên văn 1", "> 👍", "> 📄 220/KH-UBND": the start of a label
is enough when it is unique); an empty line or Ctrl-D quits.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from dataclasses import replace
from typing import Any

import click
from telegram import Update
from telegram.request import BaseRequest, RequestData

from answering.knowledge_base import KnowledgeBase
from bot.app import build_application
from bot.settings import BotSettings
from knowledge.telegram_text import to_plain

BOT_USER = {
    "id": 1,
    "is_bot": True,
    "first_name": "Planbot",
    "username": "planbot_console_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
PROMPT = "Bạn"


class ConsoleRequest(BaseRequest):
    """A Bot API that lives in this process: messages are printed, not sent anywhere."""

    def __init__(self, chat: dict) -> None:
        self.chat = chat
        self.messages: dict[int, dict] = {}
        self.last_with_buttons: dict | None = None
        self._ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        result = self._handle(name, dict(params))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _handle(self, name: str, params: dict) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "sendMessage":
            message = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": self.chat,
                "from": BOT_USER,
                "text": to_plain(str(params.get("text", ""))),
            }
            markup = _markup(params)
            if markup:
                message["reply_markup"] = markup
            self._show(message)
            return message
        if name in ("editMessageText", "editMessageReplyMarkup"):
            message = dict(
                self.messages.get(
                    int(params.get("message_id", 0)),
                    {"message_id": 0, "chat": self.chat, "date": int(time.time())},
                )
            )
            if "text" in params:
                message["text"] = to_plain(str(params["text"]))
            message.pop("reply_markup", None)
            markup = _markup(params)
            if markup:
                message["reply_markup"] = markup
            message["edit_date"] = int(time.time())
            self._show(message, edited=True)
            return message
        if name == "answerCallbackQuery":
            if params.get("text"):
                click.echo(f"  🔔 {params['text']}")
            return True
        return True  # setMyCommands, sendChatAction, …: nothing to show

    def _show(self, message: dict, edited: bool = False) -> None:
        self.messages[message["message_id"]] = message
        click.echo(("Bot (sửa tin nhắn):" if edited else "Bot:") + "\n" + message.get("text", ""))
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if rows:
            click.echo("  " + "  ".join(f"[{b['text']}]" for row in rows for b in row))
            self.last_with_buttons = message
        click.echo("")


def _markup(params: dict) -> dict | None:
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    return markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None


def _button(message: dict | None, label: str) -> str | None:
    """The callback data of the button labelled `label` (or starting with it, when only one
    does: "> 📄 220/KH-UBND" presses "📄 220/KH-UBND · Kế hoạch …")."""
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    buttons = [b for row in rows for b in row]
    for button in buttons:
        if label in (button.get("text"), button.get("callback_data")):
            return button.get("callback_data")
    starting = [b for b in buttons if label and str(b.get("text", "")).startswith(label)]
    return starting[0].get("callback_data") if len(starting) == 1 else None


async def console_chat(settings: BotSettings, kb: KnowledgeBase, questions: list[str] | None) -> None:
    """Chat with the bot in the terminal: `questions` in turn, or lines typed on stdin."""
    user_id = min(settings.admin_ids) if settings.admin_ids else 10_001
    user = {"id": user_id, "is_bot": False, "first_name": PROMPT}
    chat = {"id": user_id, "type": "private", "first_name": PROMPT}
    request = ConsoleRequest(chat)
    settings = replace(settings, telegram_token=settings.telegram_token or "1:console")
    application = build_application(settings, kb, kb.store, kb.embedder, request=request)
    ids = itertools.count(1)
    async with application:
        interactive = questions is None
        if interactive:
            click.echo(
                "Trò chuyện với bot (gõ câu hỏi hoặc lệnh; “> nhãn nút” để bấm nút; dòng trống để thoát).\n"
            )
        lines = iter(questions or [])
        while True:
            if interactive:
                try:
                    line = await asyncio.to_thread(input, f"{PROMPT}: ")
                except EOFError:
                    break
                if not line.strip():
                    break
            else:
                line = next(lines, None)
                if line is None:
                    break
                click.echo(f"{PROMPT}: {line}")
            update = _update(next(ids), line, user, chat, request)
            if update is None:
                click.echo(f"  (không có nút “{line[1:].strip()}” trên tin nhắn gần nhất)\n")
                continue
            await application.process_update(Update.de_json(update, application.bot))


def _update(
    update_id: int, line: str, user: dict, chat: dict, request: ConsoleRequest
) -> dict | None:
    now = int(time.time())
    if line.startswith(">"):
        data = _button(request.last_with_buttons, line[1:].strip())
        if data is None:
            return None
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": user,
                "chat_instance": "console",
                "data": data,
                "message": request.last_with_buttons,
            },
        }
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": now,
        "chat": chat,
        "from": user,
        "text": line,
    }
    if line.startswith("/"):
        command = line.split()[0]
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
        ]
    return {"update_id": update_id, "message": message}


def main() -> None:
    """`python -m bot.console [question …]`: console chat over the configured index."""
    from bot.settings import load_bot_settings
    from encoders.lazy_model import lazy_embedder
    from knowledge.errors import PlanbotError
    from store.database import Store

    settings = load_bot_settings()
    try:
        store = Store(settings.db_path, create=False)
    except PlanbotError as exc:
        raise SystemExit(str(exc)) from exc
    kb = KnowledgeBase(store, lazy_embedder(settings.model))  # loaded on the first dense question
    asyncio.run(console_chat(settings, kb, sys.argv[1:] or None))


if __name__ == "__main__":
    main()
