"""Questions in free text and the buttons under answers: pages (◀ ▶), "Xem nguyên văn",
👍 👎, "Ý bạn là …" (the pick among several agencies) and 📄 (one plan of an answer listed from
several). A question is answered in its chat's plan when it names none (`bot.plan_focus`).

Thin handlers over `KnowledgeBase.ask` and `bot.render.listings` / `bot.render.pages`."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from telegram import Message, Update
from telegram.error import BadRequest

from bot.chat import (
    BAD_BUTTON,
    EXPIRED,
    Choice,
    Context,
    Shown,
    ask_choice,
    callback_parts,
    chat_id_of,
    deps_of,
    message_of,
    query_of,
    recall,
    send_listing,
    today,
)
from bot.lookups import send_duties, send_reporting
from bot.plan_focus import chat_plan, note_answer, pinned_note, plan_button
from bot.render.listings import answer_listing, parse_source_token, source_token
from bot.render.messages import rewrite_question, source_messages
from bot.render.pages import page_keyboard
from indexer.feedback import DOWN, UP, record_unlogged_vote, record_vote, remember_answer
from knowledge.questions.plan_resolver import ChatPlan

ASK_LIMIT = 30  # results per answer (the reply is paginated)
STALE_BUTTON = "Nút này không còn dùng được. Xin gửi lại lệnh hoặc câu hỏi."
CHANGED = "Nội dung này đã thay đổi (kế hoạch vừa được nạp lại). Xin hỏi lại."
THANKS = "Cảm ơn góp ý của bạn!"


def question_text(message: Message, bot_username: str | None) -> str:
    """The question in a message, without the "@bot" mention that addressed it in a group."""
    text = message.text or ""
    if bot_username:
        mention = "@" + bot_username.lower()
        at = text.lower().find(mention)
        while at != -1:
            text = text[:at] + text[at + len(mention) :]
            at = text.lower().find(mention)
    return " ".join(text.split()).strip(" ,:")


async def question(update: Update, context: Context) -> None:
    """Answer a private message, or a group message that mentions or replies to the bot."""
    message = message_of(update)
    await answer(message, context, question_text(message, context.bot.username))


async def answer(
    message: Message, context: Context, text: str, edit: bool = False, plan: ChatPlan | None = None
) -> None:
    """Answer `text`: a choice of agencies when its name is ambiguous, else the paginated answer
    (a reply, or an edit of `message` after a pick). `plan`: keep to this plan (a 📄 pick);
    else the chat's plan when the question names none."""
    deps = deps_of(context)
    chat = plan or chat_plan(deps, message.chat_id)
    # In a worker thread: encoding the question must not stall other chats.
    found = await asyncio.to_thread(deps.kb.ask_in_chat, text, ASK_LIMIT, today(deps), chat)
    if found.candidates and not edit:
        matches = deps.kb.resolve_agency(text)
        matched = matches[0].matched if matches else ""
        await ask_choice(message, context, Choice("ask", list(found.candidates), text, matched))
        return
    listing = answer_listing(found)
    if found.plan_options:
        listing = replace(listing, header=listing.header + " <i>Bấm 📄 một kế hoạch để chỉ xem kế hoạch đó.</i>")
    if not found.answered and (note := pinned_note(deps, chat)):
        listing = replace(listing, footer="\n".join(p for p in (listing.footer, note) if p))
    key = await send_listing(
        message,
        context,
        listing,
        edit=edit,
        question=text,
        intent=found.intent,
        answered=found.answered,
        feedback=found.intent != "invalid",
        plans=[(p.id, plan_button(p)) for p in found.plan_options],
    )
    if found.intent != "invalid":  # votes outlive a restart (chat_data does not)
        remember_answer(deps.store.db, message.chat_id, key, found)
        note_answer(deps, message.chat_id, found)


# ------------------------------------------------------------------------------------------
# Buttons


