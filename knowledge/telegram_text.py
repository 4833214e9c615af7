"""Telegram HTML text: escaping, clipping, and splitting into messages under Telegram's limit.

The one place for both the bot (`bot.render`) and the reminders (`reminders.render`). Telegram
counts a message's length in UTF-16 code units (an emoji such as 📄 counts two), so every
length against `MAX_MESSAGE` here is `utf16_len`. Everything that comes from documents or users
goes through `esc` (`html.escape`). Pure."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence

from knowledge.text import nfc

MAX_MESSAGE = 4096  # Telegram's limit for one text message, in UTF-16 code units
CHUNK = 3500  # full source text: characters per message chunk


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: str | None) -> str:
    """Escape text from documents or users for Telegram HTML."""
    return html.escape(text or "", quote=False)


def esc_clip(text: str | None, limit: int) -> str:
    """Escaped, whitespace-collapsed `text`, shortened with "…" so the *escaped* form fits."""
    plain = " ".join((text or "").split())
    out = esc(plain)
    if len(out) <= limit:
        return out
    used, cut = 1, 0  # 1: the "…"
    for ch in plain:
        used += len(esc(ch))
        if used > limit:
            break
        cut += 1
    return esc(plain[:cut].rstrip()) + "…"


def to_plain(html_text: str) -> str:
    """Telegram HTML → plain text (for the console chat)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def split_plain(text: str, limit: int = CHUNK) -> list[str]:
    """Plain `text` → escaped chunks of at most `limit` UTF-16 units, cut at line or word ends."""
    chunks = [esc(chunk) for chunk in _split(nfc(text or ""), limit, _escaped_len)]
    return [c for c in chunks if c.strip()] or [""]


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """HTML `text` whose tags never span a line → pieces of at most `limit` UTF-16 units, cut at
    line ends, then at spaces, then anywhere."""
    return _split(text, limit, utf16_len)


def _escaped_len(text: str) -> int:
    return utf16_len(esc(text))


def _split(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """`text` in chunks whose `size` is at most `limit`: whole lines joined while they fit, a
    line too long on its own cut at spaces (a word too long, anywhere)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _line_pieces(line, limit, size):
            candidate = f"{current}\n{piece}" if current else piece
            if size(candidate) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
    if current.strip():
        chunks.append(current)
    return chunks


def _line_pieces(line: str, limit: int, size: Callable[[str], int]) -> Iterable[str]:
    """One line in pieces whose `size` fits `limit` (split at spaces, else hard)."""
    if size(line) <= limit:
        yield line
        return
    current = ""
    for word in line.split(" "):
        while size(word) > limit:  # a single monster "word": cut it hard
            head = word[: max(1, limit // 5)]
            if current:
                yield current
                current = ""
            yield head
            word = word[len(head) :]
        candidate = f"{current} {word}" if current else word
        if size(candidate) <= limit:
            current = candidate
        else:
            yield current
            current = word
    if current:
        yield current


def split_messages(parts: Sequence[str], limit: int = MAX_MESSAGE, sep: str = "\n\n") -> list[str]:
    """Join HTML `parts` into as few messages as possible, each ≤ `limit`, at part boundaries.

    A part longer than `limit` on its own is split as plain text (callers only pass such
    parts for already-escaped prose without tags)."""
    messages: list[str] = []
    current = ""
    for part in parts:
        if not part:
            continue
        pieces = [part] if utf16_len(part) <= limit else split_plain(html.unescape(part), limit)
        for piece in pieces:
            candidate = f"{current}{sep}{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages or [""]
