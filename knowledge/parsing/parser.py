"""Document → `Plan`: metadata, section tree, clauses, task tables, assignments, reporting rules.

The story: `structure.blocks` (paragraphs and tables, noise dropped, run-in numbering split) →
`wrapper.layout` (document kind; main part, signature, attached documents) → `meta.parse_meta`
→ the body walk below (numbered parts nested by numbering *type*, never by markdown level:
Phần > Chương > Mục > Điều > I. > 1. > 1.1. > a) > bullets; numbering may repeat or run out of
order and is cited as written) → reporting rules. A document with text is never turned away:
where no structure is found its paragraphs are kept, cited by paragraph or page, with a warning.
"""

from __future__ import annotations

import re

from knowledge.dates.deadlines import _recurrence, _sentence_window
from knowledge.document import Document, from_text
from knowledge.errors import PlanbotError
from knowledge.model import LEAD, RECIPIENT, RECURRING, AgencyRef, Clause, Plan, ReportingRule
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.blocks import CONTENT_FIELD
from knowledge.parsing.meta import meta_warnings, parse_meta
from knowledge.parsing.noise import drop_site_preamble, site_fields
from knowledge.parsing.periods import carry_periods
from knowledge.parsing.report import settle_duties
from knowledge.parsing.sections import Builder, title_and_rest
from knowledge.parsing.structure import APPENDIX_RE, Block, join_page_breaks, numbering
from knowledge.parsing.structure import blocks as blocks_of
from knowledge.parsing.subjects import established_bodies
from knowledge.parsing.wrapper import ATTACHED_TITLE, layout
from knowledge.tabular.tables import parse_table
from knowledge.text import fold, nfc

_READABLE = re.compile(r"[^\W_]")  # a letter or digit
STARTERS = ("part", "chapter", "lsection", "article", "roman")
_CLOSING = re.compile(r"^(Trên đây là|Trong quá trình (tổ chức )?(triển khai )?thực hiện)")


def parse_plan(text: str, registry: AgencyRegistry | None = None) -> Plan:
    """Parse a plan's text (the plain-text model). Raises `PlanbotError` only when it has no text."""
    return parse_document(from_text(nfc(text)), registry)


def _starts(blocks: list[Block], regions: list[str], attached: list[int], prose: set[int]) -> set[int]:
    """Where the body of each part begins: its first Phần/Chương/Mục/Điều/I. heading, else its
    first numbered item "1.". Parts: the main document and each attached document. Starts of
    parts without numbering are also put in `prose` (their paragraphs are cited by number)."""
    bounds = [0, *attached, len(blocks)]
    starts: set[int] = set()
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        found = [(numbering(b) or ("", "", ""))[0] if b.kind == "para" and regions[i] != "signature" else ""
                 for i, b in enumerate(blocks[lo:hi], lo)]
        first = next((lo + k for k, kind in enumerate(found) if kind in STARTERS), None)
        if first is None:
            first = next((lo + k for k, kind in enumerate(found) if kind in ("arabic", "dotted")), None)
        if first is None and lo > 0:
            # an attached part in plain prose (an appendix without numbering): its body starts
            # after its title lines
            first = next(
                (i for i in range(lo, hi) if blocks[i].kind == "para" and regions[i] == "attached" and _prose(blocks[i])),
                None,
            )
            if first is not None:
                prose.add(first)
        if first is not None:
            starts.add(first)
    return starts


def _prose(block: Block) -> bool:
    """A sentence of running text: not a title in capitals, not a caption "(Kèm theo …)"."""
    text = block.text
    letters = [c for c in text if c.isalpha()]
    lower = sum(c.islower() for c in letters)
    return len(text.split()) >= 8 and lower >= 0.6 * max(len(letters), 1) and not re.match(r"^\(|^(Kèm theo|Ban hành kèm)", text)


def _locator(block: Block) -> str:
    if block.page:
        return f"trang {block.page}"
    return f"bảng {block.number}" if block.kind == "table" else f"đoạn {block.number}"


