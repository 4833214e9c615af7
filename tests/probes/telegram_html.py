"""What Telegram does with a message's HTML, for the probes: a port of its entity parser (the
tags it accepts, entities, nesting), the length it counts (UTF-16 code units) and the problems
a message would be refused for. Shared by p3_questions (copied beside its child script) and
p3b_markup_in_plans."""

from __future__ import annotations

import re

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
TAG_RE = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s[^>]*)?)>")
ENT_RE = re.compile(r"&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot);")
LIMIT = 4096  # UTF-16 code units of the parsed text


def tg_parse(src: str) -> tuple[str | None, str | None]:
    """(plain text, None), or (None, why Telegram would answer "can't parse entities")."""
    out, stack, i = [], [], 0
    while i < len(src):
        c = src[i]
        if c == "<":
            m = TAG_RE.match(src, i)
            if not m:
                return None, f"Unsupported start tag at offset {i}: {src[i : i + 20]!r}"
            closing, name = m.group(1), m.group(2).lower()
            if name not in TAGS:
                return None, f"Unsupported start tag {name!r} at offset {i}"
            if not closing:
                stack.append(name)
            elif not stack or stack.pop() != name:
                return None, f"Unmatched end tag {name!r} at offset {i}"
            i = m.end()
        elif c == "&":
            m = ENT_RE.match(src, i)
            out.append("?" if m else "&")
            i = m.end() if m else i + 1
        else:
            out.append(c)
            i += 1
    if stack:
        return None, f"Unclosed tag {stack[-1]!r}"
    return "".join(out), None


def utf16(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def text_problems(text: str) -> list[str]:
    """Why Telegram would refuse `text` as a message (HTML parse mode); [] when it would not."""
    plain, err = tg_parse(text)
    if err:
        return ["can't parse entities: " + err]
    if not plain.strip():
        return ["message text is empty"]
    if utf16(plain) > LIMIT:
        return [f"message is too long ({utf16(plain)} UTF-16 units)"]
    return []
