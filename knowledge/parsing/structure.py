"""Document → blocks the parser reads: paragraphs and tables, numbering recognised, noise dropped.

- Container numbering (`Paragraph.label`, e.g. Word's list numbers) is trusted as the numbering.
- Typed numbering is recognised by its *type*: Phần > Chương > Mục > Điều (legal documents) and
  I. > 1. > 1.1. > a) > bullets (plans); the parser nests them by type, never by markdown level.
- Website noise a crawler or a copy-paste captured (copyright notices, navigation, site fields,
  contact lines) is dropped by general signals, not by one sentence.
- A paragraph holding a whole page (a web page pasted as one line) is split at numbering
  boundaries so its structure can be found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.document import TEXT, Document, Table
from knowledge.text import clean_spaces, fold, nfc

PART_RE = re.compile(r"^(?P<word>Phần|PHẦN)\s+(?P<label>[IVXLC]{1,6}|\d{1,2}|thứ \w+)\b\s*[.:\-–]?\s*(?P<rest>.*)$", re.S)
CHAPTER_RE = re.compile(r"^(?P<word>Chương|CHƯƠNG)\s+(?P<label>[IVXLC]{1,6}|\d{1,2})\b\s*[.:\-–]?\s*(?P<rest>.*)$", re.S)
LSECTION_RE = re.compile(r"^(?P<word>Mục|MỤC)\s+(?P<label>\d{1,2}|[IVX]{1,4})\b\s*[.:\-–]?\s*(?P<rest>.*)$", re.S)
ARTICLE_RE = re.compile(r"^(?P<word>Điều|ĐIỀU)\s+(?P<label>\d{1,3}[a-z]?)\s*[.:]\s*(?P<rest>.*)$", re.S)
ROMAN_RE = re.compile(r"^(?P<label>[IVX]{1,5})\s*[.:/]\s*(?P<rest>.*)$")
DOTTED_RE = re.compile(r"^(?P<label>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<rest>.+)$")
ARABIC_RE = re.compile(r"^(?P<label>\d{1,2})\s*[.)/]\s*(?P<rest>.+)$")
LETTER_RE = re.compile(r"^(?P<label>[a-zđ])\)\s*(?P<rest>.+)$")
BULLET_RE = re.compile(r"^(?P<mark>[-–•+*])\s+(?P<rest>.+)$")
LEGAL_KINDS = ("part", "chapter", "lsection", "article")
PLAN_KINDS = ("roman", "dotted", "arabic", "letter")
# Nesting rank: a heading closes every open heading of the same or a lower rank.
RANK = {"part": 1, "chapter": 2, "lsection": 3, "article": 4, "roman": 5, "arabic": 6, "dotted": 7, "letter": 8}
SIGNATURE_RE = re.compile(r"^(nơi nhận|noi nhan)\s*:?", re.I)
SIGNER_RE = re.compile(r"^(TM|KT|Q|TL|TUQ)\.\s*[A-ZĐÀ-Ỹ]")
APPENDIX_RE = re.compile(r"^(phụ lục|phu luc|danh mục|danh muc)\b", re.I)
TERMINAL = (".", ";", ":", "!", "?", "./.", "…")
LONG_PARAGRAPH = 1200  # characters: longer paragraphs are checked for run-in numbered items


@dataclass
class Block:
    kind: str  # "para" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    after_signature: bool = False
    label: str = ""  # numbering given by the container (trusted)
    page: int | None = None
    number: int = 0  # 1-based position among paragraphs ("đoạn N") or among tables ("bảng N")


def strip_markdown(line: str) -> str:
    line = re.sub(r"^\s{0,3}#{1,6}\s*", "", line)
    line = line.replace("**", "").replace("__", "")
    line = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", r"\1", line)
    line = re.sub(r"^\*+\s*|\s*\*+$", "", line)
    line = re.sub(r"\$\s*\\geq?\s*", "≥ ", line)
    line = re.sub(r"\$\s*\\leq?\s*", "≤ ", line)
    line = line.replace("\\geq", "≥").replace("\\leq", "≤").replace("\\%", "%")
    line = re.sub(r"_\{([^}]*)\}", r"_\1", line)
    line = line.replace("$", "")
    return line.rstrip()


def _roman(line: str) -> bool:
    """"II. NỘI DUNG", "I/ MỤC ĐÍCH" — not a letter's subject line "V/v …"."""
    m = ROMAN_RE.match(line)
    return bool(m and m.group("rest").strip() and (m.group("rest")[:1].isupper() or m.group("rest")[:1].isdigit()))


