"""Who does what in a sentence: lead (chủ trì), cooperating (phối hợp), report recipients.

General rules over agency mentions (registry names, and names recognised by their shape:
`knowledge.orgs.agency_patterns`), not rules for sample sentences:
- an agency heading a part of the plan ("3.5. Sở Giáo dục và Đào tạo", "Giao Sở X:") owns every
  duty under it: lead, or cooperating when the duty starts with "Phối hợp";
- "Giao X …", "Đề nghị X …", "yêu cầu X …", "Cơ quan chủ trì: X", or X as the subject of a duty
  verb ("X chủ trì", "X khẩn trương …", "X tham mưu", a list "X, Y và Z triển khai …"), "… do X
  làm thường trực / hướng dẫn thực hiện", "Bước 2: X …", "+ X: hướng dẫn …" → X leads;
- "phối hợp" is symmetric: the subject of "phối hợp (với) …" and every agency after "phối hợp
  (với)" cooperate. "Công an tỉnh phối hợp với Sở Y tế kiểm tra" makes both cooperating; no lead
  is invented for a sentence that names none ("X chủ trì, phối hợp với Y" → X leads, Y cooperates);
- agencies after "báo cáo" / "gửi … về" / "thông qua" → receive reports;
- collective names ("Các sở, ngành", "UBND các huyện") stay collective.

Work is linear in the length of the text: every look-around is a bounded window, and segment
boundaries and report cues are found once per text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from knowledge.model import LEAD, RECIPIENT, SUPPORT, AgencyRef, Assignment
from knowledge.orgs.agencies import AgencyRegistry, Mention, split_agencies
from knowledge.orgs.agency_patterns import find_names, name_end, same_level
from knowledge.parsing.subjects import clause_subjects
from knowledge.text import fold

SUBJECT_VERBS = (
    "chu tri", "tham muu", "thuc hien", "co trach nhiem", "chiu trach nhiem", "la dau moi", "lam dau moi",
    "phoi hop", "to chuc", "xay dung", "trien khai", "cap nhat", "thuong xuyen", "huong dan", "chi dao",
    "tiep nhan", "bao cao", "theo doi", "tham dinh", "can doi", "bo tri", "ra soat", "nghien cuu",
    "de xuat", "du thao", "giup", "tong hop", "dam bao", "quan ly", "kiem tra", "chu dong", "tiep tuc",
    "phu trach", "ban hanh", "trinh", "tuyen truyen", "lanh dao", "can cu", "duy tri", "khan truong",
    "kip thoi", "nghiem tuc", "tap trung", "la co quan", "co nhiem vu", "don doc", "danh gia", "van dong",
    "ho tro", "bao dam", "tang cuong", "day manh", "uu tien", "cung cap", "cong khai", "bo sung",
    "dieu chinh", "hoan thien", "hoan thanh", "thanh lap", "phat dong", "duoc giao", "quyet liet",
    "khan cap", "sua doi", "giam sat", "thanh tra", "kiem soat", "xu ly", "phan bo", "dua", "thu thap",
    "tham gia", "quan triet", "pho bien", "nang cao", "van hanh", "phat huy", "lam thuong truc",
    "lam co quan thuong truc", "lam truong ban", "lap",
)
_VERB_ALT = "|".join(SUBJECT_VERBS)
# (a locality list may run on past the name: "UBND xã, phường, thị trấn lập …")
_SUBJECT_RE = re.compile(
    r"(?:\s*(?:,|va)\s*(?:thi tran|thi xa|xa|phuong|dac khu|huyen|quan|thanh pho)\b)*"
    r"\s*(?:\([^)]{0,60}\)\s*)?(?:" + _VERB_ALT + r")\b"
)
_ANY_VERB_RE = re.compile(r"\b(?:" + _VERB_ALT + r")\b")
_LEAD_BEFORE = re.compile(
    r"(?:\bgiao(?: cho)?|\bde nghi|\bkien nghi|\byeu cau|\bphan cong|\bgiao nhiem vu cho|\bgiao trach nhiem cho"
    r"|\bchi dao|\b(?:co quan|don vi)?\s*chu tri(?:\s+(?:theo doi|thuc hien|danh gia)[^:]{0,25})?:"
    r"|\b(?:co quan|don vi)\s+(?!phoi hop|tiep nhan|nhan)[a-z ]{2,40}:\s*(?:-\s*)?)\s*(?:cac\s+)?$"
)
_SUPPORT_BEFORE = re.compile(
    r"phoi hop(?:\s+chat che)?(?:\s+voi)?\s+(?:cac\s+)?$|\bcung voi\s+$|\b(?:co quan|don vi)?\s*phoi hop:\s*$"
)
_RECIPIENT_BEFORE = re.compile(
    r"(?:bao cao|gui(?:\s+bao cao)?(?:\s+ve)?|ve|thong qua|qua|trinh|cho|voi|den)\s+(?:cac\s+)?$"
)
# "Thành lập Tổ công tác … do Sở Y tế làm thường trực": the agency after "do" that a duty verb
# follows is the one who does it (not "theo hướng dẫn do Bộ Y tế ban hành": issuing is no duty here).
_BY_BEFORE = re.compile(r"\bdo\s+(?:cac\s+)?$")
_BY_AFTER = re.compile(
    r"\s*(?:lam (?:co quan )?thuong truc|lam (?:co quan )?dau moi|lam truong ban|chu tri|phu trach|dam nhiem"
    r"|huong dan thuc hien|to chuc thuc hien|chiu trach nhiem)\b"
)
_COLON_DUTY = re.compile(r"\s*:\s*(?:" + _VERB_ALT + r")\b")
_REPORT_CUE = re.compile(r"\bbao cao\b|\bgui\b|\bnop\b")
_SEGMENT_CUT = re.compile(r";|\.\s")
_TIME_LEAD = re.compile(
    r"[\s\-–+•*]*(?:buoc \d+\s*:\s*)?(?:(?:trong|truoc|den|tu|hang|hang nam|dinh ky|sau|khi)[^,]{0,40},\s*|(?:tren co so|can cu)[^;:.]{0,120}?,\s*"
    r"|giao\s+|dong thoi,?\s*)?"
)
_LIST_GAP = re.compile(r"\s*\)?\s*(?:,|va|;|&|\+|/)\s*(?:cac\s+)?")
# One phrase set before the subjects by a comma ("Kế hoạch và tình hình thực tiễn, các sở, …
# xây dựng …"): the subjects still open the clause.
_FRONTED = re.compile(r"[\s\-–+•*]*[^,;:.()]{3,100},\s*")
# "Chỉ đạo các đơn vị trực thuộc …" under an agency's heading: the units lead, and the heading's
# agency, who directs them, still does.
_DIRECTED = re.compile(r"\bchi dao\s+(?:cac\s+)?$")
_PAREN_GAP = re.compile(r"[^,;()]{0,30}\(\s*")
_BRANCH = re.compile(r"(?:chi nhanh|van phong|co quan thuong truc|thuong truc)\s")
_PLACE_AFTER = re.compile(r"\s+(?:tinh|thanh pho|huyen|quan|thi xa|xa|phuong|khu vuc)(?![\w&])")
_OWN_CUE = re.compile(r"\s*(yeu cau|de nghi|giao|chi dao)\b")
_DUTY_AFTER = re.compile(rf"(?:{_SUBJECT_RE.pattern})|(?:{_COLON_DUTY.pattern})|(?:{_OWN_CUE.pattern})")
_PHOI_HOP = re.compile(r"\s*(?:-\s*)?phoi hop\b")
_LIST_VERB_REACH = 80  # a list of subjects is followed by its verb soon ("…, căn cứ chức năng, xây dựng …")
_WINDOW = 160  # longest head (time phrase, "Giao") before a subject, in characters


def mentions_in(text: str, folded: str, registry: AgencyRegistry) -> list[Mention]:
    """Registry mentions plus names recognised by shape, left to right, no overlaps.

    A registry name followed by a place ("Sở Y tế tỉnh Quảng Ngãi") is stretched over it.
    """
    known = registry.find_mentions(text, folded)
    starts = [m.start for m in known]
    canonical: dict[str, AgencyRef] = {}
    shaped: list[Mention] = []
    for a, b in find_names(text, folded):
        i = bisect_left(starts, a)
        if i < len(known) and known[i].start == a:
            if b > known[i].end and (i + 1 == len(known) or known[i + 1].start >= b):
                # The longer name decides ("Bảo hiểm xã hội Thành phố" is no "Bảo hiểm xã hội tỉnh").
                ref = known[i].ref if same_level(text[a:b], known[i].ref.name) else registry.canonical(text[a:b])
                known[i] = Mention(a, b, ref)
            continue
        if i and known[i - 1].end > a:
            continue  # overlaps a registry name: the registry wins
        inner = i
        while inner < len(known) and known[inner].end <= b:
            inner += 1
        if inner < len(known) and known[inner].start < b:
            if not _BRANCH.match(folded, a):
                continue
            # "Chi nhánh Ngân hàng Chính sách xã hội Thành phố": the branch's name ends with the
            # registry name it holds, and its place.
            place = _PLACE_AFTER.match(folded, known[inner].end)
            b = place.end() if place else known[inner].end
            inner += 1
        if inner > i:
            # A longer name holds registry names ("Văn phòng Ban Chỉ đạo …", "Chi nhánh …"):
            # the longer one is the agency.
            del known[i:inner], starts[i:inner]
        raw = text[a:b]
        if raw not in canonical:
            canonical[raw] = registry.canonical(raw)
        shaped.append(Mention(a, b, canonical[raw]))
    return sorted([*known, *shaped], key=lambda m: m.start)


class _Sentence:
    """Folded text with its segment cuts and report cues, for bounded look-ups."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        self.cuts = [m.start() for m in _SEGMENT_CUT.finditer(folded)]
        self.reports = [m.start() for m in _REPORT_CUE.finditer(folded)]

    def segment_start(self, at: int) -> int:
        i = bisect_left(self.cuts, at)
        return self.cuts[i - 1] + 1 if i else 0

    def segment_end(self, at: int) -> int:
        i = bisect_right(self.cuts, at)
        return self.cuts[i] if i < len(self.cuts) else len(self.folded)

    def report_between(self, a: int, b: int) -> bool:
        i = bisect_left(self.reports, a)
        return i < len(self.reports) and self.reports[i] < b


