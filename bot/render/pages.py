"""A listing cut into pages, and the inline keyboards under them. Pure.

`paginate` cuts a listing into pages of at most `PAGE_SIZE` items that each fit in one
Telegram message (4,096 UTF-16 units), always at item boundaries, repeating the group headings
a page starts in. Callback data of the inline buttons (≤ 64 bytes):

    p:<key>:<page>      show page <page> of listing <key>          (◀ ▶)
    s:<item id>.<crc>   the item's full source text                 ("Xem nguyên văn")
    f:<key>:up|down     feedback on the answer of listing <key>     (👍 👎)
    a:<key>:<n>         the user picked agency candidate n          ("Ý bạn là …")
    k:<key>:<n>         listing <key>'s question, in its plan n     (📄 under an answer from several plans)
    g:<key>:<n>         pin plan n of a /kehoach choice             (📄 after /kehoach)
    u:<key>:ok|no       import / cancel an uploaded plan            (Nhập / Huỷ)
    noop                the page counter
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render.listings import Block, Listing
from knowledge.telegram_text import MAX_MESSAGE, esc, utf16_len

PAGE_SIZE = 5  # items per page of a paginated answer
_PAGE_MARK_RESERVE = 40  # room for " (trang n/N)"


@dataclass(frozen=True)
class Page:
    text: str
    blocks: tuple[Block, ...]
    index: int  # 0-based
    count: int


def _render(listing: Listing, blocks: Sequence[Block], index: int, count: int) -> str:
    header = listing.header
    if count > 1:
        header += f" <i>(trang {index + 1}/{count})</i>"
    parts = [header]
    previous: tuple[str, ...] = ()
    for block in blocks:
        level = 0
        while (
            level < len(block.groups)
            and level < len(previous)
            and block.groups[level] == previous[level]
        ):
            level += 1
        for depth, heading in enumerate(block.groups[level:], start=level):
            parts.append(("\n" if depth == 0 else "") + heading)
        parts.append(block.html)
        previous = block.groups
    if listing.footer and index == count - 1:
        parts.append("\n" + listing.footer)
    return "\n".join(parts)


def paginate(listing: Listing, per_page: int = PAGE_SIZE, limit: int = MAX_MESSAGE) -> list[Page]:
    """Pages of at most `per_page` items, each rendered under `limit` UTF-16 units."""
    budget = limit - _PAGE_MARK_RESERVE - utf16_len(listing.footer)
    groups: list[list[Block]] = []
    current: list[Block] = []
    for block in listing.blocks:
        candidate = [*current, block]
        if current and (
            len(candidate) > per_page or utf16_len(_render(listing, candidate, 0, 1)) > budget
        ):
            groups.append(current)
            current = [block]
        else:
            current = candidate
    groups.append(current)
    count = len(groups)
    return [Page(_render(listing, g, i, count), tuple(g), i, count) for i, g in enumerate(groups)]


def split_listing(listing: Listing, limit: int = MAX_MESSAGE) -> list[str]:
    """The whole listing as consecutive messages under `limit`, split at item boundaries."""
    return [
        page.text for page in paginate(listing, per_page=max(1, len(listing.blocks)), limit=limit)
    ]


# ------------------------------------------------------------------------------------------
# Keyboards


def page_keyboard(
    key: str, page: Page, feedback: bool = False, plans: Sequence[str] = ()
) -> InlineKeyboardMarkup | None:
    """Buttons: "Xem nguyên văn n" per item, ◀ n/N ▶ when there are several pages, one 📄 per plan
    to keep the answer to (`plans`: their labels), 👍 👎 for answers."""
    rows: list[list[InlineKeyboardButton]] = []
    sources = [
        InlineKeyboardButton(f"Xem nguyên văn {b.number}", callback_data=f"s:{b.source}")
        for b in page.blocks
        if b.source
    ]
    rows += [sources[i : i + 2] for i in range(0, len(sources), 2)]
    if page.count > 1:
        nav = []
        if page.index > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=f"p:{key}:{page.index - 1}"))
        nav.append(InlineKeyboardButton(f"{page.index + 1}/{page.count}", callback_data="noop"))
        if page.index < page.count - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=f"p:{key}:{page.index + 1}"))
        rows.append(nav)
    rows += [[InlineKeyboardButton(label, callback_data=f"k:{key}:{i}")] for i, label in enumerate(plans)]
    if feedback:
        rows.append(
            [
                InlineKeyboardButton("👍", callback_data=f"f:{key}:up"),
                InlineKeyboardButton("👎", callback_data=f"f:{key}:down"),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def choice_html(candidates: Sequence[str]) -> str:
    return "Ý bạn là: " + " / ".join(f"<b>{esc(c)}</b>" for c in candidates) + "?"


def choice_keyboard(key: str, candidates: Sequence[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(c[:60], callback_data=f"a:{key}:{i}")]
            for i, c in enumerate(candidates)
        ]
    )


def upload_keyboard(key: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Nhập", callback_data=f"u:{key}:ok"),
                InlineKeyboardButton("✖️ Huỷ", callback_data=f"u:{key}:no"),
            ]
        ]
    )
