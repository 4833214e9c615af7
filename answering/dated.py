"""What falls due in a time window, and the reporting rules: the two answering paths that read
the plans' dates (`knowledge.dates.windows`) and reporting rules, fused with plain search as
`answering.paths` does for the others."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from answering import checks
from answering.duties import APPENDIX
from answering.paths import (
    MIN_RELEVANT,
    NOT_IN_PLANS,
    _brevity,
    confident,
    coverage,
    decline,
    fact_first,
    lacks_asked_fact,
    merge,
    own_deadlines,
    search_hits,
)
from knowledge.dates import windows
from knowledge.orgs import names
from knowledge.questions.answer import Answer, Result, render_text, report_header
from knowledge.text import fold, squash

if TYPE_CHECKING:
    from answering.focus import Focus
    from answering.knowledge_base import KnowledgeBase


_THIS_PLAN = re.compile(
    r"\b(phu luc|ke hoach nay|chuong trinh nay|quyet dinh nay|de an nay|van ban nay|nghi quyet nay)\b"
)


def answer_due(kb: KnowledgeBase, q: str, intent, agency, focus: Focus, limit: int) -> Answer:
    """What falls due in a window (`knowledge.dates.windows`): in the plan named, or the one a question
    saying "trong Phụ lục" / "kế hoạch này" points at; else in every plan."""
    period = intent.period
    span = (period.start, period.end)
    latest_first = period.mode in ("before", "overdue")
    rows = kb.window_rows(period, agency, None, latest_first)  # one read; plans are chosen on it
    if agency and not rows:
        agency = None  # the agency has nothing due then: what is due for everyone
        rows = kb.window_rows(period, None, None, latest_first)
    evidence = search_hits(kb, q, intent, focus, agency, dense=False)
    if APPENDIX.search(fold(q)) and any(not row[1] for row in rows):
        rows = [
            row for row in rows if not row[1]
        ]  # "trong Phụ lục": the rows of the plans' task tables
    with_items = {row[3] for row in rows}
    plans = focus.plans if focus.plans and (focus.only or focus.named or focus.plans & with_items) else None
    if plans is None and _THIS_PLAN.search(fold(q)):
        # the plan the question's words point at, among those with items then
        plans = next(
            (frozenset({r.plan.id}) for r in evidence[:10] if r.plan.id in with_items), None
        )
    ids = [row[-1] for row in rows if not plans or row[3] in plans]
    how = {row[-1]: row[0] for row in rows if not plans or row[3] in plans}
    found = kb._results([(i, 1.0) for i in ids[:200]], agency)
    total = len(ids)
    # What the question's own words point at first (when they point at something and is due
    # then), then the window's items: the window itself, due in it, recurring, running then.
    relevant = [
        r
        for r in evidence[:10]
        if coverage(kb, q, r) >= MIN_RELEVANT
        and windows.match(r.deadline, period) is not None
        and (not plans or r.plan.id in plans)
        and (not agency or checks.names_agency(agency, r))  # "Bộ X phải xong …": its items only
    ]
    total += sum(1 for r in relevant if r.item_id not in how)
    found = merge(relevant, found)
    what = {
        "before": "phải xong trước",
        "within": "đến hạn trong",
        "after": "đến hạn từ",
        "overdue": "đã quá hạn",
    }[period.mode]
    if period.mode == "within" and not period.finish:
        what = "thực hiện trong"
    label = "" if period.mode == "overdue" else f" {period.text}"
    if not found:
        reason = f"{NOT_IN_PLANS}: không có nhiệm vụ nào {what}{label}" + (
            " trong kế hoạch này" if plans else ""
        )
        return decline(
            q, intent.name, agency, reason, [r for r in evidence if not plans or r.plan.id in plans]
        )
    shown = found[: max(limit, 1)]
    header = f"Có {total} nhiệm vụ {what}{label}:"
    footer = f"(Còn {total - len(shown)} nhiệm vụ nữa.)" if total > len(shown) else ""
    text = render_text(header, shown, footer=footer)
    return Answer(
        q, intent.name, agency, True, text, merge(found, evidence), period=span, shown=len(shown)
    )


def answer_reporting(
    kb: KnowledgeBase, q: str, intent, matches, focus: Focus, limit: int
) -> Answer | None:
    names_ = [m.name for m in matches]
    rules = kb.reporting_ranked(q, intent, matches, focus)
    if focus.plans:
        rules = [r for r in rules if r.plan.id in focus.plans]
    rules = [r for r in rules if not checks.other_province(kb, q, r)]
    evidence = search_hits(kb, q, intent, focus, names_[0] if names_ else None)
    if not rules and not intent.asks_day:
        # no rule read: the clauses on reporting that set a time ("báo cáo … trước ngày 15/12")
        clauses = [
            r for r in evidence[:8] if _REPORTS.search(fold(r.text)) and r.deadline is not None
        ]
        if not clauses or not confident(kb, q, clauses[0], focus):
            return None
        ordered = merge(clauses, evidence)
        return _reporting_answer(q, intent, names_[0] if names_ else None, ordered)
    agency = names_[0] if names_ else None
    if checks.asked_kind(q):  # an e-mail, a phone number, an amount: only a text giving one answers
        pool = checks.kind_first(q, merge(rules[:5], evidence[:5]), within=10)
        if not pool or checks.lacks_kind(q, pool[0]):
            return decline(q, intent.name, agency, NOT_IN_PLANS, pool)
    # A rule the question's own words match well (in it or in its plan's title) goes first;
    # search hits fill in after.
    rules.sort(key=lambda r: -_rule_fit(kb, q, r) * _brevity(r.text))
    if intent.asks_day:  # "trước ngày nào", "ngày mấy": only a result that gives the day answers
        pool = merge(rules[:3], evidence[:3])
        pool = fact_first(
            kb, q, [r for r in pool if r.plan.id in focus.plans] if focus.named else pool, within=6
        )
        if not pool or lacks_asked_fact(kb, q, pool[0]) and not pool[0].note.startswith("due_day"):
            return decline(
                q,
                intent.name,
                agency,
                "Kế hoạch không quy định ngày cụ thể phải gửi báo cáo",
                rules + evidence,
            )
        ordered = own_deadlines(merge(pool, rules[:limit] + evidence))
        return _reporting_answer(q, intent, agency, ordered)
    if not rules:
        return None
    best_rule, best_hit = (
        coverage(kb, q, rules[0]),
        (coverage(kb, q, evidence[0]) if evidence else 0.0),
    )
    if _other_sender(
        q, matches, rules[0]
    ):  # "UBND Thành phố báo cáo …": a rule for those reporting to it does not answer
        best_rule -= 0.3
        rules = [r for r in rules if not _other_sender(q, matches, r)] + [
            r for r in rules if _other_sender(q, matches, r)
        ]
    ordered = (
        merge(rules[:limit], evidence)
        if best_rule + 0.15 >= best_hit
        else merge(evidence[:3], rules[:limit] + evidence)
    )
    ordered = own_deadlines(fact_first(kb, q, checks.cycle_first(q, ordered), within=8))
    return _reporting_answer(q, intent, agency, ordered)


def _reporting_answer(q: str, intent, agency: str | None, ordered: list[Result]) -> Answer:
    """A reporting answer: the reporting line of its first result, then the first five."""
    return Answer(
        q, intent.name, agency, True, render_text(_report_title(ordered[0]), ordered[:5]), ordered, shown=min(5, len(ordered))
    )


_REPORTS = re.compile(r"\bbao cao\b")


def _rule_fit(kb: KnowledgeBase, q: str, rule: Result) -> float:
    """How well the question's words fit a rule, its heading and its plan's title."""
    return coverage(kb, q, replace(rule, heading=f"{rule.heading} {rule.plan.title}"))


def _other_sender(q: str, matches, rule: Result) -> bool:
    """The question names who reports (an agency not after "cho/về/gửi") and the rule's reporters
    are others, while the asked agency only receives it."""
    folded = fold(q)
    senders = [
        m
        for m in matches
        if not re.search(r"\b(cho|ve|toi|len|gui)\s+" + re.escape(m.matched), folded)
    ]
    if not senders or not rule.lead:
        return False
    keys = [
        squash(names.expand_abbreviations(m.name)) for m in senders
    ]  # with its level: "UBND thành phố" is no "UBND quận"
    reporters = " | ".join(squash(names.expand_abbreviations(n)) for n in rule.lead)
    if any(k in reporters for k in keys) or any(
        names.collective_names(m.name, rule.lead) for m in senders
    ):
        return False
    return any(
        k
        in " | ".join(squash(names.expand_abbreviations(n)) for n in [*rule.recipients, rule.text])
        for k in keys
    )


def _report_title(first: Result) -> str:
    """The header of a reporting answer: the first rule in one line, then the rules."""
    line = report_header(first)
    return f"{line}\nQuy định báo cáo:" if line else "Quy định báo cáo định kỳ:"
