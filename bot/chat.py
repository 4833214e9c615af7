"""What every Telegram handler shares: its dependencies, the chat it answers, what the chat
was shown (kept for its buttons) and how a listing or a choice is sent.

Dependencies live in ``application.bot_data["deps"]`` (a `Deps`, set by `bot.app`). What the
user was shown (pages of a listing, agency choices, upload previews) is kept per chat in the
database (`bot.storage`) under a short key that the inline buttons carry: any bot process
answers a button pressed under a message another one sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Message, Update
from telegram.ext import ContextTypes

from answering.knowledge_base import KnowledgeBase
from bot import storage
from bot.render.listings import Block, Listing
from bot.render.pages import Page, choice_html, choice_keyboard, page_keyboard, paginate
from bot.settings import BotSettings
from knowledge.telegram_text import split_messages
from store.database import Store

Context = ContextTypes.DEFAULT_TYPE

EXPIRED = "Kết quả này đã cũ. Xin hỏi lại."
BAD_BUTTON = "Nút không hợp lệ."
KEEP = 50  # listings remembered per chat (for ◀ ▶, 👍 👎)


@dataclass
class Deps:
    """What the handlers need, built once at startup by `bot.app.build_application`."""

    settings: BotSettings
    kb: KnowledgeBase
    store: Store
    embedder: Any = None
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Shown:
    """A listing sent to a chat, remembered for its buttons."""

    pages: list[Page]
    question: str = ""
    intent: str = ""
    answered: bool | None = None
    feedback: bool = False
    plans: list[tuple[int, str]] = field(default_factory=list)  # (plan id, button label): 📄 picks


@dataclass
class Choice:
    """An ambiguous agency name waiting for the user's pick."""

    kind: str  # "ask" | "nhiemvu" | "baocao"
    candidates: list[str]
    question: str = ""
    matched: str = ""  # folded words of the question that matched the agencies


# ------------------------------------------------------------------------------------------
# The update and its chat


def deps_of(context: Context) -> Deps:
    return context.bot_data["deps"]


def message_of(update: Update) -> Message:
    if update.effective_message is None:
        raise ValueError("update without a message")
    return update.effective_message


def query_of(update: Update) -> CallbackQuery:
    if update.callback_query is None:
        raise ValueError("update without a callback query")
    return update.callback_query


def chat_id_of(update: Update) -> int:
    if update.effective_chat is None:
        raise ValueError("update without a chat")
    return update.effective_chat.id


def today(deps: Deps) -> date:
    """Today in Vietnam (the one place the bot reads the clock for answers)."""
    return datetime.now(ZoneInfo(deps.settings.timezone)).date()


def is_admin(update: Update, deps: Deps) -> bool:
    user = update.effective_user
    return user is not None and user.id in deps.settings.admin_ids


def callback_parts(update: Update, count: int) -> list[str]:
    """The callback data split on ":" into exactly `count` parts (ValueError otherwise)."""
    parts = (query_of(update).data or "").split(":", count - 1)
    if len(parts) != count:
        raise ValueError(f"bad callback data {query_of(update).data!r}")
    return parts


# ------------------------------------------------------------------------------------------
# What the chat was shown


def remember(context: Context, slot: str, value: object, keep: int = KEEP) -> str:
    """Keep `value` in this chat's `slot` (the oldest beyond `keep` are dropped); returns its key.
    Kept in the database (`bot.storage`): a button pressed later may reach another bot process."""
    return storage.put_state(deps_of(context).store.db, _chat_of(context), slot, value, keep)


def recall(context: Context, slot: str, key: str, pop: bool = False) -> Any:
    """What `remember` kept under `key` (None when forgotten or never there)."""
    chat = context._chat_id  # set by PTB from the update's chat
    if chat is None:
        return None
    return storage.get_state(deps_of(context).store.db, chat, slot, key, pop=pop)


def _chat_of(context: Context) -> int:
    chat = context._chat_id  # PTB sets it from the update's chat (what `chat_data` is keyed by)
    if chat is None:
        raise ValueError("nothing to remember outside a chat")
    return chat


def _shown_payload(shown: Shown) -> tuple[dict, None]:
    pages = [
        {
            "text": p.text,
            "index": p.index,
            "count": p.count,
            "blocks": [asdict(b) for b in p.blocks],
        }
        for p in shown.pages
    ]
    return {**asdict(shown), "pages": pages}, None


def _shown_value(payload: dict, _: bytes | None) -> Shown:
    pages = [
        Page(
            p["text"],
            tuple(Block(**{**b, "groups": tuple(b["groups"])}) for b in p["blocks"]),
            p["index"],
            p["count"],
        )
        for p in payload.pop("pages")
    ]
    return Shown(pages, **{**payload, "plans": [(pid, label) for pid, label in payload["plans"]]})


storage.register_state("shown", _shown_payload, _shown_value)
storage.register_state("choices", lambda c: (asdict(c), None), lambda p, _: Choice(**p))
storage.register_state(
    "pins", lambda ids: ([int(i) for i in ids], None), lambda p, _: [int(i) for i in p]
)


# ------------------------------------------------------------------------------------------
# Replies


async def reply_parts(message: Message, parts: list[str]) -> None:
    for text in split_messages(parts):
        await message.reply_text(text)


async def send_listing(
    message: Message,
    context: Context,
    listing: Listing,
    *,
    edit: bool = False,
    question: str = "",
    intent: str = "",
    answered: bool | None = None,
    feedback: bool = False,
    plans: list[tuple[int, str]] | None = None,
) -> str:
    """First page of `listing` (a reply, or an edit of `message` when `edit`), with its buttons
    (`plans`: a 📄 button per plan to keep the answer to); returns the key the buttons carry."""
    pages = paginate(listing)
    shown = Shown(pages, question, intent, answered, feedback, list(plans or []))
    key = remember(context, "shown", shown)
    markup = page_keyboard(key, pages[0], feedback, [label for _, label in shown.plans])
    if edit:
        await message.edit_text(pages[0].text, reply_markup=markup)
    else:
        await message.reply_text(pages[0].text, reply_markup=markup)
    return key


async def ask_choice(message: Message, context: Context, choice: Choice) -> None:
    """ "Ý bạn là …": one button per candidate agency."""
    key = remember(context, "choices", choice)
    await message.reply_text(
        choice_html(choice.candidates), reply_markup=choice_keyboard(key, choice.candidates)
    )