def classify(text: str, registry: AgencyRegistry, owners: list[AgencyRef] | None = None) -> list[Assignment]:
    """Assignments stated by one clause. `owners` are agencies whose heading the clause sits under."""
    folded = fold(text)
    sentence = _Sentence(folded)
    mentions = mentions_in(text, folded, registry)
    starts = [0, *(c + 1 for c in sentence.cuts)]
    mentions, subjects = clause_subjects(text, folded, mentions, registry, starts, _TIME_LEAD, _ANY_VERB_RE, _DUTY_AFTER)

    def role_of(m: Mention) -> str | None:
        if m.start in subjects:
            return SUPPORT if _PHOI_HOP.match(folded, m.end) else LEAD
        return _role_of(sentence, m)

    result: list[Assignment] = []
    seen: set[tuple[str, str]] = set()

    def add(ref: AgencyRef, role: str) -> None:
        key = (ref.name, role)
        if key not in seen:
            seen.add(key)
            result.append(Assignment(ref, role))

    owner_names = {o.name for o in owners or []}
    first_segment_end = sentence.segment_end(0)
    # The clause has a subject of its own when an agency in its first segment leads, or is
    # followed by a duty of its own — unless "phối hợp với" / "báo cáo" already gave it a role
    # ("Phối hợp với Sở X chỉ đạo …" stays the heading owner's duty).
    own_subject = any(
        m.ref.name not in owner_names
        and (role := role_of(m)) not in (SUPPORT, RECIPIENT)
        and (role == LEAD or _OWN_CUE.match(folded, m.end))
        and not _DIRECTED.search(folded, max(0, m.start - 12), m.start)
        for m in mentions
        if m.start < first_segment_end
    )
    if owners and not own_subject:
        owner_role = SUPPORT if _PHOI_HOP.match(folded) else LEAD
        for owner in owners:
            add(owner, owner_role)
    if owners and own_subject:
        owner_names = set()
    # A clause opening with a list of agencies ("Sở Tài chính & Sở Nội vụ phối hợp …", "Thủ trưởng
    # các đơn vị …, Trưởng các phòng … căn cứ …") names its subjects even when the verb comes later.
    leading: list[Mention] = []
    cursor = 0
    for m in mentions:
        gap = folded[cursor : m.start]
        fronted = not leading and (_TIME_LEAD.fullmatch(gap) or _FRONTED.fullmatch(gap))
        if (not leading and not fronted) or (leading and not _LIST_GAP.fullmatch(gap)):
            break
        leading.append(m)
        cursor = m.end
    if leading and not owners and not _OWN_CUE.match(folded, cursor):
        # ("UBND tỉnh yêu cầu các sở …": the requester is not the one who does the work.)
        verb = _ANY_VERB_RE.search(folded, cursor, min(first_segment_end, cursor + _LIST_VERB_REACH))
        if verb:
            role = SUPPORT if verb.group(0) == "phoi hop" and cursor + 40 > verb.start() else LEAD
            for m in leading:
                add(m.ref, role)
    chain_role: str | None = None
    chain_end = -1
    for m in mentions:
        if m.ref.name in owner_names:
            continue
        role = role_of(m)
        # Lists continue the role of their first member: "phối hợp với Sở Nội vụ, Sở Tài chính và …"
        if role is None and chain_role and m.start - chain_end < 12 and _LIST_GAP.fullmatch(folded, chain_end, m.start):
            role = chain_role
        elif role is None and chain_role and _PAREN_GAP.fullmatch(folded, chain_end, m.start):
            chain_end = m.end  # "Trung tâm Dịch vụ việc làm (Sở Nội vụ), …": the parent body, not a member
            continue
        if role is None:
            chain_role = None
            continue
        add(m.ref, role)
        chain_role, chain_end = role, m.end
    if not owners and not any(a.role == LEAD for a in result):
        actor = _actor(text, folded)
        if actor:
            result.insert(0, Assignment(registry.canonical(actor), LEAD))
    return result


