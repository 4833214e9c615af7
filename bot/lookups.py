"""Look-up commands: /start and /help, /plans, /nhiemvu, /hanchot, /baocao.

Thin handlers: the knowledge base finds, `bot.render.listings` and `bot.render.messages` render."""

from __future__ import annotations

from telegram import Message, Update

from answering.paths import UNKNOWN_AGENCY
from bot.chat import (
    Choice,
    Context,
    ask_choice,
    deps_of,
    is_admin,
    message_of,
    reply_parts,
    send_listing,
    today,
)
from bot.periods import USAGE as HANCHOT_USAGE
from bot.periods import parse_period
from bot.render.listings import due_listing, duties_listing, reporting_listing
from bot.render.messages import help_parts, plans_parts
from knowledge.orgs.names import find_provinces
from knowledge.telegram_text import esc
from reminders.storage import done_item_ids

NHIEMVU_USAGE = "Cách dùng: /nhiemvu <tên cơ quan>, ví dụ: /nhiemvu Sở Nội vụ"


async def start(update: Update, context: Context) -> None:
    """/start, /help: what the bot knows, example questions, commands and the list of plans."""
    deps = deps_of(context)
    await reply_parts(message_of(update), help_parts(deps.kb.plans(), is_admin(update, deps)))


async def plans(update: Update, context: Context) -> None:
    """/plans: the indexed plans."""
    await reply_parts(message_of(update), plans_parts(deps_of(context).kb.plans()))


async def nhiemvu(update: Update, context: Context) -> None:
    """/nhiemvu <cơ quan>: every duty of an agency across plans, grouped by status."""
    deps, message = deps_of(context), message_of(update)
    name = " ".join(context.args or [])
    if not name.strip():
        await message.reply_text(esc(NHIEMVU_USAGE))
        return
    names, certain = deps.kb.agency_choices(name)
    if not names:  # the same words as a free-text question about an unknown agency
        await message.reply_text(
            f"{esc(UNKNOWN_AGENCY)}: “{esc(name[:100])}”. {esc(NHIEMVU_USAGE)}"
        )
        return
    if not certain:  # "UBND" / "BHXH" alone: which level; a typo: which of the close names
        await ask_choice(message, context, Choice("nhiemvu", names))
        return
    await send_duties(message, context, names[0], provinces=find_provinces(name))


async def send_duties(
    message: Message,
    context: Context,
    agency: str,
    edit: bool = False,
    provinces: list[str] | None = None,
) -> None:
    """An agency's duties by status (a reply, or an edit of `message` after a pick)."""
    deps = deps_of(context)
    done = done_item_ids(deps.store.db, message.chat_id)  # tasks this chat marked "Đã xong"
    listing = duties_listing(agency, deps.kb.duties_in(agency, provinces), today(deps), done)
    await send_listing(message, context, listing, edit=edit)


async def hanchot(update: Update, context: Context) -> None:
    """/hanchot [tháng|quý|ngày]: what falls due in a period (default: the next 30 days)."""
    deps, message = deps_of(context), message_of(update)
    try:
        period = parse_period(" ".join(context.args or []), today(deps))
    except ValueError as exc:
        await message.reply_text(f"Xin lỗi, {esc(str(exc))}. {esc(HANCHOT_USAGE)}")
        return
    results = deps.kb.due_in(period.start, period.end)  # "Trước 01/7/2025" falls in June
    await send_listing(message, context, due_listing(results, period.label, period.span))


async def baocao(update: Update, context: Context) -> None:
    """/baocao [cơ quan]: periodic reporting rules — who reports what to whom, by which day."""
    deps, message = deps_of(context), message_of(update)
    name = " ".join(context.args or []).strip()
    if name:
        matches = deps.kb.resolve_agency(name)
        if not matches:
            await message.reply_text(
                f"Không nhận ra cơ quan “{esc(name[:100])}”. Ví dụ: /baocao Sở Y tế"
            )
            return
        if len(matches) > 1 and matches[0].score < 100:
            await ask_choice(message, context, Choice("baocao", [m.name for m in matches]))
            return
        name = matches[0].name
    await send_reporting(message, context, name or None)


async def send_reporting(
    message: Message, context: Context, agency: str | None, edit: bool = False
) -> None:
    """Reporting rules (of `agency`, or all), as a reply or an edit of `message` after a pick."""
    results = deps_of(context).kb.reporting([agency] if agency else None)
    await send_listing(message, context, reporting_listing(results, agency), edit=edit)