def starts_item(line: str) -> bool:
    line = line.split("\n", 1)[0]
    return _roman(line) or any(r.match(line) for r in (DOTTED_RE, ARABIC_RE, LETTER_RE, BULLET_RE)) or bool(
        ARTICLE_RE.match(line) or (CHAPTER_RE.match(line) or PART_RE.match(line)) and _caps_after(line)
    )


def _caps_after(line: str) -> bool:
    m = CHAPTER_RE.match(line) or PART_RE.match(line) or LSECTION_RE.match(line)
    rest = m.group("rest").strip() if m else ""
    return not rest or rest[:1].isupper() or rest[:1].isdigit()


def numbering(block: Block) -> tuple[str, str, str] | None:
    """(kind, label, rest of the paragraph) of a numbered paragraph, else None. Kinds: part,
    chapter, lsection, article, roman, dotted, arabic, letter, bullet."""
    text = block.text
    if block.label:
        return _label_kind(block.label), block.label.strip().rstrip(".)").strip(), text
    first = text.split("\n")[0]
    tail = text[len(first) :]
    for kind, regex in (("article", ARTICLE_RE), ("chapter", CHAPTER_RE), ("part", PART_RE), ("lsection", LSECTION_RE)):
        m = regex.match(first)
        if m and (kind == "article" or _caps_after(first)):
            label = f"{m.group('word').capitalize()} {m.group('label')}"
            return kind, label, m.group("rest") + tail
    m = ROMAN_RE.match(first)
    if m and _roman(first):
        return "roman", m.group("label"), m.group("rest") + tail
    for kind, regex in (("dotted", DOTTED_RE), ("arabic", ARABIC_RE), ("letter", LETTER_RE)):
        m = regex.match(first)
        if m:
            return kind, m.group("label"), m.group("rest") + tail
    m = BULLET_RE.match(text)
    if m:
        return "bullet", m.group("mark"), m.group("rest")
    return None


def _label_kind(label: str) -> str:
    label = label.strip()
    for kind, regex in (("article", ARTICLE_RE), ("chapter", CHAPTER_RE), ("part", PART_RE)):
        if regex.match(label + " x"):
            return kind
    if re.fullmatch(r"[IVX]{1,5}[.)]?", label):
        return "roman"
    if re.fullmatch(r"\d{1,2}(?:\.\d{1,2})+\.?", label):
        return "dotted"
    if re.fullmatch(r"\d{1,3}[.)]?", label):
        return "arabic"
    if re.fullmatch(r"[a-zđ][.)]", label):
        return "letter"
    return "bullet"


# ---------------------------------------------------------------------------------------------
# Website noise

_URL = re.compile(r"https?://|www\.|\b[\w-]+\.(?:vn|com|net|org|gov)\b|@\w+\.\w+|\[email", re.I)
_URL_TOKEN = re.compile(r"\S*(?:https?://|www\.|\.(?:vn|com|net|org|gov)\b|@)\S*", re.I)
_NOISE_WORDS = re.compile(
    r"\b(?:ban quyen|copyright|quyen so huu|dang nhap|dang xuat|dang tai van ban|ma so thue|dien thoai:|e-mail:|"
    r"click|ra chuot|quy khach|da biet|dang cap nhat|noi dung tieng anh|tai ve)\b"
)
_SITE_FIELDS = re.compile(
    r"\b(?:so hieu|loai van ban|noi ban hanh|nguoi ky|ngay ban hanh|ngay hieu luc|ngay cong bao|so cong bao|"
    r"tinh trang|hieu luc|cap nhat)\s*:"
)


