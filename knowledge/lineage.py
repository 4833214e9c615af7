"""Lineage: which indexed plans implement a document, and which documents a plan implements.

Pure. A plan implements the documents of its preamble (`PlanMeta.implements`: "Thực hiện Chỉ
thị số 25-CT/TW …", "Căn cứ …"), cites others in its text, and may declare that it replaces
or amends an earlier one ("thay thế Kế hoạch số 12/KH-UBND", "sửa đổi, bổ sung Kế hoạch số …").
`lineage_query` recognises the two questions ("Kế hoạch nào thực hiện Chỉ thị 25-CT/TW?",
"Kế hoạch 220 căn cứ văn bản nào?"); `answer_lineage` answers them from `PlanDocs`, saying
honestly when no indexed plan implements the document asked about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.questions.answer import Answer, PlanRef
from knowledge.text import fold, nfc

INTENT = "lineage"

# Document kinds as written (the folded form is what questions are matched on).
KINDS = (
    "Chỉ thị", "Nghị quyết", "Quyết định", "Kế hoạch", "Chương trình hành động", "Chương trình",
    "Thông tư liên tịch", "Thông tư", "Nghị định", "Công văn", "Kết luận", "Luật", "Đề án", "Thông báo",
    "Hướng dẫn", "Công điện",
)
_KIND_BY_FOLD = {fold(k): k for k in KINDS}
_KIND_FOLDED = "|".join(sorted((re.escape(fold(k)) for k in KINDS), key=len, reverse=True))
# In document text (NFC, case kept): "Chỉ thị số 25-CT/TW ngày 25/10/2023".
_NUMBER = r"\d+(?:\s*[-/]\s*[0-9A-ZĐa-zđ]+)+"
_REF_IN_TEXT = re.compile(
    rf"(?<![\w])({'|'.join(sorted(KINDS, key=len, reverse=True))})\s+(?:số\s*:?\s*)?({_NUMBER})"
    r"(?:\s+ngày\s+(\d{1,2}\s*/\s*\d{1,2}\s*/{1,2}\s*\d{4}))?",
    re.IGNORECASE,
)
# In a question (folded): "chi thi 25-ct/tw", "ke hoach so 220", "nghi quyet 20".
_REF_IN_QUESTION = re.compile(rf"\b({_KIND_FOLDED})\s+(?:so\s+)?(\d+(?:\s*[-/]\s*[0-9a-z]+)*)")
_RELATIONS = (
    ("thay thế", re.compile(r"\bthay\s+th[ếế]\s+(?:cho\s+)?$", re.IGNORECASE)),
    ("sửa đổi, bổ sung", re.compile(r"\bsửa\s+đổi(?:,|\s+và)?\s+bổ\s+sung\s+(?:một\s+số\s+\S+(?:\s+\S+)?\s+(?:của|tại)\s+)?$", re.IGNORECASE)),
    ("bãi bỏ", re.compile(r"\bbãi\s+bỏ\s+$", re.IGNORECASE)),
)
_VERBS = r"(?:thuc hien|trien khai|cu the hoa|quan triet|can cu(?: vao)?|dua tren|theo)"
_DOCS = rf"(?:van ban|{_KIND_FOLDED}|tai lieu)"
_ASKS_SOURCES = re.compile(rf"\b{_VERBS}\s+(?:nhung |cac )?{_DOCS}?\s*(?:nao|gi)\b|\bcan cu (?:vao )?dau\b")
_ASKS_IMPLEMENTERS = re.compile(
    rf"\b(?:(?:ke hoach|van ban|chuong trinh|de an)(?: nao| gi)|(?:nhung|cac) (?:ke hoach|van ban|chuong trinh))"
    rf"(?: (?:cua \S+(?: \S+)?|da|dang|de|duoc))*\s+{_VERBS}\b"
)

_PASSIVE = re.compile(
    rf"\s+(?:da |dang )?duoc\s+{_VERBS}\s+(?:bang |boi |qua |o |tai )?(?:nhung |cac )?"
    r"(?:ke hoach|van ban|chuong trinh|de an)\s+(?:nao|gi)\b"
)
_LEADS_TO = re.compile(rf"(?:^|\b)(?:ke hoach|van ban|chuong trinh|de an)\s+{_VERBS}\s*$")
_NAMED_AFTER = re.compile(r"\s+(?:la|gom)\s+(?:nhung |cac )?(?:ke hoach |van ban )?(?:nao|gi)\b")


@dataclass(frozen=True)
class DocRef:
    """A document as cited: kind ("Chỉ thị"), number ("25-CT/TW"), date as written."""

    kind: str
    number: str
    date: str = ""

    @property
    def label(self) -> str:
        text = f"{self.kind} số {self.number}" if self.kind else f"văn bản số {self.number}"
        return f"{text} ngày {self.date}" if self.date else text

    @property
    def key(self) -> tuple[str, ...]:
        return number_key(self.number)


@dataclass
class PlanDocs:
    """What one indexed plan says about other documents."""

    plan: PlanRef
    implements: list[DocRef] = field(default_factory=list)
    cites: list[DocRef] = field(default_factory=list)  # elsewhere in its text
    relations: list[tuple[str, DocRef]] = field(default_factory=list)  # ("thay thế", ref)


@dataclass(frozen=True)
class LineageQuery:
    direction: str  # "implementers": plans implementing `target`; "sources": what `target` implements
    target: DocRef


def number_key(number: str) -> tuple[str, ...]:
    """Comparable form of a document number: "25-CT/TW" and "25/CT-TW" → ("25", "ct", "tw")."""
    return tuple(t for t in re.split(r"[\s/\-–.]+", fold(number)) if t)


def matches(query: DocRef, doc: DocRef) -> bool:
    """Does `doc` (as cited) denote the document asked about? The number's digits must agree;
    letters given in the question must all be in the cited number; a question naming only the
    digits must name the same kind of document."""
    q, d = query.key, doc.key
    if not q or not d or q[0] != d[0]:
        return False
    if len(q) > 1:
        return set(q[1:]) <= set(d[1:])
    return not query.kind or fold(query.kind) == fold(doc.kind)


def _kind(text: str) -> str:
    folded = fold(text)
    return next((k for f, k in _KIND_BY_FOLD.items() if f == folded), text.strip())


def parse_refs(text: str) -> list[DocRef]:
    """Every document reference in a text, once per number (the longest wording kept)."""
    found: dict[tuple[str, ...], DocRef] = {}
    for m in _REF_IN_TEXT.finditer(nfc(text)):
        ref = DocRef(_kind(m.group(1)), re.sub(r"\s+", "", m.group(2)), re.sub(r"\s+|/(?=/)", "", m.group(3) or ""))
        old = found.get(ref.key)
        if old is None or (ref.date and not old.date):
            found[ref.key] = ref
    return list(found.values())


_THIS = re.compile(rf"\b(?:{'|'.join(KINDS)}|văn bản)\s+này\b", re.IGNORECASE)


def relations(text: str, title: bool = False) -> list[tuple[str, DocRef]]:
    """Documents this one replaces or amends, as it declares: "Kế hoạch này thay thế Kế hoạch
    số …", "Quyết định này có hiệu lực … và thay thế …" (the sentence's subject is this
    document), or a title "Sửa đổi, bổ sung Kế hoạch số …" (`title`: no other document before)."""
    text = nfc(text)
    out: list[tuple[str, DocRef]] = []
    for m in _REF_IN_TEXT.finditer(text):
        before = text[max(0, m.start() - 80) : m.start()]
        sentence = re.split(r"[.;\n(]", text[max(0, m.start() - 300) : m.start()])[-1]
        own = not _REF_IN_TEXT.search(sentence) if title else bool(_THIS.search(sentence))
        for name, pattern in _RELATIONS:
            if own and pattern.search(before):
                ref = DocRef(_kind(m.group(1)), re.sub(r"\s+", "", m.group(2)))
                if (name, ref) not in out:
                    out.append((name, ref))
    return out


def plan_docs(plan: PlanRef, implements: list[str], text: str) -> PlanDocs:
    """A plan's references: its preamble's documents, the others its text cites, its relations."""
    own = number_key(plan.number) if plan.number else ()
    implemented = [r for r in parse_refs(" ; ".join(implements)) if r.key != own]
    keys = {r.key for r in implemented}
    cited = [r for r in parse_refs(text) if r.key not in keys and r.key != own]
    declared = relations(plan.title, title=True) + relations(text)
    unique = [(n, r) for i, (n, r) in enumerate(declared) if (n, r) not in declared[:i] and r.key != own]
    return PlanDocs(plan, implemented, cited, unique)


def lineage_query(question: str) -> LineageQuery | None:
    """The lineage question asked, if any (None for every other question)."""
    folded = " ".join(fold(question).replace("?", " ").split())
    refs = list(_REF_IN_QUESTION.finditer(folded))
    if not refs:
        return None
    implementers = _ASKS_IMPLEMENTERS.search(folded)
    if implementers:
        after = [m for m in refs if m.start() >= implementers.end()]
        if after:
            return LineageQuery("implementers", _question_ref(question, after[0]))
    for m in refs:  # "Chỉ thị 25 được triển khai bằng kế hoạch nào?", "Kế hoạch thực hiện Chỉ thị 25 là gì?"
        if _PASSIVE.match(folded, m.end()) or (_NAMED_AFTER.match(folded, m.end()) and _LEADS_TO.search(folded[: m.start()])):
            return LineageQuery("implementers", _question_ref(question, m))
    sources = _ASKS_SOURCES.search(folded)
    if sources:
        before = [m for m in refs if m.end() <= sources.start() + 1]
        if before:
            return LineageQuery("sources", _question_ref(question, before[-1]))
    return None


def _question_ref(question: str, m: re.Match) -> DocRef:
    number = re.sub(r"\s+", "", nfc(question)[m.start(2) : m.end(2)])
    return DocRef(_KIND_BY_FOLD.get(m.group(1), m.group(1)), number)


def _asked(ref: DocRef) -> str:
    return f"{ref.kind} {ref.number}".strip() if ref.kind else f"văn bản số {ref.number}"


def implementers(target: DocRef, plans: list[PlanDocs]) -> tuple[list[tuple[PlanDocs, DocRef]], list[tuple[PlanDocs, DocRef]]]:
    """Plans implementing `target` (it is in their preamble), and plans merely citing it."""
    implementing, citing = [], []
    for docs in plans:
        if docs.plan.number and matches(target, DocRef("Kế hoạch", docs.plan.number)) and target.kind in ("", "Kế hoạch"):
            continue  # the plan itself
        ref = next((r for r in docs.implements if matches(target, r)), None)
        if ref is not None:
            implementing.append((docs, ref))
            continue
        ref = next((r for r in docs.cites if matches(target, r)), None)
        if ref is not None:
            citing.append((docs, ref))
    return implementing, citing


def find_plans(target: DocRef, plans: list[PlanDocs]) -> list[PlanDocs]:
    """Indexed plans whose own number is `target`'s (the kind is not compared: a plan's number
    says what it is, "220/KH-UBND")."""
    bare = DocRef("", target.number)
    return [d for d in plans if d.plan.number and matches(bare, DocRef("", d.plan.number))]


def _sources_text(docs: PlanDocs, plans: list[PlanDocs]) -> list[str]:
    lines = [f"📄 {docs.plan.label}"]
    if docs.implements:
        lines.append("Căn cứ / thực hiện:")
        lines += [f" • {r.label}" for r in docs.implements]
    else:
        lines.append("Phần mở đầu không nêu văn bản căn cứ.")
    for name, ref in docs.relations:
        lines.append(f"Văn bản này {name} {ref.label}" + _indexed_note(ref, plans) + ".")
    if docs.cites:
        lines.append("Văn bản khác được nhắc đến trong nội dung: " + "; ".join(r.label for r in docs.cites[:12]))
    later, _ = implementers(DocRef("Kế hoạch", docs.plan.number), plans) if docs.plan.number else ([], [])
    for other, _ref in later:
        if other.plan.id != docs.plan.id:
            lines.append(f"Được thực hiện bởi: {other.plan.label}")
    for other in plans:
        for name, ref in other.relations:
            if docs.plan.number and matches(ref, DocRef("Kế hoạch", docs.plan.number)):
                lines.append(f"⚠️ Đã bị {name} bởi {other.plan.label}")
    return lines


def _indexed_note(ref: DocRef, plans: list[PlanDocs]) -> str:
    found = find_plans(ref, plans)
    return f" (đã nạp: {found[0].plan.label})" if found else ""


def answer_lineage(question: str, query: LineageQuery, plans: list[PlanDocs]) -> Answer:
    """The answer to a lineage question, from what the indexed plans say."""
    target = query.target
    if query.direction == "sources":
        found = find_plans(target, plans)
        if not found:
            return Answer(question, INTENT, None, False,
                          f"Chưa nạp kế hoạch nào số {target.number}, nên không biết nó căn cứ văn bản nào.")
        lines: list[str] = []
        for docs in found:
            lines += _sources_text(docs, plans) + [""]
        return Answer(question, INTENT, None, True, "\n".join(lines).strip())
    implementing, citing = implementers(target, plans)
    if implementing or citing:  # the number as the documents spell it ("942/QĐ-TTg")
        first = (implementing or citing)[0][1]
        target = DocRef(target.kind or first.kind, first.number)
    if implementing:
        lines = [f"Các kế hoạch đã nạp thực hiện {_asked(target)} ({len(implementing)}):"]
        lines += [f" • {d.plan.label} — căn cứ {r.label}" for d, r in implementing]
    else:
        lines = [f"Không có kế hoạch nào đã nạp thực hiện {_asked(target)}."]
    if citing:
        lines += ["", "Có nhắc đến văn bản này (không nêu là căn cứ):"]
        lines += [f" • {d.plan.label}" for d, _ in citing[:10]]
    for docs in plans:
        for name, ref in docs.relations:
            if matches(target, ref):
                lines.append(f"{docs.plan.label} {name} {ref.label}.")
    return Answer(question, INTENT, None, bool(implementing), "\n".join(lines))


def answer_number(text: str, plans: list[PlanDocs]) -> Answer:
    """`/vanban <số hiệu>`: the indexed plan with that number (what it implements) and the
    indexed plans implementing or citing that document."""
    question = nfc(text).strip()
    m = _REF_IN_QUESTION.search(fold(question))
    if m:
        target = _question_ref(question, m)
    else:
        number = re.search(r"\d+(?:\s*[-/]\s*[0-9A-Za-zĐđ]+)*", question)
        if not number:
            return Answer(question, INTENT, None, False, "Cách dùng: /vanban <số hiệu>, ví dụ: /vanban 25-CT/TW")
        target = DocRef("", re.sub(r"\s+", "", number.group(0)).upper())
    own = find_plans(target, plans) if len(target.key) > 1 or target.kind == "Kế hoạch" else []
    parts: list[str] = []
    for docs in own:
        parts.append("\n".join(_sources_text(docs, plans)))
    implementing = answer_lineage(question, LineageQuery("implementers", target), plans)
    if implementing.answered or not own:
        parts.append(implementing.answer)
    return Answer(question, INTENT, None, bool(own) or implementing.answered, "\n\n".join(parts))
