"""Metadata from the header block of the document that carries the plan: kind, number, date,
issuer, title, the documents it implements and the period it covers."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from knowledge.model import PlanMeta
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing import letterhead
from knowledge.parsing.noise import SiteFields
from knowledge.parsing.structure import Block
from knowledge.parsing.wrapper import ATTACHED_TITLE, KIND_NAMES, Layout, type_line_kind
from knowledge.text import clean_spaces, fold

# "2597/QĐ-TTg", "996/KH-TCTLNTW-C04", "170/2025/NĐ-CP", "1750/KH- SYT", "01814/QĐ-UBND"
_NUMBER = r"(\d+[a-z]?)\s*/\s*((?:\d{4}\s*/\s*)?[A-ZĐ][A-Za-zĐđ0-9]*(?:\s*-\s*[A-ZĐ0-9][A-Za-zĐđ0-9]*)*)"
_DOC_REF = re.compile(
    r"(Chỉ thị|Nghị quyết|Quyết định|Kế hoạch|Chương trình hành động|Thông tư|Nghị định|Công văn)"
    r"\s+số\s+(\d+(?:\s*[-/]\s*[0-9A-ZĐa-zđ]+)+)(?:\s+ngày\s+(\d{1,2}\s*/\s*\d{1,2}\s*/{1,2}\s*\d{4}))?"
)


def parse_date(folded: str) -> date | None:
    m = re.search(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})", folded)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    return None


def _number(header: str, captions: str) -> str:
    """Number from the letterhead ("Số: 1750/KH- SYT") or an appendix caption."""
    for source in (header, captions):
        m = re.search(r"(?:^|\n|\(|[_|]\s*|\s(?=Số\s*:))\s*(?:(?:Ban hành\s+)?[Kk]èm theo\s+)?(?:Kế hoạch\s+|Quyết định\s+)?[Ss]ố\s*:?\s*" + _NUMBER, source)
        if m:
            return m.group(1) + "/" + re.sub(r"\s+", "", m.group(2))
    return ""


def header_blocks(blocks: list[Block], regions: list[str]) -> list[Block]:
    """The letterhead and title block: paragraphs of the main part up to the first 'Căn cứ' /
    numbered part, at most 14."""
    out: list[Block] = []
    for block, region in zip(blocks, regions, strict=False):
        if region != "main" or len(out) >= 14:
            break
        if block.kind == "para":
            if out and re.match(r"^(Căn cứ|Xét|Theo đề nghị)\b", block.text):
                break
            out.append(block)
    return out


def _mostly_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def _caps_word(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def case_forms(paras: list[str]) -> tuple[dict[str, Counter], Counter]:
    """How words are written mid-sentence in the body's mixed-case paragraphs: forms of each word
    and (previous word, form) pairs."""
    forms: dict[str, Counter] = {}
    pairs: Counter = Counter()
    for para in paras:
        if _mostly_upper(para):
            continue
        prev = ""
        tokens = para.split()
        caps = [_caps_word(t) for t in tokens] + [False]
        for i, raw in enumerate(tokens):
            word = re.sub(r"^[^\wÀ-ỹ]+|[^\wÀ-ỹ]+$", "", raw)
            in_caps_run = caps[i] and (caps[i + 1] or (i > 0 and caps[i - 1]))
            if word and prev and not in_caps_run and not prev.endswith((".", ":", ";", "!", "?")):
                forms.setdefault(word.lower(), Counter())[word] += 1
                pairs[(re.sub(r"[^\wÀ-ỹ]+$", "", prev).lower(), word)] += 1
            prev = raw
    return forms, pairs


# Words that never start a name ("… tỉnh tại cuộc họp"): never capitalised by a name's neighbour.
_FUNCTION_WORDS = {"tại", "về", "của", "và", "trong", "trên", "với", "cho", "các", "những", "theo", "từ", "đến", "năm", "đối", "thuộc", "để"}


def restore_case(title: str, cases: tuple[dict[str, Counter], Counter]) -> str:
    """An all-caps title in sentence case, each word as the body usually writes it after the same
    previous word ("PHÁT TRIỂN … TỈNH ĐỒNG NAI" → "phát triển … tỉnh Đồng Nai")."""
    if not _mostly_upper(title):
        return title
    forms, pairs = cases
    out: list[str] = []
    unknown: list[bool] = []
    prev = ""
    for word in title.split():
        core = re.sub(r"^[^\wÀ-ỹ]+|[^\wÀ-ỹ]+$", "", word)
        if not core:
            out.append(word)
            unknown.append(False)
            continue
        seen = forms.get(core.lower(), Counter())
        choice = core.lower()
        by_pair = {f: pairs[(prev, f)] for f in seen}
        if prev and any(by_pair.values()):
            choice = max(by_pair, key=lambda f: (by_pair[f], f == core.lower()))
        elif seen:
            top, count = seen.most_common(1)[0]
            if count > 2 * seen[core.lower()]:
                choice = top
        if "/" in core or any(c.isdigit() for c in core):  # numbers and codes: as the body writes them
            choice = seen.most_common(1)[0][0] if seen else core
        out.append(word.replace(core, choice))
        unknown.append(not seen)
        prev = choice.lower()
    # Words never seen mid-sentence take a capital next to a word the body capitalises ("Lạng Sơn").
    for i, word in enumerate(out):
        if unknown[i] and word[:1].islower() and word.isalpha() and word not in _FUNCTION_WORDS:
            after = out[i + 1] if i + 1 < len(out) and not unknown[i + 1] else ""
            before = out[i - 1].lower() if i > 0 else ""
            if (after[:1].isupper() and not after.isupper()) or before in ("tỉnh", "phố", "huyện", "xã", "phường", "quận"):
                out[i] = word.capitalize()
    return " ".join(out)


def _title_after(blocks: list[Block], start: int, cases, limit: int = 6) -> tuple[str, str] | None:
    """(type word, subject) of a title block "KẾ HOẠCH" + subject lines, from blocks[start]."""
    paras = [b for b in blocks[start : start + limit] if b.kind == "para"]
    for i, block in enumerate(paras):
        lines = block.text.split("\n")
        kind_word = re.match(
            r"^(KẾ HOẠCH|QUYẾT ĐỊNH|NGHỊ QUYẾT|NGHỊ ĐỊNH|THÔNG TƯ|CHỈ THỊ|CÔNG ĐIỆN|THÔNG BÁO|BÁO CÁO|CHƯƠNG TRÌNH|QUY CHẾ|QUY ĐỊNH|ĐỀ ÁN|PHƯƠNG ÁN)\b",
            lines[0].strip(),
        )
        if kind_word:
            type_word, extra = kind_word.group(1), lines[0].strip()[len(kind_word.group(1)) :].strip(" :")
        elif type_line_kind(lines[0]) and KIND_NAMES.get(type_line_kind(lines[0]) or ""):  # OCR: "KÉ HOẠCH"
            type_word = KIND_NAMES[type_line_kind(lines[0]) or ""].upper()
            extra = " ".join(lines[0].split()[len(type_word.split()) :])
        else:
            continue
        parts = [extra] if extra else []
        parts += lines[1:]
        if len(" ".join(parts)) > 300:
            parts = [_flattened_title(" ".join(parts))]
        if not parts and i + 1 < len(paras) and _garbled(paras[i + 1].text):
            # a scan: the subject line comes with OCR debris (stamps, dotted lines) around it
            parts = [_legible(p.text) for p in paras[i + 1 : i + 5] if not re.match(r"^(Thực hiện|Căn cứ)\b", p.text)]
            parts = [p for p in parts if len(p.split()) >= 2][:2]
        if not parts and i + 1 < len(paras):
            nxt = paras[i + 1].text
            if len(nxt) < 500 and not nxt.rstrip().endswith((".", ";", ":")) and not re.match(r"^\(|^(Căn cứ|Thực hiện)\b", nxt):
                parts.append(nxt)
        subject = clean_spaces(" ".join(restore_case(clean_spaces(p), cases) for p in parts))
        subject = re.sub(r"[\s*]*\bCăn cứ\b.*$", "", subject).strip(" *")
        return type_word, subject[:400]
    return None


def _garbled(text: str) -> bool:
    """OCR debris in a line: runs of digits glued to letters or long digit runs."""
    glued = [
        t for t in text.split()
        if len(t) >= 5 and not re.search(r"[/\-]", t) and re.search(r"\d", t) and re.search(r"[A-Za-zÀ-ỹ]", t)
    ]
    return bool(re.search(r"\d{7,}", text)) or len(glued) >= 2


def _legible(text: str) -> str:
    """The words of a line once OCR debris is dropped: the longest run of plain words."""
    runs, current = [], []
    for token in text.split():
        if re.fullmatch(r"[A-Za-zÀ-ỹĐđ,;()“”\-–]+\.?", token) and not token.endswith("."):
            current.append(token)
        else:
            runs.append(current)
            current = []
    runs.append(current)
    best = max(runs, key=len)
    return " ".join(best) if len(best) >= 3 else ""


def _flattened_title(text: str) -> str:
    """The title inside a flattened page: the capitals before the first mixed-case sentence or
    the signing authority's line, else the words before "Căn cứ"/"Thực hiện"."""
    text = clean_spaces(text.replace("*", " "))
    tokens = text.split()
    caps = 0
    while caps < len(tokens) and (tokens[caps] == tokens[caps].upper()):
        caps += 1
    if caps >= 3:
        head = " ".join(tokens[:caps])
        for authority in re.finditer(r"(?<![,;])\s+(?:CHỦ TỊCH|BỘ TRƯỞNG|THỦ TƯỚNG|ỦY BAN NHÂN DÂN|HỘI ĐỒNG NHÂN DÂN)\s", head + " "):
            before = head[: authority.start()].split()
            if len(before) >= 4 and before[-1] not in ("CỦA", "VÀ", "CHO", "VỚI"):
                return head[: authority.start()]
        return head
    return re.split(r"\s(?:Căn cứ|Thực hiện|Xét)\b", text)[0][:300]


