"""Plan text → `Plan`: metadata, section tree, clauses, task tables, assignments, reporting rules.

Input is the plain-text model every loader produces: paragraphs separated by blank lines,
optional markdown (#, **, *), tables as tab-separated rows. The parser relies on numbering
*types* (I. > 1. > 1.1. > a) > bullets), never on markdown heading levels, which differ
between documents; numbering may repeat or run out of order and is cited as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from knowledge.agencies import AgencyRegistry
from knowledge.deadlines import _recurrence, _sentence_window, find_deadline
from knowledge.document import TEXT, Document, Table, from_text
from knowledge.duties import classify, subject_of_title
from knowledge.errors import PlanbotError
from knowledge.model import (
    LEAD,
    RECIPIENT,
    RECURRING,
    AgencyRef,
    Clause,
    Plan,
    PlanMeta,
    ReportingRule,
    Section,
)
from knowledge.tables import parse_table
from knowledge.text import clean_spaces, fold, nfc

ROMAN_RE = re.compile(r"^(?P<label>[IVX]{1,5})\s*[.:/]\s*(?P<rest>.*)$")
DOTTED_RE = re.compile(r"^(?P<label>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<rest>.+)$")
ARABIC_RE = re.compile(r"^(?P<label>\d{1,2})\s*[.)/]\s*(?P<rest>.+)$")
LETTER_RE = re.compile(r"^(?P<label>[a-zđ])\)\s*(?P<rest>.+)$")
BULLET_RE = re.compile(r"^(?P<mark>[-–•+*])\s+(?P<rest>.+)$")
LEVELS = {"roman": 1, "arabic": 2, "dotted": 3, "letter": 4}
SIGNATURE_RE = re.compile(r"^(nơi nhận|noi nhan)\s*:?", re.I)
APPENDIX_RE = re.compile(r"^(phụ lục|phu luc|danh mục|danh muc)\b", re.I)
TERMINAL = (".", ";", ":", "!", "?", "./.", "…")


@dataclass
class _Block:
    kind: str  # "para" | "table"
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    after_signature: bool = False


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


def _blocks(document: Document) -> list[_Block]:
    """Paragraphs and tables. A paragraph's soft line breaks stay inside one block unless the
    next line starts a numbered item; container numbering (`Paragraph.label`) is kept in front.
    In plain text a table is only a guess from tabs: a row that keeps fewer than three cells once
    trailing tabs are dropped, outside a table, is a line of prose."""
    blocks: list[_Block] = []
    after_signature = False
    for item in document.blocks:
        fresh = True  # a new container block: never glued to the previous one
        if isinstance(item, Table):
            lines = ["\t".join(row) for row in item.grid()]
            trusted = document.source != TEXT
        else:
            lines = nfc(item.full_text).split("\n")
            trusted = False
        for raw_line in lines:
            line = strip_markdown(raw_line)
            in_table = bool(blocks) and blocks[-1].kind == "table" and not (fresh and not isinstance(item, Table))
            if isinstance(item, Table) and (trusted or ("\t" in line and (len(line.split("\t")) >= 3 or in_table))):
                cells = [clean_spaces(c) for c in line.split("\t")]
                if in_table and not (fresh and trusted):
                    blocks[-1].rows.append(cells)
                else:
                    blocks.append(_Block("table", rows=[cells], after_signature=after_signature))
                fresh = False
                continue
            stripped = clean_spaces(line)
            if not stripped:
                continue
            if SIGNATURE_RE.match(stripped) or re.match(r"^(TM|KT|Q)\.\s*[A-ZĐÀ-Ỹ]", stripped):
                after_signature = True
            if not fresh and blocks and blocks[-1].kind == "para" and not _starts_item(stripped):
                # A soft line break inside a paragraph.
                blocks[-1].text += "\n" + stripped
            else:
                blocks.append(_Block("para", text=stripped, after_signature=after_signature))
            fresh = False
    return blocks


def _starts_item(line: str) -> bool:
    return bool(
        ROMAN_RE.match(line) or DOTTED_RE.match(line) or ARABIC_RE.match(line) or LETTER_RE.match(line) or BULLET_RE.match(line)
    )


def _join_page_breaks(blocks: list[_Block]) -> list[_Block]:
    """Rejoin paragraphs a page break cut mid-sentence."""
    out: list[_Block] = []
    in_body = False
    for block in blocks:
        prev = out[-1] if out else None
        if block.kind == "para" and ROMAN_RE.match(block.text):
            in_body = True
        if (
            block.kind == "para"
            and prev is not None
            and prev.kind == "para"
            and not block.after_signature
            and not _starts_item(block.text)
            and not APPENDIX_RE.match(block.text)
            and len(prev.text.split()) >= 8
            and not (_starts_item(prev.text) and len(prev.text.split()) <= 15 and not block.text[:1].islower())
            and (
                block.text[:1].islower()
                or (in_body and not prev.text.rstrip("*_ ").endswith(TERMINAL) and block.text[:1].isalnum())
            )
        ):
            prev.text = prev.text.rstrip() + " " + block.text.lstrip()
            continue
        out.append(block)
    return out


# ---------------------------------------------------------------------------------------------
# Metadata


def _parse_date(folded: str) -> date | None:
    m = re.search(r"ngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+(\d{4})", folded)
    if m:
        try:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            return None
    return None


_NUMBER = r"(\d+)\s*/\s*([A-ZĐ]{1,6}(?:\s*-\s*[A-ZĐ]{1,10})*)"


def _number(header: str, captions: str) -> str:
    """Plan number from the letterhead ("Số: 1750/KH- SYT") or an appendix caption."""
    for source in (header, captions):
        m = re.search(r"(?:^|\n|\()\s*(?:Kèm theo\s+)?(?:Kế hoạch\s+)?[Ss]ố\s*:?\s*" + _NUMBER, source)
        if m:
            return m.group(1) + "/" + re.sub(r"\s+", "", m.group(2))
    return ""


_DOC_REF = re.compile(
    r"(Chỉ thị|Nghị quyết|Quyết định|Kế hoạch|Chương trình hành động|Thông tư|Nghị định|Công văn)"
    r"\s+số\s+(\d+(?:\s*[-/]\s*[0-9A-ZĐa-zđ]+)+)(?:\s+ngày\s+(\d{1,2}\s*/\s*\d{1,2}\s*/{1,2}\s*\d{4}))?"
)


def parse_meta(blocks: list[_Block], full_text: str) -> PlanMeta:
    meta = PlanMeta()
    paras = [b.text for b in blocks if b.kind == "para"]
    head = paras[:12]
    captions = "\n".join(b.text for b in blocks if b.kind == "para" and b.after_signature)
    meta.number = _number("\n".join(head[:6]), captions)
    # Place and date: "Hà Tĩnh, ngày 31 tháng 5 năm 2021"
    for p in head:
        m = re.match(r"^([A-ZĐÀ-Ỹ][^\n,]{1,30}),\s*ngày\b", p)
        if m:
            meta.place = clean_spaces(m.group(1))
            meta.date = _parse_date(fold(p))
            break
    # Appendix caption: "(Kèm theo Kế hoạch số 220 /KH-UBND ngày 04 tháng 6 năm 2018 của UBND tỉnh Bắc Ninh)"
    if meta.date is None:
        meta.date = _parse_date(fold(captions))
    m = re.search(
        r"của\s+(UBND|Ủy ban nhân dân|Sở [A-ZĐ][\wÀ-ỹ]*(?: [a-zà-ỹ]+)?)\s+((?:tỉnh|huyện|thành phố)(?:\s+[A-ZĐÀ-Ỹ][\wÀ-ỹ]*){1,3})",
        captions,
    )
    if m:
        meta.issuer = f"{_short_org(m.group(1))} {m.group(2).strip()}"
    # Title: the line(s) after "KẾ HOẠCH".
    for i, p in enumerate(paras[:15]):
        first = p.split("\n")[0]
        if re.match(r"^KẾ HOẠCH\b", first.strip()):
            rest_lines = p.split("\n")[1:]
            extra = first.strip()[len("KẾ HOẠCH") :].strip()
            parts = [extra.capitalize()] if extra else []
            parts += rest_lines
            if not rest_lines and i + 1 < len(paras):
                nxt = paras[i + 1]
                if len(nxt) < 500 and not nxt.rstrip().endswith((".", ";", ":")):
                    parts.append(nxt)
            title = clean_spaces(" ".join(parts))
            if title and not fold(title).startswith("ke hoach"):
                title = "Kế hoạch " + title[0].lower() + title[1:]
            meta.title = title or "Kế hoạch"
            break
    dated_lines = [p for p in head if re.search(r"ngày\b.*năm\s+\d{4}", p)] + [captions]
    years = [int(y) for line in dated_lines for y in re.findall(r"năm\s+((?:19|20)\d\d)", line)]
    meta.year = meta.date.year if meta.date else (years[0] if years else None)
    meta.title = re.sub(r"(\d+)-\s+([A-ZĐ])", r"\1-\2", meta.title)
    if not meta.title:
        meta.title = next((clean_spaces(p) for p in head if len(p) > 30), "")[:200]
    if not meta.issuer:
        meta.issuer = _issuer(paras, meta)
    # Documents it implements: references in the title and the opening "Thực hiện …" paragraphs.
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


def _short_org(org: str) -> str:
    return "UBND" if fold(org) in ("ubnd", "uy ban nhan dan") else org


def _issuer(paras: list[str], meta: PlanMeta) -> str:
    text = "\n".join(paras[:6])
    # Letterhead: "UBND TỈNH HÀ TĨNH\nSỞ Y TẾ"
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


# ---------------------------------------------------------------------------------------------
# Sections and clauses


@dataclass
class _Frame:
    kind: str
    label: str
    path: str
    title: str
    owners: list[AgencyRef]
    implementation: bool


class _Builder:
    def __init__(self, registry: AgencyRegistry) -> None:
        self.registry = registry
        self.sections: list[Section] = []
        self.clauses: list[Clause] = []
        self.stack: list[_Frame] = []
        self.bullets: dict[str, int] = {}
        self.subheading = ""
        self.parent_bullet = ""

    @property
    def path(self) -> str:
        return self.stack[-1].path if self.stack else ""

    def heading(self) -> str:
        titles = [f.title for f in self.stack if f.title]
        if self.subheading:
            titles.append(self.subheading)
        return " › ".join(titles)

    def open_section(self, kind: str, label: str, title: str) -> None:
        level = LEVELS[kind]
        while self.stack and LEVELS[self.stack[-1].kind] >= level:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if kind == "dotted" and parent and parent.kind == "arabic" and label.startswith(parent.label + "."):
            path = f"{parent.path}{label[len(parent.label):]}"
        elif kind == "dotted" and parent and parent.kind == "arabic":
            path = f"{parent.path.rsplit('.', 1)[0] if '.' in parent.path else parent.path}.{label}"
        else:
            path = f"{parent.path}.{label}" if parent else label
        implementation = bool(parent and parent.implementation) or "to chuc thuc hien" in fold(title)
        owners: list[AgencyRef] = []
        if implementation and parent is not None:
            owners = subject_of_title(title, self.registry)
        target = re.search(r"\bđối với\s+(.{3,80})$", re.sub(r"\s*\(.*", "", title), flags=re.I)
        if not owners and target:
            owners = subject_of_title(target.group(1), self.registry)
        frame = _Frame(kind, label, path, clean_spaces(title)[:160], owners, implementation)
        self.stack.append(frame)
        self.subheading = ""
        self.parent_bullet = ""
        self.sections.append(Section(path=path, label=label, title=frame.title, level=level, parent=parent.path if parent else None))

    def close_all(self) -> None:
        """Closing paragraphs ("Trên đây là Kế hoạch…") belong to no section."""
        self.stack.clear()
        self.subheading = ""
        self.parent_bullet = ""

    def owners(self) -> list[AgencyRef]:
        for frame in reversed(self.stack):
            if frame.owners:
                return frame.owners
        return []

    def add_clause(self, text: str, bullet: bool = False, sub_bullet: bool = False) -> None:
        text = clean_spaces(text.replace("\n", " "))
        if not text:
            return
        bullet_no = None
        if bullet:
            bullet_no = self.bullets.get(self.path, 0) + 1
            self.bullets[self.path] = bullet_no
        heading = self.heading()
        if sub_bullet and self.parent_bullet:
            heading = f"{heading} › {self.parent_bullet[:120]}" if heading else self.parent_bullet[:120]
        implementation = bool(self.stack and self.stack[-1].implementation)
        owners = self.owners()
        clause = Clause(
            ordinal=len(self.clauses) + 1,
            section=self.path,
            heading=heading,
            text=text,
            bullet=bullet_no,
            assignments=classify(text, self.registry, owners),
            deadline=find_deadline(text),
            in_implementation=implementation,
        )
        self.clauses.append(clause)
        if bullet and not sub_bullet:
            self.parent_bullet = text


def _title_and_rest(rest: str) -> tuple[str, str]:
    """Split "Sở Nội vụ: Thẩm định …" into a title and a clause body."""
    rest = rest.strip()
    m = re.match(r"^(.{2,120}?)\s*:\s+(.+)$", rest, flags=re.S)
    if m and len(m.group(1).split()) <= 20:
        return m.group(1).strip(), m.group(2).strip()
    if len(rest) <= 140 and not rest.endswith((".", ";")) or len(rest.split()) <= 12 and not rest.endswith(";"):
        return rest.rstrip(":. "), ""
    words = rest.split()
    return " ".join(words[:12]) + "…", rest


def parse_plan(text: str, registry: AgencyRegistry | None = None) -> Plan:
    """Parse a plan's text (the plain-text model). Raises `PlanbotError` when it holds nothing."""
    return parse_document(from_text(nfc(text)), registry)