# Rules and procedures name the doer by its part in them ("Cơ quan, đơn vị lấy ý kiến gửi …",
# "Lãnh đạo được giao nhiệm vụ tiếp nhận … (gọi tắt là …) kiểm tra …"): a generic head opening
# the clause, up to a definition in parentheses or to the clause's verb.
_ACTOR_HEAD = re.compile(
    r"(?:[-–+•*]\s*)?(?:buoc \d+\s*:\s*)?(?=[a-z])(?:co quan|don vi|lanh dao|bo phan|to chuc, ca nhan"
    r"|ca nhan, to chuc)(?:\s*,\s*(?:co quan|don vi|to chuc|ca nhan))?(?=\s)"
)
_ACTOR_DEFINED = re.compile(r"[^,;.:()]{0,120}?(?=\s*\((?:goi tat|sau day goi|sau day viet tat))")
_ACTOR_VERB = re.compile(
    r"\s+(phai|co trach nhiem|chiu trach nhiem|gui|nop|kiem tra|thuc hien|tiep nhan|bao cao|xu ly|cap nhat|ra soat"
    r"|tong hop|phe duyet|thong bao|tra loi)\b"
)
_ACTOR_STOP = re.compile(r"[,;.:()]")


def _actor(text: str, folded: str) -> str | None:
    head = _ACTOR_HEAD.match(folded)
    if not head or not text[head.end() - len(head.group(0).lstrip("-–+•* ")) :][:1].isupper():
        return None
    start = head.end() - len(head.group(0).lstrip("-–+•* "))
    if folded.startswith("buoc", start):
        start = folded.index(":", start) + 1
        start += len(folded[start:]) - len(folded[start:].lstrip())
    defined = _ACTOR_DEFINED.match(folded, head.end())
    end = defined.end() if defined else None
    if end is None:
        for verb in _ACTOR_VERB.finditer(folded, head.end(), head.end() + 90):
            if _ACTOR_STOP.search(folded, head.end(), verb.start()):
                break
            if verb.group(1) != "phai" or text[verb.start(1) : verb.end(1)] in ("phải", "phai"):  # not "biệt phái"
                end = verb.start()
                break
    if end is None or not 3 <= len(folded[start:end].split()) <= 14:
        return None
    return text[start:end].strip()


