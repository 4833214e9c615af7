"""What kind of value a question asks for, and whether a text holds one.

An answer may be given only when its first item holds the kind of value asked: an amount of
money ("bao nhiêu tiền", "kinh phí bao nhiêu"), a phone number or hotline, an e-mail address, a
person ("ai ký", "đồng chí nào"). Pure: folded question, raw text.
"""

from __future__ import annotations

import re

from knowledge.text import fold

MONEY, PHONE, EMAIL, PERSON = "money", "phone", "email", "person"

_ASKS = {
    MONEY: re.compile(
        r"\bbao nhieu\s+(tien|dong|ty|trieu|nghin|ngan dong|kinh phi|von|ngan sach)\b"
        r"|\b(kinh phi|tong kinh phi|ngan sach|nguon von|tong von|von dau tu|muc ho tro|muc chi|so tien|chi phi|du toan)\b"
        r"[^?.;]{0,60}\b(la )?bao nhieu\b(?!\s+(ngay|thang|nam|lan|nguoi|lop|xa|don vi|co quan|nhiem vu|hoc vien|dot|tuan|gio))"
        r"|\bbao nhieu\b[^?.;]{0,30}\b(ty dong|trieu dong|dong)\b"
    ),
    PHONE: re.compile(
        r"\b(so dien thoai|dien thoai|duong day nong|hotline|tong dai|so fax)\b[^?.;]{0,40}\b(la gi|la so nao|so may|so nao|la bao nhieu|nao)\b"
        r"|\b(goi|lien he|lien lac)\s+(den\s+|toi\s+)?(so|so dien thoai|duong day nong)\s+(nao|may|gi)\b|\bso dien thoai\b"
    ),
    EMAIL: re.compile(
        r"\bdia chi\s+(email|e mail|thu dien tu|hop thu)\b"
        r"|(?<!he thong )\b(email|e mail|thu dien tu|hop thu)\b[^?.;]{0,60}\b(la gi|nao|la dia chi nao)\b"
    ),
    PERSON: re.compile(
        r"\b(ai ky|nguoi ky|do ai ky|ky boi ai|dong chi nao|ong nao|ba nao|ho ten|ho va ten|nguoi nao ky)\b"
        r"|\b(nguoi|can bo|lanh dao|truong ban|giam doc|chu tich)\b[^?]{0,30}\bten\b"
    ),
}

_HOLDS = {
    MONEY: re.compile(
        r"\d[\d.,]*\s*(ty|trieu|nghin|ngan)\b|\d[\d.,]*\s*(dong|vnd|usd)\b|\d{1,3}(\.\d{3}){2,}"
    ),
    PHONE: re.compile(
        r"(?<![\d/])(\+?84|0)\d{2,3}[\s.-]?\d{3}[\s.-]?\d{3,4}(?![\d/])|\b1[89]00[\s.]?\d{3,4}\b"
        r"|\b(so|goi|duong day nong|tong dai|hotline)\s*(so\s*)?:?\s*11[1-6]\b"
    ),
    EMAIL: re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
}

# A Vietnamese personal name: a common family name and one to three more capitalised syllables.
_SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Trương Lâm Mai Trịnh Cao Tạ "
    "Lương Vương Tô Châu Thái Kiều Quách Lưu Tăng Triệu Chu La Lò Hứa Giang Thân Khổng Nông Quan Ông Mạc Âu Tống"
).split()
_UPPER = "A-ZĐÀ-Ỹ"
_CAP = rf"[{_UPPER}][\wÀ-ỹ]*"
_NAME = re.compile(rf"\b({'|'.join(_SURNAMES)})(\s+{_CAP}){{2,3}}\b")
_TITLED = re.compile(rf"\b(đồng chí|ông|bà|Đồng chí|Ông|Bà|Đ/c|đ/c)\s+{_CAP}(\s+{_CAP})*")


def asked_kind(question: str) -> str | None:
    """The kind of value the question asks for (money, phone, email, person), or None."""
    folded = fold(question)
    for kind, pattern in _ASKS.items():
        if pattern.search(folded):
            return kind
    return None


def holds(kind: str, text: str) -> bool:
    """The text holds a value of that kind."""
    if kind == PERSON:
        return bool(_NAME.search(text) or _TITLED.search(text))
    return bool(_HOLDS[kind].search(text if kind == EMAIL else fold(text)))