def noise_signals(text: str) -> int:
    """How many website signals a line carries: URLs and contacts, copyright and login notices,
    the site's own field list (Số hiệu: / Tình trạng: …)."""
    folded = fold(text)
    signals = (1 if _URL.search(text) else 0) + len(set(_NOISE_WORDS.findall(folded)))
    fields = len(_SITE_FIELDS.findall(folded))
    return signals + (2 if fields >= 2 else fields)


def is_noise(text: str, repeats: int = 1) -> bool:
    """Lines a website or viewer added (see `noise_signals`), or a short line repeated on many pages."""
    if repeats >= 4 and len(text) < 120 and ":" not in text and not text.startswith("(") and not starts_item(text):
        return True  # a running page header or footer (not a repeated "Thời gian thực hiện: …")
    signals = noise_signals(text)
    # a lone address is noise only when the line is little more than the address
    return signals >= 2 or (signals == 1 and bool(_URL.search(text)) and len(_URL_TOKEN.sub("", text).split()) < 8)


# ---------------------------------------------------------------------------------------------
# Run-in numbering: a page flattened into one line

_BOUNDARY = re.compile(
    r"(?P<md>\s#{1,6}\s+)"
    r"|\s(?P<big>(?:Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC)\s+[IVXLC\d]{1,6})\s+(?=\w)"
    r"|\s(?P<art>(?:Điều|ĐIỀU)\s+(?P<artno>\d{1,3})\.)\s+(?=\S)"
    r"|\s(?P<roman>[IVX]{1,4})\.\s+(?=\w)"
    r"|\s(?P<num>\d{1,2}(?:\.\d{1,2})*)\.\s+(?=[\w(“\"])"
    r"|\s(?P<let>[a-zđ])\)\s+(?=\S)"
    r"|(?<=[.;:])\s(?P<bul>[-–•+])\s+(?=\w)"
)
_PUNCT_BEFORE = re.compile(r"[.;:!?*)\]”\"]\s*$")


def split_run_in(text: str) -> list[str]:
    """Split a very long paragraph where numbered items start ("… như sau: I. MỤC ĐÍCH 1. Mục
    đích …"): a number counts as a boundary after a sentence end, or when it continues the
    sequence of its type (1 after a heading, n+1 after n)."""
    if len(text) < LONG_PARAGRAPH:
        return [text]
    cuts: list[int] = []
    last: dict[str, str] = {}
    for m in _BOUNDARY.finditer(text):
        before = text[max(0, m.start() - 3) : m.start() + 1]
        punct = bool(_PUNCT_BEFORE.search(before))
        start = m.start() + 1
        if m.group("md"):
            cuts.append(m.start())
            continue
        after = text[m.end() : m.end() + 2]
        if not (after[:1].isupper() or after[:1] in "(“\"" and m.group("num")):
            continue  # numbered items and headings start with a capital
        if m.group("big") and not after.isupper():
            continue
        if m.group("big"):
            ok = True
        elif m.group("art"):
            ok = punct or _next(last.get("art"), m.group("artno"))
            kind, value = "art", m.group("artno")
        elif m.group("roman"):
            ok = punct and len(m.group("roman")) <= 4
            kind, value = "roman", m.group("roman")
        elif m.group("num"):
            value = m.group("num").split(".")[-1]
            kind = "num" + str(m.group("num").count("."))
            ok = punct or _next(last.get(kind), value)
        elif m.group("let"):
            kind, value = "let", m.group("let")
            ok = punct or _next_letter(last.get(kind), value)
        else:
            ok, kind, value = punct, "bul", "-"
        if not ok:
            continue
        if not m.group("big"):
            last[kind] = value
        if m.group("big") or kind in ("art", "roman"):
            for k in [k for k in last if k.startswith("num") or k == "let"]:
                del last[k]
        elif kind.startswith("num"):
            last.pop("let", None)
        cuts.append(start)
    if not cuts:
        return [text]
    pieces, prev = [], 0
    for cut in cuts:
        pieces.append(text[prev:cut])
        prev = cut
    pieces.append(text[prev:])
    pieces = [p for p in (clean_spaces(re.sub(r"^\s*#+\s*", "", p)) for p in pieces) if p]
    return [_heading_break(p) for p in pieces]