def _role_of(sentence: _Sentence, m: Mention) -> str | None:
    folded = sentence.folded
    seg = sentence.segment_start(m.start)
    before = folded[max(seg, m.start - 60) : m.start]
    if _SUPPORT_BEFORE.search(before):
        return SUPPORT
    if _LEAD_BEFORE.search(before):
        return LEAD
    if _BY_BEFORE.search(before) and _BY_AFTER.match(folded, m.end):
        return LEAD  # "… do Sở Y tế làm thường trực", "… do Bộ Quốc phòng hướng dẫn thực hiện"
    # Subject of a duty verb at the start of its segment (possibly after a time phrase or "Giao").
    if m.start - seg <= _WINDOW and _TIME_LEAD.fullmatch(folded, seg, m.start):
        after = _SUBJECT_RE.match(folded, m.end)
        if not after and _COLON_DUTY.match(folded, m.end):
            return LEAD  # "+ Sở Công Thương: hướng dẫn …" (a name, a colon, its duty)
        if after:
            return SUPPORT if after.group(0).strip().startswith("phoi hop") else LEAD
    if sentence.report_between(seg, m.start) and _RECIPIENT_BEFORE.search(before):
        return RECIPIENT
    return None


_TITLE_PREFIX = re.compile(
    r"^(?:đề nghị|giao|đối với|phân công|trách nhiệm của|nhiệm vụ của|trách nhiệm|nhiệm vụ|yêu cầu)\s+", re.I
)
_TITLE_SUFFIX = re.compile(
    r"\s+(?:(?:có|chịu)\s+trách\s+nhiệm|có\s+nhiệm\s+vụ|thực\s+hiện\s+các\s+nhiệm\s+vụ|như\s+sau)\b.*$", re.I
)
_TITLE_TAIL = re.compile(
    r"[\s,]*(?:(?:cac\s+)?(?:tinh|huyen|thi xa|thanh pho|xa|phuong|thi tran|quan|dia phuong|cap \w+|tuyen \w+"
    r"|truc thuoc\b.*|lien quan|co lien quan)[\s,]*)*$"
)
_COLLECTIVE_HEAD = re.compile(
    r"(cac|tat ca cac|thu truong|nguoi dung dau|giam doc|chu tich)\s+(so|ban|nganh|co quan|don vi|phong|bo|"
    r"huyen|xa|dia phuong|to chuc|doan the|hoi|truong(?! hop)|trung tam|benh vien|tram|ubnd|uy ban|doanh nghiep|co so)\b"
)


