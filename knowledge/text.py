"""Text normalisation: NFC on the way in, a diacritics-folded form for comparisons."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def nfc(text: str) -> str:
    """Unicode NFC with odd spaces collapsed (keeps newlines)."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return text


def clean_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in base if not unicodedata.combining(c))
    if len(base) != 1:
        return ch.lower()
    return base.lower()


def _fold_table() -> dict[int, str]:
    table = {}
    for code in (*range(0x00, 0x250), *range(0x1E00, 0x1F00)):
        folded = _fold_char(chr(code))
        if len(folded) == 1 and folded != chr(code):
            table[code] = folded
    return table


_FOLD_TABLE = _fold_table()
_OTHER_SCRIPTS = re.compile("[^\u0000-\u024f\u1e00-\u1eff]")


def fold(text: str) -> str:
    """Lower-case, diacritics removed (đ→d), one output char per input char of NFC text.

    Because the mapping is char-for-char, offsets found in the folded text are valid in the
    NFC original, which lets matches on folded text be shown in their original spelling.
    (Latin letters go through one translation table; anything else char by char.)
    """
    text = nfc(text).translate(_FOLD_TABLE)
    return _OTHER_SCRIPTS.sub(lambda m: _fold_char(m.group(0)), text)


_WORD = re.compile(r"[0-9a-zA-Z\u00c0-\u1ef9]+(?:[&/][0-9a-zA-Z\u00c0-\u1ef9]+)*")


def words(text: str) -> list[str]:
    """Folded word tokens (syllables for Vietnamese)."""
    return _WORD.findall(fold(text))


def has_diacritics(text: str) -> bool:
    t = nfc(text)
    if t.isascii():
        return False
    return any(_fold_char(c) != c.lower() for c in t if c.isalpha())


def squash(text: str) -> str:
    """Folded, alphanumerics only, single spaces: the key used for fuzzy name comparison."""
    return " ".join(words(text))


def squash_folded(folded: str) -> str:
    """`squash` of text that is already folded (no second folding pass)."""
    return " ".join(_WORD.findall(folded))


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def tone_key(word: str) -> str:
    """A word's letters and tone, independent of where the tone mark sits ("uỷ" = "ủy").

    Unlike `fold`, it keeps the letter shapes and the tone: "số" ≠ "sở", "bảo" ≠ "báo".
    """
    marks = unicodedata.normalize("NFD", word.lower())
    tones = "".join(sorted(c for c in marks if c in _TONES))
    return unicodedata.normalize("NFC", "".join(c for c in marks if c not in _TONES)) + tones