def parse_document(document: Document, registry: AgencyRegistry | None = None) -> Plan:
    """Parse a loaded document. Raises `PlanbotError` only when it holds no readable text."""
    registry = registry or AgencyRegistry()
    blocks = drop_site_preamble(join_page_breaks(blocks_of(document)))
    if not any(_READABLE.search(b.text) or any(_READABLE.search(c) for row in b.rows for c in row) for b in blocks):
        raise PlanbotError("Tệp không có chữ nào đọc được.")
    lay = layout(blocks, "")
    meta = parse_meta(blocks, lay, registry, site_fields(document))
    if lay.kind == "khac" and meta.kind != "khac":
        lay.kind = meta.kind
    lay = layout(blocks, meta.number) if lay.kind == "khac" else lay
    meta.kind = lay.kind
    for block in blocks:  # bodies the plan sets up are agencies of their own further on
        for name in established_bodies(block.text) if block.kind == "para" else ():
            registry.add_name(name)
    builder = Builder(registry, meta.date, meta.year)
    tasks = []
    warnings: list[str] = list(document.warnings) + meta_warnings(meta)
    table_label = ""
    started = False
    prose: set[int] = set()
    starts = _starts(blocks, lay.regions, lay.attached_starts, prose)
    in_prose = False
    untitled = False  # the last heading had no title: it may stand on the next line
    for i, block in enumerate(blocks):
        region = lay.regions[i]
        if i in lay.attached_starts:
            started = in_prose = False
            builder.close_all()
            first_line = block.text.split("\n")[0] if block.kind == "para" else ""
            builder.prefix = _attached_name(first_line) if had_articles(builder) else ""
            if first_line and APPENDIX_RE.match(first_line):
                table_label = _appendix_label(first_line)
        if i in starts:
            started = True
            in_prose = i in prose
        if block.kind == "table":
            if region == "signature":
                continue
            label = table_label or ("Phụ lục" if region != "main" else f"Bảng mục {builder.path or 'đầu'}")
            # Register agency names met in the table, so prose mentions of them are found too.
            result = parse_table(block.rows, label, registry, first_ordinal=len(tasks) + 1)
            for task in result.tasks:
                for ref in task.lead + task.support:
                    registry.add_name(ref.name, ref.collective)
            tasks.extend(result.tasks)
            warnings.extend(result.warnings)
            for row_text in result.rows_text:
                builder.add_clause(row_text, locator=_locator(block))
            continue
        if region == "signature":
            continue
        para = block.text
        first_line = para.split("\n")[0]
        if APPENDIX_RE.match(first_line) and (started or region != "main") and len(first_line) < 80 and not block.label:
            table_label = _appendix_label(first_line)
            continue
        if not started:
            continue
        if in_prose:
            if _prose(block) or len(para.split()) >= 3 and not para.startswith("("):
                builder.add_clause(para, locator=_locator(block))
            continue
        found = numbering(block)
        kind = found[0] if found else ""
        if not found and untitled and len(para.split()) <= 25 and para.upper() == para:
            builder.retitle(para)
            untitled = False
            continue
        untitled = False
        if kind and kind != "bullet":
            title, rest = title_and_rest(found[2])
            field = builder.open_section(kind, found[1], title, rest)
            untitled = not title.strip()
            if field and field != CONTENT_FIELD:  # "3. Thời gian thực hiện: …" of the block above
                builder.field_heading(f"{block.label} {para}".strip() if block.label else para, rest)
            elif rest:
                builder.add_clause(rest if kind != "dotted" else found[2])
            elif builder.is_duty_line(title) or builder.in_content():
                builder.add_clause(found[2])
        elif _CLOSING.match(para):
            builder.close_all()
            builder.add_clause(para)
        elif kind == "bullet":
            builder.add_clause(found[2], bullet=True, sub_bullet=found[1] == "+")
        elif len(para.split()) <= 10 and not para.endswith((".", ";")) and "\n" not in para:
            builder.set_subheading(para)
        else:
            builder.add_clause(para)
    if not builder.sections and not any(c.section for c in builder.clauses):
        _paragraphs_only(blocks, lay.regions, builder)
        warnings.append("Không nhận ra cấu trúc mục (I., 1., Điều …): văn bản được lưu theo từng đoạn.")
    clauses = builder.clauses
    settle_duties(meta.kind, clauses, registry)
    _drop_title_periods(clauses, meta.title)
    carry_periods(clauses)
    meta.valid_until = valid_until(meta.title, [sec.title for sec in builder.sections if sec.level <= 2])
    rules = _reporting_rules(clauses)
    if not tasks:
        warnings.append("Không có bảng nhiệm vụ (phụ lục).")
    return Plan(meta=meta, sections=builder.sections, clauses=clauses, tasks=tasks, reporting_rules=rules, warnings=warnings)


def had_articles(builder: Builder) -> bool:
    return any(s.label.startswith("Điều") for s in builder.sections)


def _attached_name(first_line: str) -> str:
    """How an attached document's own articles are cited: "Quy chế", "Phụ lục II"."""
    if APPENDIX_RE.match(first_line):
        return _appendix_label(first_line)
    m = ATTACHED_TITLE.match(first_line)
    return m.group(1).capitalize() if m else "Văn bản kèm theo"


def _drop_title_periods(clauses: list[Clause], title: str) -> None:
    """A year or period quoted with the plan's own title ("Kế hoạch … năm 2026") is the plan's
    horizon (meta.valid_until), not the deadline of the sentence that names the plan."""
    folded_title = fold(title)
    for clause in clauses:
        if clause.deadline is None or len(clause.deadline.text) < 4:
            continue
        period = fold(clause.deadline.text)
        folded = fold(clause.text)
        at = folded.find(period)
        if period in folded_title and at >= 0 and re.search(r"\b(ke hoach|chuong trinh|de an|nghi quyet|quyet dinh)\b", folded[max(0, at - 120) : at]):
            clause.deadline = None


def _paragraphs_only(blocks: list[Block], regions: list[str], builder: Builder) -> None:
    """No structure found: every paragraph past the letterhead becomes a clause cited by its
    paragraph (or page) number."""
    builder.close_all()
    skip = 0
    for i, block in enumerate(blocks[:8]):
        if block.kind == "para" and re.search(r"ngày\s+[\d.…]*\s*tháng\s+[\d.…]*\s*năm\s+\d{4}", block.text):
            skip = i + 1
            break
    for block, region in zip(blocks[skip:], regions[skip:], strict=False):
        if block.kind == "para" and region != "signature":
            builder.add_clause(block.text, locator=_locator(block))


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
        if not reporters:  # the owner of a "Phối hợp …" duty still sends its own report,
            # and no one reports to itself: an agency the report goes to is not its sender.
            receiving = {a.agency.name for a in clause.assignments if a.role == RECIPIENT}
            reporters = [
                a.agency
                for a in clause.assignments
                if a.role != RECIPIENT and a.agency.name not in receiving
            ][:1]
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