def _compose(type_word: str, subject: str) -> str:
    name = type_word.capitalize()
    if not subject:
        return name
    if fold(subject).startswith(fold(name)):
        return subject[0].upper() + subject[1:]
    return f"{name} {subject[0].lower()}{subject[1:]}"


def parse_meta(blocks: list[Block], lay: Layout, registry: AgencyRegistry, site: SiteFields | None = None) -> PlanMeta:
    """Metadata from the document's header; `site` (a website's field list) fills only what the
    document leaves blank."""
    meta = PlanMeta()
    head = header_blocks(blocks, lay.regions)
    paras = [b.text for b in blocks if b.kind == "para"]
    cases = case_forms(paras)
    words = letterhead.vocabulary(paras)
    near_starts = {i + k for i in lay.attached_starts for k in range(3)}
    captions = "\n".join(
        b.text
        for i, b in enumerate(blocks)
        if b.kind == "para" and (i in near_starts or re.match(r"^\(?\s*(?:Ban hành\s+)?[Kk]èm theo\b", b.text))
    )
    head_text = "\n".join(letterhead.respace(line, words) for b in head for line in b.text.split("\n"))
    top = "\n".join(b.text for b in head[:6])
    meta.number = _number(top, captions)
    meta.draft = not meta.number and letterhead.blank_number(top)
    meta.kind = lay.kind
    m = re.search(r"(?:^|\n|\s)([A-ZĐÀ-Ỹ][^\n,;:*]{1,30}),\s*ngày\b[^\n]*?năm\s+\d{4}", head_text)
    if m:
        meta.place = clean_spaces(m.group(1))
        meta.date = parse_date(fold(m.group(0)))
    place_year = None
    if not m:  # a scan's date line read badly ("Hà Nội, ngày44 tháng 0@»ăm 2026"): place and year
        loose = re.search(
            r"(?:^|\n)\s*([A-ZĐÀ-Ỹ][^\n,;:*]{1,30}),\s*ngày[^\n]{0,40}?((?:19|20)\d\d)[^\n\d]*$", head_text, re.M
        )
        if loose:
            meta.place, place_year = clean_spaces(loose.group(1)), int(loose.group(2))
    if meta.date is None:
        meta.date = parse_date(fold(captions))
    if meta.date is None:  # a law or resolution of the National Assembly: "… thông qua ngày 19 tháng 02 năm 2025."
        adopted = re.search(r"thông qua ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}", "\n".join(paras[-30:]))
        meta.date = parse_date(fold(adopted.group(0))) if adopted else None
    meta.issuer = letterhead.issuer(head_text.split("\n"), registry, words)
    if not meta.issuer:
        m = re.search(
            r"của\s+(UBND|Ủy ban nhân dân|Sở [A-ZĐ][\wÀ-ỹ]*(?: [a-zà-ỹ]+)?)\s+((?:tỉnh|huyện|thành phố)(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,3})",
            captions,
        )
        if m:
            meta.issuer = f"{'UBND' if fold(m.group(1)) in ('ubnd', 'uy ban nhan dan') else m.group(1)} {m.group(2).strip()}"
    meta.title = _title(blocks, lay, head, cases)
    dated_lines = [b.text for b in head if re.search(r"ngày\b.*năm\s+\d{4}", b.text)] + [captions]
    years = [int(y) for line in dated_lines for y in re.findall(r"năm\s+((?:19|20)\d\d)", line)]
    meta.year = meta.date.year if meta.date else place_year or (years[0] if years else None)
    meta.title = re.sub(r"(\d+)-\s+([A-ZĐ])", r"\1-\2", meta.title)
    if not meta.title or fold(meta.title) == fold(KIND_NAMES.get(meta.kind, "")):
        meta.title = _first_sentence(paras) or meta.title
    if not meta.issuer:
        meta.issuer = _issuer_in_text(paras, meta)
    if not meta.issuer:
        meta.issuer = _authority(head, registry, words)
    if site:
        _fill_from_site(meta, site)
    intro = meta.title + " " + " ".join(p for p in paras[:12] if re.match(r"^(Thực hiện|Căn cứ|Triển khai)", p))
    found: dict[str, str] = {}
    for m in _DOC_REF.finditer(intro):
        number = re.sub(r"\s+", "", m.group(2))
        text = f"{m.group(1)} số {number}"
        if m.group(3):
            text += " ngày " + re.sub(r"\s+|/(?=/)", "", m.group(3))
        if number not in found or len(text) > len(found[number]):
            found[number] = text
    meta.implements = list(found.values())[:8]
    return meta