def parse_document(document: Document, registry: AgencyRegistry | None = None) -> Plan:
    """Parse a loaded document. Raises `PlanbotError` when it holds nothing recognisable."""
    registry = registry or AgencyRegistry()
    blocks = _join_page_breaks(_blocks(document))
    if not blocks:
        raise PlanbotError("Tệp rỗng: không có nội dung để đọc.")
    text = document.plain_text()
    meta = parse_meta(blocks, text)
    builder = _Builder(registry)
    tasks = []
    warnings: list[str] = []
    table_label = ""
    started = False
    for block in blocks:
        if block.kind == "table":
            label = table_label or ("Phụ lục" if block.after_signature else f"Bảng mục {builder.path or 'đầu'}")
            # Register agency names met in the table, so prose mentions of them are found too.
            result = parse_table(block.rows, label, registry, first_ordinal=len(tasks) + 1)
            for task in result.tasks:
                for ref in task.lead + task.support:
                    registry.add_name(ref.name, ref.collective)
            tasks.extend(result.tasks)
            warnings.extend(result.warnings)
            for row_text in result.rows_text:
                builder.add_clause(row_text)
            continue
        para = block.text
        first_line = para.split("\n")[0]
        if block.after_signature:
            if APPENDIX_RE.match(first_line):
                table_label = _appendix_label(first_line)
            continue
        if APPENDIX_RE.match(first_line) and started and len(first_line) < 80:
            table_label = _appendix_label(first_line)
            continue
        m = ROMAN_RE.match(first_line)
        if m and m.group("rest").strip() and (m.group("rest")[:1].isupper() or m.group("rest")[:1].isdigit()):
            started = True
            title, rest = _title_and_rest(m.group("rest") + para[len(first_line) :])
            builder.open_section("roman", m.group("label"), title)
            if rest:
                builder.add_clause(rest)
            continue
        for kind, regex in (("dotted", DOTTED_RE), ("arabic", ARABIC_RE), ("letter", LETTER_RE)):
            m = regex.match(first_line)
            if m and started:
                whole = m.group("rest") + para[len(first_line) :]
                title, rest = _title_and_rest(whole)
                builder.open_section(kind, m.group("label"), title)
                if rest:
                    builder.add_clause(rest if kind != "dotted" else whole)
                break
        else:
            if not started:
                continue
            b = BULLET_RE.match(para)
            if re.match(r"^(Trên đây là|Trong quá trình (tổ chức )?(triển khai )?thực hiện)", para):
                builder.close_all()
                builder.add_clause(para)
            elif b:
                builder.add_clause(b.group("rest"), bullet=True, sub_bullet=b.group("mark") == "+")
            elif len(para.split()) <= 10 and not para.endswith((".", ";")) and "\n" not in para:
                builder.subheading = para.rstrip(":")
            else:
                builder.add_clause(para)
    if not builder.sections and not tasks:
        if not builder.clauses:
            raise PlanbotError(
                "Không nhận ra cấu trúc kế hoạch (không có mục I., 1., … hay bảng nhiệm vụ)."
            )
    clauses = builder.clauses
    meta.valid_until = valid_until(meta.title, [sec.title for sec in builder.sections if sec.level <= 2])
    rules = _reporting_rules(clauses)
    if not tasks:
        warnings.append("Không có bảng nhiệm vụ (phụ lục).")
    return Plan(meta=meta, sections=builder.sections, clauses=clauses, tasks=tasks, reporting_rules=rules, warnings=warnings)