_AGENCY_WORDS = {
    "so", "bo", "ban", "uy", "ubnd", "phong", "trung", "cong", "van", "dai", "bao", "hoi", "cuc", "chi", "tong",
    "vien", "truong", "benh", "thanh", "tram", "doan", "mat", "kho", "quy", "toa",
}


def _heading_break(piece: str) -> str:
    """"1. Mục đích Xác định phạm vi …" (a flattened heading and its text): a line break after the
    short lower-case title, before the capital that starts the text."""
    tokens = piece.split(" ")
    if len(tokens) < 5 or not re.fullmatch(r"(?:[IVX]{1,4}|\d{1,2}(?:\.\d{1,2})*)\.", tokens[0]) or not tokens[1][:1].isupper():
        return piece
    if fold(tokens[1]) in _AGENCY_WORDS:
        return piece  # "4. Sở Tài chính và …", "2. Ban quản lý Khu kinh tế …": a name, not a title
    for end in range(3, min(8, len(tokens) - 1)):
        word, following = tokens[end], tokens[end + 1]
        if word[:1].isupper() and word[1:].islower() and following.islower():
            if tokens[end - 1] in ("của", "và", "với", "cho", "tại", "về", "đối", "thuộc", "các", "là", "giữa"):
                return piece  # "Nhiệm vụ của Ủy ban nhân dân …": the capital continues the title
            return " ".join(tokens[:end]) + "\n" + " ".join(tokens[end:])
        if not tokens[end].rstrip(",").islower():
            break
    return piece


def _next(previous: str | None, value: str) -> bool:
    return (previous is None and value == "1") or (previous is not None and previous.isdigit() and int(value) == int(previous) + 1)


def _next_letter(previous: str | None, value: str) -> bool:
    order = "abcdđeghiklmnopqrstuvxy"
    if previous is None:
        return value == "a"
    return previous in order and value in order and order.index(value) == order.index(previous) + 1


# ---------------------------------------------------------------------------------------------
# Blocks


def _is_flattened_row(row: list[str]) -> bool:
    """A tab row that is really a pasted page: one of its cells is a long run of prose."""
    return any(len(c) >= LONG_PARAGRAPH for c in row)


def _expand(document: Document) -> list[tuple[str, list[str], object]]:
    """(kind, lines, source block) units: flattened rows become paragraphs (their trailing
    short cells, when three or more, start the table that follows)."""
    units: list[tuple[str, list[str], object]] = []
    for item in document.blocks:
        if not isinstance(item, Table):
            units.append(("para", nfc(item.text).split("\n"), item))
            continue
        if document.source != TEXT:
            units.append(("table", ["\t".join(row) for row in item.grid()], item))
            continue
        pending: list[str] = []
        for row in item.grid():
            if not _is_flattened_row(row):
                pending.append("\t".join(row))
                continue
            if pending:
                units.append(("table", pending, item))
                pending = []
            cells = [c.strip() for c in row]
            while cells and not cells[-1]:
                cells.pop()
            tail_start = len(cells)
            while tail_start > 0 and len(cells[tail_start - 1]) < 100:
                tail_start -= 1  # trailing short cells: the header row of the table that follows
            tail = cells[tail_start:]
            for cell in cells[:tail_start]:
                for piece in split_run_in(cell):
                    units.append(("para", [piece], item))
            if len(tail) >= 3:
                pending.append("\t".join(tail))
            else:
                units.extend(("para", [c], item) for c in tail if c)
        if pending:
            units.append(("table", pending, item))
    return units


