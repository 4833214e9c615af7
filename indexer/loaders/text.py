"""Plain-text plans (.txt, .md): bytes → text, refusing what cannot be decoded faithfully."""

from __future__ import annotations

import re
import unicodedata

from knowledge.document import Document, from_text
from knowledge.errors import PlanbotError
from knowledge.text import nfc

_VIETNAMESE = set(
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# A Vietnamese syllable without its tone mark: onset, vowel nucleus, coda.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"([aăâeêioôơuưy]{1,3})"
    r"(ch|ng|nh|[cmnptk])?$"  # k: Đắk Lắk
)


def load_text(name: str, data: bytes) -> Document:
    text, warnings = decode_text(name, data)
    document = from_text(text)
    document.warnings.extend(warnings)
    return document


def decode_text(name: str, data: bytes) -> tuple[str, list[str]]:
    """Text of a .txt/.md file (NFC) and warnings. Raises `PlanbotError` with a reason."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return nfc(data.decode("utf-16")), []
        except UnicodeDecodeError as exc:  # odd byte count, lone surrogate
            raise PlanbotError(
                f"Tệp '{name}' ghi bằng UTF-16 nhưng bị hỏng ({exc.reason}). Hãy lưu lại với bảng mã UTF-8."
            ) from exc
    if b"\x00" in data[:4096]:
        raise PlanbotError(f"Tệp '{name}' là tệp nhị phân, không phải văn bản.")
    try:
        return nfc(data.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        pass
    # Legacy Vietnamese encoding (Windows-1258): accepted only when the result reads as Vietnamese.
    text = nfc(data.decode("cp1258", errors="replace"))
    if reads_as_vietnamese(text):
        return text, [f"'{name}' không phải UTF-8; đã đọc theo bảng mã Windows-1258."]
    raise PlanbotError(f"Tệp '{name}' không phải văn bản UTF-8. Hãy lưu lại với bảng mã UTF-8.")


def reads_as_vietnamese(text: str) -> bool:
    """True when `text` (NFC) is Vietnamese: Vietnamese letters only, no stray combining marks
    or control characters, and the words carrying diacritics are well-formed syllables (so
    Latin-1 or Windows-1252 text decoded as Windows-1258, whose letters come out corrupted,
    is refused)."""
    if not text.strip():
        return False
    odd = sum(
        1
        for c in text
        if c == "\ufffd"
        or unicodedata.combining(c)
        or unicodedata.category(c) in ("Cc", "So")
        and c not in "\n\t\r"
    )
    letters = [c for c in text.lower() if c.isalpha()]
    if not letters or odd / len(text) >= 0.001:
        return False
    if sum(1 for c in letters if c in _VIETNAMESE) / len(letters) <= 0.97:
        return False
    marked = [w for w in re.findall(r"\w+", text.lower()) if not w.isascii() and w.isalpha()]
    if not marked:
        return True
    good = sum(1 for w in marked if _is_syllable(w))
    return good / len(marked) >= 0.97


def _is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    m = _SYLLABLE.match(base)
    if not m:
        return False
    nucleus, coda = m.group(2), m.group(3)
    # ă and â never end a syllable: "ăn", "cân", never "mă".
    return not (nucleus[-1] in "ăâ" and not coda)