DRAFT_WARNING = "Dự thảo: chưa có số"


def meta_warnings(meta: PlanMeta) -> list[str]:
    """What the reader of the metadata should know: a draft has no number yet."""
    return [DRAFT_WARNING] if meta.draft else []


def _first_sentence(paras: list[str]) -> str:
    """A title for a document without a type line: its first paragraph of some length that is
    neither letterhead (motto, number, date) nor a preamble."""
    for p in paras[:12]:
        if len(p) > 30 and not letterhead.MOTTO.search(p) and not re.search(r"(?:^|\s)Số\s*:|,\s*ngày\b|^(Căn cứ|Xét|Kính gửi)\b", p):
            return clean_spaces(p)[:200]
    return ""


def _fill_from_site(meta: PlanMeta, site: SiteFields) -> None:
    """What the document leaves blank, from the website's fields (never a draft's number)."""
    if not meta.number and not meta.draft:
        meta.number = site.number
    if meta.kind == "khac" and site.kind:
        meta.kind = site.kind
    if meta.date is None and site.date:
        meta.date, meta.year = site.date, site.date.year
    if not meta.issuer:
        meta.issuer = site.issuer
    if not meta.title and site.title:
        meta.title = site.title


def _authority(head: list[Block], registry: AgencyRegistry, words: Counter[str]) -> str:
    """The issuing authority's line above the preamble ("QUỐC HỘI", "CHỦ TỊCH ỦY BAN NHÂN DÂN …")."""
    for block in reversed(head):
        text = block.text.strip()
        if _mostly_upper(text) and len(text.split()) <= 12 and not ATTACHED_TITLE.match(text) and not type_line_kind(text):
            return letterhead.issuer([text + " CỘNG HÒA XÃ HỘI"], registry, words)
    return ""