def blocks(document: Document) -> list[Block]:
    """Paragraphs and tables. A paragraph's soft line breaks stay inside one block unless the
    next line starts a numbered item; container numbering (`Paragraph.label`) is kept apart.
    In plain text a table is only a guess from tabs: a row that keeps fewer than three cells once
    trailing tabs are dropped, outside a table, is a line of prose."""
    out: list[Block] = []
    after_signature = False
    ended = False
    units = _expand(document)
    counts: dict[str, int] = {}
    for kind, lines, _ in units:
        if kind == "para":
            for line in lines:
                key = clean_spaces(line)
                counts[key] = counts.get(key, 0) + 1
    for kind, lines, item in units:
        fresh = True  # a new container block: never glued to the previous one
        trusted = kind == "table" and document.source != TEXT
        label = getattr(item, "label", "") if kind == "para" else ""
        page = getattr(item, "page", None)
        if kind == "para" and len(lines) == 1 and len(lines[0]) >= LONG_PARAGRAPH:
            lines = split_run_in(lines[0])
        if ended:
            continue
        for raw_line in lines:
            line = strip_markdown(raw_line)
            in_table = bool(out) and out[-1].kind == "table" and kind == "table"
            if kind == "table":
                if len(line) < 300 and is_noise(clean_spaces(line.replace("\t", " | "))):
                    continue
                # a long row whose last cell swallowed the site's trailer keeps its other cells
                line = "\t".join("" if len(c) > 300 and noise_signals(c) >= 2 else c for c in line.split("\t"))
            if kind == "table" and (trusted or ("\t" in line and (len(line.split("\t")) >= 3 or in_table))):
                cells = [clean_spaces(c) for c in line.split("\t")]
                if in_table and not (fresh and trusted):
                    out[-1].rows.append(cells)
                else:
                    out.append(Block("table", rows=[cells], after_signature=after_signature, page=page))
                fresh = False
                continue
            stripped = clean_spaces(line)
            if not stripped or is_noise(stripped, counts.get(clean_spaces(raw_line), 1)):
                # Past the signature, a website's notice marks the end of the document: what
                # follows is the site's trailer (related documents, login notices).
                ended = ended or (after_signature and noise_signals(stripped) >= 2)
                continue
            if ended:
                continue
            if SIGNATURE_RE.match(stripped) or SIGNER_RE.match(stripped):
                after_signature = True
            if not fresh and out and out[-1].kind == "para" and not (starts_item(stripped) and not out[-1].label):
                out[-1].text += "\n" + stripped  # a soft line break inside a paragraph
            else:
                out.append(Block("para", text=stripped, after_signature=after_signature, label=label if fresh else "", page=page))
            fresh = False
    counts = {"para": 0, "table": 0}
    for block in out:  # paragraphs and tables numbered apart: "đoạn 12", "bảng 2"
        counts[block.kind] += 1
        block.number = counts[block.kind]
    return out


def join_page_breaks(blocks: list[Block]) -> list[Block]:
    """Rejoin paragraphs a page break cut mid-sentence."""
    out: list[Block] = []
    in_body = False
    for block in blocks:
        prev = out[-1] if out else None
        if block.kind == "para" and _roman(block.text):
            in_body = True
        if (
            block.kind == "para"
            and prev is not None
            and prev.kind == "para"
            and not block.label
            and not block.after_signature
            and not starts_item(block.text)
            and not APPENDIX_RE.match(block.text)
            and len(prev.text.split()) >= 8
            and not (starts_item(prev.text) and len(prev.text.split()) <= 15 and not block.text[:1].islower())
            and (
                block.text[:1].islower()
                or (in_body and not prev.text.rstrip("*_ ").endswith(TERMINAL) and block.text[:1].isalnum())
            )
        ):
            prev.text = prev.text.rstrip() + " " + block.text.lstrip()
            continue
        out.append(block)
    return out