def valid_until(title: str, section_titles: list[str]) -> int | None:
    """The last year a plan covers: a period in its title ("giai đoạn 2021 - 2025", "đến năm
    2025", "năm 2021"), else what its section headings say ("… đến năm 2030", or the same single
    year in several headings: "Nhiệm vụ … năm 2021"). None: open-ended."""
    year = r"((?:19|20)\d\d)"

    def horizon(text: str) -> int | None:
        folded = fold(text)
        spans = [int(m.group(2)) for m in re.finditer(year + r"\s*[-–]\s*" + year, folded)]
        spans += [int(m.group(1)) for m in re.finditer(r"(?:den|toi)\s+nam\s+" + year, folded)]
        return max(spans) if spans else None

    found = horizon(title)
    if found:
        return found
    single = re.findall(r"\bnam\s+" + year, fold(title))
    if single:
        return int(single[-1])
    ends = [y for y in (horizon(t) for t in section_titles) if y]
    if ends:
        return max(ends)
    years = [int(y) for t in section_titles for y in re.findall(r"\bnam\s+" + year, fold(t))]
    if len(years) >= 2 and len(set(years)) == 1:
        return years[0]
    return None


def _appendix_label(line: str) -> str:
    m = re.match(r"^(phụ lục|danh mục)\s*([IVX\d]+\b)?", line, flags=re.I)
    if not m:
        return "Phụ lục"
    word = "Phụ lục" if fold(m.group(1)) == "phu luc" else "Danh mục"
    return f"{word} {m.group(2)}" if m.group(2) else word