def _title(blocks: list[Block], lay: Layout, head: list[Block], cases) -> str:
    """The document's own title ("Quyết định ban hành Kế hoạch …" for a decision that issues a
    plan); the attached plan's when the decision's has no subject."""
    own_start = blocks.index(head[0]) if head else 0
    own = _title_after(blocks, own_start, cases, limit=max(len(head), 6) + 1)
    if lay.kind == "quyet_dinh" and (not own or not own[1]):
        for start in lay.attached_starts:
            block = blocks[start]
            if block.kind == "para" and ATTACHED_TITLE.match(block.text) and type_line_kind(block.text) in (None, "ke_hoach"):
                attached = _title_after(blocks, start, cases, limit=3)
                if attached and attached[0] in ("KẾ HOẠCH", "CHƯƠNG TRÌNH", "ĐỀ ÁN", "QUY CHẾ", "QUY ĐỊNH", "PHƯƠNG ÁN"):
                    return _compose(*attached)
    if own:
        return _compose(*own)
    name = KIND_NAMES.get(lay.kind, "")
    for block in head:
        subject = re.match(r"^(?:V/v|Về việc)\s*:?\s*(.+)", block.text, re.I)
        if subject:  # a letter's subject line: "V/v triển khai …"
            return clean_spaces(f"{name} về việc {subject.group(1)}")
    return name


