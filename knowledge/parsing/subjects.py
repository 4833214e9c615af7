"""Subjects of a clause that agency names by shape miss: a name that runs on to its verb, and a
collective of generic doers.

- A name at the start of a clause that no duty verb follows at once goes on up to its verb when
  the words between are a name's tail: no punctuation, no other agency, at most eight words, and
  a capitalised word or a closing locality among them ("Ban Quản lý các Khu chế xuất và công
  nghiệp Thành phố chủ trì …": the shape stops at "và công nghiệp", the verb does not).
- "Các cơ quan, đơn vị có liên quan báo cáo …", "Các nhà đầu tư trong khu công nghiệp chủ động
  …", "Định kỳ 06 tháng, các cơ quan … báo cáo": a collective of generic doers opening a clause
  (possibly after a time phrase) and followed by its duty verb is the clause's subject.
"""

from __future__ import annotations

import re
from dataclasses import replace

from knowledge.orgs.agencies import AgencyRegistry, Mention
from knowledge.text import fold

_GENERIC = (
    r"(?:co quan|don vi|dia phuong|nha dau tu|chu dau tu|doanh nghiep|to chuc|hop tac xa|co so|nganh|so|ban"
    r"|doan the|hoi|thanh vien|ca nhan)"
)
_COLLECTIVE = re.compile(
    r"(?:tat ca\s+)?(?:cac|nhung)\s+" + _GENERIC + r"(?:\s*(?:,|va)\s*" + _GENERIC + r")*(?![\w&])"
)
_PUNCT = re.compile(r"[,;:.()\[\]\"“”]")
# Words that make the run a predicate, not a name ("Các doanh nghiệp được hỗ trợ …").
_PREDICATE = re.compile(
    r"\b(?:duoc|bi|da|dang|se|can|phai|khong|chua|thi|neu|khi|la|co the|nham|de)\b"
)
_LOCALITY_END = re.compile(
    r"(?:tinh|thanh pho|huyen|quan|thi xa|xa|phuong|cap tinh|cap huyen|cap xa)\s*$"
)
_MAX_RUN = 8
_COLON = re.compile(r":\s+")
_LEAD_IN = re.compile(
    r"[\s\-–+•*]*(?:do\s+|(?:dinh ky|hang nam|hang quy|hang thang|hang tuan)(?:\s+\d+\s+(?:thang|nam|quy|tuan))?\s+)"
)


def clause_subjects(
    text: str,
    folded: str,
    mentions: list[Mention],
    registry: AgencyRegistry,
    starts: list[int],
    lead_in: re.Pattern[str],
    verb: re.Pattern[str],
    duty_after: re.Pattern[str],
) -> tuple[list[Mention], set[int]]:
    """`mentions` with clause-opening subjects stretched or added, and the starts of the
    collectives added (subjects of their clause). `starts` are the offsets where segments open;
    `lead_in` matches what may stand before a subject (a time phrase), `verb` a duty verb,
    `duty_after` what follows a subject that already has its verb."""
    out = list(mentions)
    added: set[int] = set()
    colons = [m.end() for m in _COLON.finditer(folded)]
    for seg in sorted({*starts, *colons}):
        head = lead_in.match(folded, seg)
        at = head.end() if head else seg
        if not folded[seg:at].strip(" \t-–+•*") or seg in colons:
            # "Định kỳ 06 tháng các cơ quan … báo cáo", "…: Do các nhà đầu tư chủ động …"
            extra = _LEAD_IN.match(folded, seg)
            at = extra.end() if extra and _COLLECTIVE.match(folded, extra.end()) else at
        while at < len(folded) and folded[at] in " \t":
            at += 1
        if seg in colons and not _COLLECTIVE.match(folded, at):
            continue  # (after a colon only a collective opens a subject: names have their rules)
        first = next((i for i, m in enumerate(out) if m.end > at), None)
        nxt = out[first] if first is not None else None
        group = _COLLECTIVE.match(folded, at)
        known = nxt is not None and nxt.start == at
        if known and not group:
            if duty_after.match(folded, nxt.end):
                continue
            end = _run_to_verb(text, folded, nxt.end, _next_start(out, first), verb, need_name=True)
            if end is not None:
                out[first] = Mention(nxt.start, end, registry.canonical(text[nxt.start : end]))
            continue
        if not group or nxt is not None and nxt.start < at:
            continue
        # (a known collective may be shorter than the subject: "các cơ quan" of "… có liên quan")
        tail = max(group.end(), nxt.end) if known else group.end()
        limit = _next_start(out, first) if known else nxt.start if nxt is not None else len(folded)
        if duty_after.match(folded, tail):
            end = tail
        else:
            end = _run_to_verb(text, folded, tail, limit, verb, need_name=False)
        if end is None or end > limit:
            continue
        ref = replace(registry.canonical(text[at:end]), collective=True)
        if known:
            out[first] = Mention(at, end, ref) if end > nxt.end else nxt
        else:
            out.insert(first if first is not None else len(out), Mention(at, end, ref))
        added.add(at)
    return out, added


def _next_start(mentions: list[Mention], i: int) -> int:
    return mentions[i + 1].start if i + 1 < len(mentions) else 1 << 30


def _run_to_verb(
    text: str, folded: str, start: int, limit: int, verb: re.Pattern[str], need_name: bool
) -> int | None:
    """End of the words from `start` up to the next duty verb, when they may close a name."""
    found = verb.search(folded, start, min(len(folded), start + 80))
    if not found or found.start() > limit or found.start() == start:
        return None
    run = folded[start : found.start()]
    words = run.split()
    if not words or len(words) > _MAX_RUN or _PUNCT.search(run) or _PREDICATE.search(run):
        return None
    if need_name and not (
        any(c.isupper() for c in text[start : found.start()]) or _LOCALITY_END.search(run)
    ):
        return None
    return start + len(run.rstrip())


# "Thành lập Ban Chỉ đạo thực hiện hỗ trợ nhà ở cho người có công với cách mạng, gồm …": a body
# the plan sets up is named in full later ("Ban Chỉ đạo thực hiện … tổ chức kiểm tra …").
_ESTABLISHED = re.compile(r"\bthanh lap\s+(?=(?:ban|to|hoi dong|doan|tieu ban)\s)")
_BODY_END = re.compile(
    r"\s*[,;:.()\n\"“”]|\s+(?:de|gom|do|nham|theo|truc thuoc|tai|co nhiem vu|voi thanh phan|va|tren co so)\b"
)

# A comma inside the name: the words after it go on naming, not a verb or a clause of its own.
_COMMA_GOES_ON = re.compile(
    r",\s*(?!(?:gom|co|do|de|hoan|truoc|trong|thuc|bao|tham|chu|nham|theo|tai|voi|va|duoc|la|lam|giup|sau|khi"
    r"|phoi|to|xay|trien|kiem)\b)(?=[a-z])"
)


def established_bodies(text: str) -> list[str]:
    """Names of the bodies a text sets up ("Thành lập Tổ công tác liên ngành …")."""
    folded = fold(text)
    names = []
    for m in _ESTABLISHED.finditer(folded):
        start = m.end()
        stop = _BODY_END.search(folded, start, start + 160)
        while stop is not None and (after := _COMMA_GOES_ON.match(folded, stop.start())):
            stop = _BODY_END.search(folded, after.end(), start + 160)  # "… nhà tạm, nhà dột nát …"
        if not text[start : start + 1].isupper() or stop is None:
            continue
        name = text[start : stop.start()].strip()
        if 3 <= len(name.split()) <= 16:
            names.append(name)
    return names