def subject_of_title(title: str, registry: AgencyRegistry) -> list[AgencyRef]:
    """Agencies a heading names when the heading is only agencies, at any depth.

    "3.5. Sở Giáo dục và Đào tạo", "b) Văn phòng UBND tỉnh:", "Giao Sở X:", "Trách nhiệm của Sở Y
    tế", "Đề nghị Ủy ban MTTQ tỉnh", "Các sở, ban, ngành" name owners; a topical heading
    ("Phát triển hạ tầng số", "Nhiệm vụ của ngành y tế nói chung") or a sentence ("Sở Y tế chủ trì
    tổ chức …") names none: every piece must be a whole agency name (known, or by its shape,
    possibly followed by a locality), or a collective name.
    """
    if "…" in title or re.search(r"\d|%", title):
        return []
    cleaned = re.sub(r"\([^)]*\)?", "", title).strip(" :*.")
    cleaned = _TITLE_SUFFIX.sub("", _TITLE_PREFIX.sub("", cleaned))
    pieces = split_agencies(cleaned)
    if not pieces or len(cleaned.split()) > 25 or any(len(p.split()) > 14 for p in pieces):
        return []
    refs = []
    for piece in pieces:
        folded = fold(piece)
        ref = registry.canonical(piece)
        if registry.entry(ref.name) is None and not _COLLECTIVE_HEAD.match(folded):
            end = _whole_name(piece, folded, registry)
            if end is None:
                return []
            if end < len(piece) and re.match(r"\s*[-–(]", piece[end:]):
                ref = registry.canonical(piece[:end])  # "Sở Tài chính - Cơ quan thường trực Ban Chỉ đạo"
        refs.append(ref)
    for ref in refs:
        # Later prose names the agency in full ("phối hợp với Ban Quản lý các khu công nghiệp …").
        registry.add_name(ref.name, ref.collective)
    return refs


