"""Telegram HTML text: escaping, clipping, and splitting into messages under Telegram's limit.

Everything that comes from documents or users goes through `esc` (`html.escape`)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from knowledge.text import nfc

MAX_MESSAGE = 4096  # Telegram's limit for one text message
CHUNK = 3500  # full source text: characters per message chunk


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
    """Plain `text` → escaped chunks of at most `limit` characters, cut at line or word ends."""
    chunks: list[str] = []
    current = ""
    for line in nfc(text or "").split("\n"):
        for piece in _line_pieces(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(esc(candidate)) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(esc(current))
            current = piece
    if current.strip():
        chunks.append(esc(current))
    return [c for c in chunks if c.strip()] or [""]


def _line_pieces(line: str, limit: int) -> Iterable[str]:
    """One line in pieces whose escaped form fits `limit` (split at spaces, else hard)."""
    if len(esc(line)) <= limit:
        yield line
        return
    current = ""
    for word in line.split(" "):
        while len(esc(word)) > limit:  # a single monster "word": cut it hard
            head = word[: max(1, limit // 5)]
            if current:
                yield current
                current = ""
            yield head
            word = word[len(head) :]
        candidate = f"{current} {word}" if current else word
        if len(esc(candidate)) <= limit:
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
        pieces = [part] if len(part) <= limit else split_plain(html.unescape(part), limit)
        for piece in pieces:
            candidate = f"{current}{sep}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages or [""]