def _issuer_in_text(paras: list[str], meta: PlanMeta) -> str:
    text = "\n".join(paras[:6])
    m = re.search(r"(?:UBND|ỦY BAN NHÂN DÂN)\s+(TỈNH|HUYỆN|THÀNH PHỐ)\s+([A-ZĐÀ-Ỹ ]+)\n\s*(SỞ [A-ZĐÀ-Ỹ ]+)", text)
    if m:
        org = AgencyRegistry().canonical(m.group(3).strip()).name
        return f"{org} {m.group(1).lower()} {m.group(2).strip().title()}"
    body = " ".join(paras[:14])
    m = re.search(r"\b(Sở [A-ZĐ][\wÀ-ỹ]*(?: tế| vụ| chính)?|UBND (?:tỉnh|huyện)|Ủy ban nhân dân (?:tỉnh|huyện))\s+ban hành\b", body)
    place = meta.place
    if m:
        org = re.sub(r"^Ủy ban nhân dân", "UBND", m.group(1))
        if place and fold(place) not in fold(org):
            return f"{org} tỉnh {place}" if org.startswith("Sở") else f"{org} {place}"
        return org
    if re.search(r"TM\.\s*ỦY BAN NHÂN DÂN", "\n".join(paras)):
        return f"UBND {place}".strip()
    suffix = re.search(r"/KH\s*-\s*([A-ZĐ]+)", text)
    if suffix:
        org = {"SYT": "Sở Y tế", "UBND": "UBND"}.get(suffix.group(1), suffix.group(1))
        return f"{org} {place}".strip()
    return place
