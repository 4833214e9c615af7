"""Who does what in a sentence: lead (chủ trì), cooperating (phối hợp), report recipients.

General rules over agency mentions, not rules for sample sentences:
- an agency heading a part of "Tổ chức thực hiện" owns every duty under it: lead, or
  cooperating when the duty starts with "Phối hợp";
- "Giao X …", "Đề nghị X …", "yêu cầu X …", or X as the subject of a duty verb
  ("X chủ trì", "X tham mưu", "X cập nhật…") → X leads;
- agencies after "phối hợp (chặt chẽ) với" → cooperating;
- agencies after "báo cáo"/"gửi … về"/"thông qua" → receive reports.
"""

from __future__ import annotations

import re

from knowledge.agencies import AgencyRegistry, Mention, split_agencies
from knowledge.model import LEAD, RECIPIENT, SUPPORT, AgencyRef, Assignment
from knowledge.text import fold

SUBJECT_VERBS = (
    "chu tri", "tham muu", "thuc hien", "co trach nhiem", "chiu trach nhiem", "la dau moi", "lam dau moi",
    "phoi hop", "to chuc", "xay dung", "trien khai", "cap nhat", "thuong xuyen", "huong dan", "chi dao",
    "tiep nhan", "bao cao", "theo doi", "tham dinh", "can doi", "bo tri", "ra soat", "nghien cuu",
    "de xuat", "du thao", "giup", "tong hop", "dam bao", "quan ly", "kiem tra", "chu dong", "tiep tuc",
    "phu trach", "ban hanh", "trinh", "tuyen truyen", "lanh dao", "can cu", "duy tri",
)
_SUBJECT_RE = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:" + "|".join(SUBJECT_VERBS) + r")\b")
_LEAD_BEFORE = re.compile(r"(?:\bgiao(?: cho)?|\bde nghi|\byeu cau|\bphan cong)\s+(?:cac\s+)?$")
_SUPPORT_BEFORE = re.compile(r"phoi hop(?:\s+chat che)?(?:\s+voi)?\s+(?:cac\s+)?$|\bcung voi\s+$")
_RECIPIENT_BEFORE = re.compile(
    r"(?:bao cao|gui(?:\s+bao cao)?(?:\s+ve)?|ve|thong qua|qua|trinh|cho|voi)\s+(?:cac\s+)?$"
)


def _segment_start(folded: str, at: int) -> int:
    """Start of the clause segment containing `at` (after the last ';' or '.')."""
    cut = max(folded.rfind(";", 0, at), folded.rfind(". ", 0, at))
    return cut + 1


def classify(text: str, registry: AgencyRegistry, owners: list[AgencyRef] | None = None) -> list[Assignment]:
    """Assignments stated by one clause. `owners` are agencies whose heading the clause sits under."""
    folded = fold(text)
    mentions = registry.find_mentions(text)
    if not owners and not (mentions and mentions[0].start <= 6):
        unknown = unknown_subject(text, folded, registry)
        if unknown:
            mentions.insert(0, unknown)
    result: list[Assignment] = []
    seen: set[tuple[str, str]] = set()

    def add(ref: AgencyRef, role: str) -> None:
        key = (ref.name, role)
        if key not in seen:
            seen.add(key)
            result.append(Assignment(ref, role))

    owner_names = {o.name for o in owners or []}
    first_segment_end = min([i for i in (folded.find(";"), folded.find(". ")) if i != -1] or [len(folded)])
    own_subject = any(
        m.ref.name not in owner_names
        and m.start < first_segment_end
        and (
            _role_of(folded, m, None) == LEAD
            or re.match(r"\s*(yeu cau|de nghi|giao)\b", folded[m.end :])
        )
        for m in mentions
    )
    if owners and not own_subject:
        owner_role = SUPPORT if re.match(r"\s*(?:-\s*)?phoi hop\b", folded) else LEAD
        for owner in owners:
            add(owner, owner_role)
    chain_role: str | None = None
    chain_end = -1
    if owners and own_subject:
        owner_names = set()
    # A clause opening with a list of agencies ("Thủ trưởng các đơn vị …, Trưởng các phòng … căn
    # cứ …, xây dựng …") names its subjects even when the verb comes after other words.
    leading: list[Mention] = []
    cursor = 0
    for m in mentions:
        gap = folded[cursor : m.start]
        if (not leading and gap.strip(" -–+•*:")) or (leading and not re.fullmatch(r"\s*(?:,|va|;)\s*", gap)):
            break
        leading.append(m)
        cursor = m.end
    if leading and not owners and any(re.search(rf"\b{v}\b", folded[cursor:first_segment_end]) for v in SUBJECT_VERBS):
        for m in leading:
            add(m.ref, LEAD)
    for i, m in enumerate(mentions):
        if m.ref.name in owner_names:
            continue
        role = _role_of(folded, m, mentions[i - 1] if i else None)
        # Lists continue the role of their first member: "phối hợp với Sở Nội vụ, Sở Tài chính và …"
        if role is None and chain_role and re.fullmatch(r"\s*(?:,|va|;)?\s*(?:cac\s+)?", folded[chain_end : m.start]):
            role = chain_role
        if role is None:
            chain_role = None
            continue
        add(m.ref, role)
        chain_role, chain_end = role, m.end
    return result