async def page(update: Update, context: Context) -> None:
    """◀ ▶: show another page of a listing by editing its message."""
    query = query_of(update)
    try:
        _, key, number = callback_parts(update, 3)
        index = int(number)
    except ValueError:
        await query.answer(BAD_BUTTON)
        return
    shown: Shown | None = recall(context, "shown", key)
    if shown is None or not 0 <= index < len(shown.pages):
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer()
    target = shown.pages[index]
    try:
        await query.edit_message_text(
            target.text,
            reply_markup=page_keyboard(key, target, shown.feedback, [label for _, label in shown.plans]),
        )
    except BadRequest as exc:  # the same page pressed twice
        if "not modified" not in str(exc).lower():
            raise


async def source(update: Update, context: Context) -> None:
    """Xem nguyên văn: send the item's full source text."""
    query, deps = query_of(update), deps_of(context)
    try:
        _, token = callback_parts(update, 2)
        item_id, crc = parse_source_token(token)
    except ValueError:
        await query.answer(BAD_BUTTON)
        return
    result = deps.kb.item(item_id)
    if result is None or source_token(result) != f"{item_id}.{crc}":
        await query.answer(CHANGED, show_alert=True)
        return
    await query.answer()
    for text in source_messages(result):
        await context.bot.send_message(chat_id_of(update), text)


async def feedback(update: Update, context: Context) -> None:
    """👍 / 👎: store the vote with the question it judges."""
    query, deps = query_of(update), deps_of(context)
    try:
        _, key, vote = callback_parts(update, 3)
        value = {"up": UP, "down": DOWN}[vote]
    except (ValueError, KeyError):
        await query.answer(BAD_BUTTON)
        return
    thanks = THANKS + (" 👍" if value == UP else " 👎")
    user_id, chat_id = query.from_user.id, chat_id_of(update)
    logged = record_vote(
        deps.store.db, chat_id=chat_id, key=key, user_id=user_id, vote=value
    )
    if logged is not None:
        await query.answer(thanks)
        return
    shown: Shown | None = recall(context, "shown", key)
    if shown is None or not shown.question:
        await query.answer(EXPIRED, show_alert=True)
        return
    record_unlogged_vote(
        deps.store.db,
        chat_id=chat_id,
        user_id=user_id,
        question=shown.question,
        intent=shown.intent,
        answered=shown.answered,
        vote=value,
    )
    await query.answer(thanks)


async def pick(update: Update, context: Context) -> None:
    """Ý bạn là …: the user picked one agency; answer for it in place of the question."""
    query = query_of(update)
    try:
        _, key, number = callback_parts(update, 3)
        choice: Choice | None = recall(context, "choices", key)
        name = choice.candidates[int(number)] if choice else None
    except (ValueError, IndexError):
        await query.answer(BAD_BUTTON)
        return
    if choice is None or name is None:
        await query.answer(EXPIRED, show_alert=True)
        return
    message = query.message
    if not isinstance(message, Message):  # too old to be edited
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer(name[:200])
    if choice.kind == "nhiemvu":
        await send_duties(message, context, name, edit=True)
    elif choice.kind == "baocao":
        await send_reporting(message, context, name, edit=True)
    else:
        question = rewrite_question(choice.question, choice.matched, name)
        await answer(message, context, question, edit=True)


async def plan_pick(update: Update, context: Context) -> None:
    """📄: the answer's question again, kept to the plan picked (a new reply; the list stays)."""
    query, deps = query_of(update), deps_of(context)
    try:
        _, key, number = callback_parts(update, 3)
        shown: Shown | None = recall(context, "shown", key)
        pid = shown.plans[int(number)][0] if shown else None
    except (ValueError, IndexError):
        await query.answer(BAD_BUTTON)
        return
    message = query.message
    if shown is None or pid is None or pid not in deps.kb.plan_refs or not isinstance(message, Message):
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer(deps.kb.plan_refs[pid].label[:200])
    await answer(message, context, shown.question, plan=ChatPlan(pid, pinned=True))


async def noop(update: Update, context: Context) -> None:
    """The page counter button: nothing to do."""
    await query_of(update).answer()


async def unknown_button(update: Update, context: Context) -> None:
    """Callback data no handler knows (forged, from an older version): stop the spinner."""
    await query_of(update).answer(STALE_BUTTON)