def _reporting_rules(clauses: list[Clause]) -> list[ReportingRule]:
    rules: list[ReportingRule] = []
    receivers: list[AgencyRef] = []
    for clause in clauses:
        if re.search(r"tiep nhan bao cao", fold(clause.text)):
            receivers = [a.agency for a in clause.assignments if a.role == LEAD]
    for clause in clauses:
        folded = fold(clause.text)
        if "bao cao" not in folded or not clause.deadline or clause.deadline.kind != RECURRING:
            continue
        at = folded.find(fold(clause.deadline.text))
        rec = _recurrence(_sentence_window(folded, max(at, 0)))
        periods, due_day = (rec[1], rec[2]) if rec else ([], None)
        reporters = [a.agency for a in clause.assignments if a.role == LEAD]
        if not reporters:  # the owner of a "Phối hợp …" duty still sends its own report
            reporters = [a.agency for a in clause.assignments if a.role != RECIPIENT][:1]
        recipients = [a.agency for a in clause.assignments if a.role == RECIPIENT]
        if not recipients and receivers and reporters:
            recipients = list(receivers)
        rules.append(
            ReportingRule(
                ordinal=len(rules) + 1,
                clause_ordinal=clause.ordinal,
                section=clause.citation,
                text=clause.text,
                reporters=reporters,
                recipients=recipients,
                frequency=clause.deadline.text,
                periods=periods,
                due_day=due_day,
                deadline=clause.deadline,
            )
        )
    return rules
