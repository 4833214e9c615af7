"""The plan a chat is talking about: /kehoach (pin, show, unpin) and the plan of its last answer.

    /kehoach 141/KH-UBND   pin a plan (named any way questions name one: number, topic, province, year)
    /kehoach               show the pinned plan (and the last answer's)
    /kehoach bỏ            unpin

With a plan pinned, every question in the chat keeps to it unless the question names another.
Without one, "kế hoạch này", "văn bản trên" and follow-ups keep to the plan of the chat's last
answer, for `Settings.chat_focus_minutes`. Both are stored per chat in the database
(`bot.storage`), so any worker answers the next message and a restart loses nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from answering.paths import NOT_IN_PLANS
from bot import storage
from bot.chat import (
    BAD_BUTTON,
    EXPIRED,
    Context,
    Deps,
    callback_parts,
    deps_of,
    message_of,
    query_of,
    recall,
    remember,
)
from knowledge.questions.answer import Answer, PlanRef
from knowledge.questions.plan_resolver import ChatPlan
from knowledge.telegram_text import esc, esc_clip
from knowledge.text import squash

KEHOACH_USAGE = (
    "Cách dùng: /kehoach &lt;số hiệu hoặc tên kế hoạch&gt; để ghim kế hoạch cho cuộc trò chuyện này "
    "(ví dụ /kehoach 141/KH-UBND, /kehoach chuyển đổi số Đồng Tháp); /kehoach để xem; /kehoach bỏ để bỏ ghim."
)
UNPIN = {"bo", "bo ghim", "huy", "huy ghim", "xoa", "thoi"}
MAX_CHOICES = 8


def _now() -> datetime:
    return datetime.now(UTC)


def chat_plan(deps: Deps, chat_id: int) -> ChatPlan | None:
    """The plan this chat is talking about: the pinned one, else its last answer's (if recent)."""
    keep = timedelta(minutes=deps.settings.chat_focus_minutes)
    pinned, last = storage.chat_plans(deps.store.db, chat_id, _now(), keep)
    for file, is_pinned in ((pinned, True), (last, False)):
        pid = deps.kb.plan_of_file(file) if file else None
        if pid is not None:
            return ChatPlan(pid, is_pinned)
    return None


def note_answer(deps: Deps, chat_id: int, answer: Answer) -> None:
    """Remember the plan this answer is about as the chat's "kế hoạch này"."""
    pid = deps.kb.plan_of_answer(answer)
    ref = deps.kb.plan_refs.get(pid) if pid is not None else None
    if ref is not None:
        storage.note_last_plan(deps.store.db, chat_id, ref.file, _now())


def plan_button(ref: PlanRef) -> str:
    """A plan on a button (≤ 60 characters): its number and the start of its title."""
    title = " ".join(ref.title.split())
    text = f"📄 {ref.number} · {title}" if ref.number else f"📄 {title}"
    return text if len(text) <= 60 else text[:59].rstrip() + "…"


def pinned_note(deps: Deps, chat: ChatPlan | None) -> str:
    """The footer of an answer kept to a pinned plan that found nothing there (HTML)."""
    ref = deps.kb.plan_refs.get(chat.plan_id) if chat and chat.pinned else None
    if ref is None:
        return ""
    return (
        f"<i>📌 Đang ghim {esc_clip(ref.label, 200)}: câu hỏi chỉ tìm trong kế hoạch này. "
        "Nêu số hiệu kế hoạch khác trong câu hỏi, hoặc /kehoach bỏ để tìm trong tất cả.</i>"
    )


async def kehoach(update: Update, context: Context) -> None:
    """/kehoach [kế hoạch|bỏ]: pin this chat's plan, show it, or unpin it."""
    deps, message = deps_of(context), message_of(update)
    text = " ".join(context.args or []).strip()
    if not text:
        await message.reply_text(_status(deps, message.chat_id))
        return
    if squash(text) in UNPIN:
        storage.pin_plan(deps.store.db, message.chat_id, None)
        await message.reply_text(
            "Đã bỏ ghim kế hoạch: câu hỏi ở đây tìm trong tất cả các kế hoạch đã nạp."
        )
        return
    found = deps.kb.resolve_plans(text, whole=True)
    ids = found.plans if found.how in ("number", "title", "cited") else frozenset()
    choices = _documents(
        deps, ids or (frozenset(found.ranked[:MAX_CHOICES]) if found.how == "province" else ids)
    )
    if not choices:
        await message.reply_text(
            f"{esc(NOT_IN_PLANS)}: không nhận ra kế hoạch “{esc(text[:100])}”. {KEHOACH_USAGE}"
        )
        return
    if len(choices) == 1:
        await pin(message, deps, choices[0])
        return
    key = remember(context, "pins", choices)
    refs = [deps.kb.plan_refs[pid] for pid in choices]
    rows = [
        [InlineKeyboardButton(plan_button(ref), callback_data=f"g:{key}:{i}")]
        for i, ref in enumerate(refs)
    ]
    await message.reply_text(
        f"Có {len(refs)} kế hoạch khớp “{esc(text[:100])}”. Ghim kế hoạch nào?",
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def pin_pick(update: Update, context: Context) -> None:
    """The plan picked after /kehoach matched several: pin it."""
    query, deps = query_of(update), deps_of(context)
    try:
        _, key, number = callback_parts(update, 3)
        choices: list[int] | None = recall(context, "pins", key)
        pid = choices[int(number)] if choices else None
    except (ValueError, IndexError):
        await query.answer(BAD_BUTTON)
        return
    message = query.message
    if pid is None or pid not in deps.kb.plan_refs or not isinstance(message, Message):
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer()
    await pin(message, deps, pid)


async def pin(message: Message, deps: Deps, pid: int) -> None:
    ref = deps.kb.plan_refs[pid]
    storage.pin_plan(deps.store.db, message.chat_id, ref.file)
    await message.reply_text(
        f"📌 Đã ghim <b>{esc_clip(ref.label, 300)}</b>.\nMọi câu hỏi ở đây sẽ theo kế hoạch này, "
        "trừ khi câu hỏi nêu kế hoạch khác. /kehoach bỏ để bỏ ghim."
    )


def _documents(deps: Deps, ids: frozenset[int]) -> list[int]:
    """One plan id per document (copies of one plan count once), the lowest first."""
    catalog = deps.kb.catalog()
    seen: dict[str, int] = {}
    for pid in sorted(ids):
        meta = catalog.plans.get(pid)
        if meta is not None:
            seen.setdefault(meta.doc, pid)
    return list(seen.values())[:MAX_CHOICES]


def _status(deps: Deps, chat_id: int) -> str:
    chat = chat_plan(deps, chat_id)
    pinned = chat if chat and chat.pinned else None
    lines = []
    if pinned is not None:
        lines.append(
            f"📌 Kế hoạch đang ghim: <b>{esc_clip(deps.kb.plan_refs[pinned.plan_id].label, 300)}</b>."
        )
        lines.append(
            "Mọi câu hỏi ở đây theo kế hoạch này, trừ khi câu hỏi nêu kế hoạch khác. /kehoach bỏ để bỏ ghim."
        )
    else:
        lines.append("Chưa ghim kế hoạch nào: câu hỏi tìm trong tất cả các kế hoạch đã nạp.")
        if chat is not None:
            label = esc_clip(deps.kb.plan_refs[chat.plan_id].label, 300)
            lines.append(f"“Kế hoạch này” lúc này là {label} (của câu trả lời gần nhất).")
        lines.append(KEHOACH_USAGE)
    return "\n".join(lines)