def _role_of(folded: str, m: Mention, previous: Mention | None) -> str | None:
    seg = _segment_start(folded, m.start)
    before = folded[max(seg, m.start - 40) : m.start]
    after = folded[m.end : m.end + 40]
    if _SUPPORT_BEFORE.search(before):
        return SUPPORT
    if _LEAD_BEFORE.search(before):
        return LEAD
    # Subject of a duty verb at the start of its segment (possibly after a time phrase).
    head = folded[seg : m.start]
    at_start = not head.strip(" -–+•*:") or re.fullmatch(
        r"[\s\-–+•*]*(?:(?:trong|truoc|den|tu|hang|hang nam|dinh ky)[^,]{0,40},\s*|tren co so[^,]{0,60},\s*|giao\s+)?",
        head,
    )
    if at_start and _SUBJECT_RE.match(after):
        return SUPPORT if re.match(r"\s*phoi hop\b", after) else LEAD
    if re.search(r"\bbao cao\b|\bgui\b", folded[seg : m.start]) and _RECIPIENT_BEFORE.search(before):
        return RECIPIENT
    return None


# An agency the registry does not know, named as the subject of a duty at the start of a clause:
# an agency word, a capitalised name of up to eight words, then a duty verb
# ("Hội Người cao tuổi tỉnh chủ trì …", "Trường Cao đẳng Y tế tham mưu …"). Matched on the folded
# text (offsets are shared with the original, where the capital letter is checked).
_UNKNOWN_HEAD = re.compile(
    r"^[\s\-–+•*]*(?:giao\s+)?((?:so|phong|trung tam|ban|hoi|cuc|chi cuc|van phong|benh vien|truong|vien|"
    r"dai|bao|cong ty|quy|lien hiep|lien doan|doan|tong cuc|uy ban|ubnd|tram|doi)\s+(\S+)(?:\s+[^\s,;:.]+){0,7}?)"
    r"\s+(?=(?:" + "|".join(SUBJECT_VERBS) + r")\b)"
)


def unknown_subject(text: str, folded: str, registry: AgencyRegistry) -> Mention | None:
    found = _UNKNOWN_HEAD.match(folded)
    if not found or not text[found.start(2) : found.start(2) + 1].isupper():
        return None
    raw = text[found.start(1) : found.end(1)]
    return Mention(found.start(1), found.end(1), registry.canonical(raw))


def subject_of_title(title: str, registry: AgencyRegistry) -> list[AgencyRef]:
    """Agencies a heading names when the heading is only agencies ("3. Sở Kế hoạch và Đầu tư")."""
    if "…" in title or re.search(r"\d|%", title):
        return []
    cleaned = re.sub(r"\([^)]*\)?", "", title).strip(" :*")
    cleaned = re.sub(r"^(đề nghị|giao|đối với)\s+", "", cleaned, flags=re.I)
    pieces = split_agencies(cleaned)
    if not pieces or len(cleaned.split()) > 25 or any(len(p.split()) > 12 for p in pieces):
        return []
    refs = []
    for piece in pieces:
        ref = registry.canonical(piece)
        known = registry.entry(ref.name) is not None
        head_ok = re.match(
            r"(so|ubnd|uy ban|phong|trung tam|benh vien|ban|bao hiem|dai|bao|van phong|chi cuc|thanh tra|cong an|"
            r"cac|tram|hoi|mat tran|bhxh|ttyt|thu truong|nguoi dung dau)\b",
            fold(piece),
        )
        if not (known or head_ok):
            return []
        refs.append(ref)
    return refs