_PERSON = re.compile(r"(?:pho\s+)?(?:truong|giam doc|chu tich|thu truong|nguoi dung dau|lanh dao|thu truong cac)\s+")


def _whole_name(piece: str, folded: str, registry: AgencyRegistry) -> int | None:
    """End of the agency name the piece consists of, or None when it is not one.

    The piece may be collective ("các TTYT"), name a post ("Trưởng Ban Chỉ đạo"), end in a
    locality ("Trung tâm Y tế các huyện") or an apposition ("Sở Tài chính - Cơ quan thường trực …"),
    or be a named head with a description and no verb ("Ban Quản lý các khu công nghệ cao và khu
    công nghiệp").
    """
    offset = 0
    person = _PERSON.match(folded)
    if person:
        offset = person.end()
        if _COLLECTIVE_HEAD.match(folded, offset):
            return len(piece)  # "Thủ trưởng các đơn vị", "Trưởng các phòng, ban"
    lead = re.compile(r"(?:cac|tat ca cac|toan bo)\s+").match(folded, offset)
    if lead:
        offset = lead.end()
    rest_piece = piece[offset:]
    rest_piece = rest_piece[:1].upper() + rest_piece[1:]
    end = name_end(rest_piece, folded[offset:], 0)
    if end is None:
        known = registry.find_mentions(rest_piece, folded[offset:])
        end = known[0].end if known and known[0].start == 0 else None
    if end is None:
        return None
    end += offset
    if _TITLE_TAIL.fullmatch(folded, end):
        return len(piece)
    if re.match(r"\s*[-–(]", folded[end:]):
        return end
    rest = folded[end:]
    if len(rest.split()) <= 10 and not _ANY_VERB_RE.search(rest) and not re.search(
        r"\b(cua|ve|doi voi|trong|nham|de|tai|theo)\b", rest
    ):
        return len(piece)
    cut = re.search(r"\s+[-–]\s+|\s*\(", folded)
    if cut and cut.start() > offset:
        # An apposition: "Sở Tài chính - Cơ quan thường trực Ban Chỉ đạo".
        inner = _whole_name(piece[: cut.start()], folded[: cut.start()], registry)
        return inner if inner == cut.start() else None
    return None
