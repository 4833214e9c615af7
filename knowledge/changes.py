"""What changed between two versions of a plan: duties added, removed and changed (lead,
support, deadline, text), matched row to row even when the numbering shifts.

Pure. A duty is a row of a task table or a prose clause that assigns an agency or sets a
deadline (`DutyRow`); the stored index yields the same rows (`indexer.changes`), so an
indexed plan can be compared with a new parse of its file. Rows are paired by identical
text first, then by text similarity (rapidfuzz), the same citation breaking ties; a pair
whose citation differs was renumbered, which alone is no change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from knowledge.dates.deadlines import dated_last_day
from knowledge.model import Plan
from knowledge.text import clean_spaces, fold

SIMILAR = 72  # token-sort similarity (0-100) above which two rows are one duty rewritten
FIELDS = ("lead", "support", "deadline", "text")


@dataclass(frozen=True)
class DutyRow:
    """A task-table row or a clause. What the document says (text, the lead/support cells and
    the deadline as written) is compared; the agencies we recognised in it are only shown, so a
    parser that learned new agency names since the last indexing reports no change."""

    citation: str
    text: str
    lead: tuple[str, ...] = ()  # recognised agencies (shown)
    support: tuple[str, ...] = ()
    deadline: str = ""  # as written
    due: date | None = None
    kind: str = "task"  # "task" | "clause"
    lead_text: str = ""  # a task row's cells as written (compared)
    support_text: str = ""

    @property
    def duty(self) -> bool:
        """A row to report on: a task row, or a clause assigning someone or setting a deadline."""
        return self.kind == "task" or bool(self.lead or self.support or self.deadline)

    @property
    def key(self) -> str:
        return " ".join(fold(self.text).split())

    def to_dict(self) -> dict:
        return {
            "citation": self.citation,
            "text": self.text,
            "lead": list(self.lead),
            "support": list(self.support),
            "deadline": self.deadline,
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class Change:
    kind: str  # "added" | "removed" | "changed" | "renumbered"
    old: DutyRow | None = None
    new: DutyRow | None = None
    fields: list[str] = field(default_factory=list)  # of FIELDS, for "changed"

    @property
    def row(self) -> DutyRow:
        row = self.new or self.old
        assert row is not None
        return row

    def to_dict(self) -> dict:
        out: dict = {"kind": self.kind, "citation": self.row.citation, "text": self.row.text}
        if self.old and self.new and self.old.citation != self.new.citation:
            out["old_citation"] = self.old.citation
        for name in self.fields:
            before, after = getattr(self.old, name), getattr(self.new, name)
            out[name] = {"before": list(before) if isinstance(before, tuple) else before,
                         "after": list(after) if isinstance(after, tuple) else after}
        if self.kind in ("added", "removed"):
            out.update({k: v for k, v in self.row.to_dict().items() if k not in ("citation", "text")})
        rows = [r for r in (self.old, self.new) if r is not None]
        out["agencies"] = sorted({a for r in rows for a in (*r.lead, *r.support)})
        out["line"] = change_line(self)
        return out


@dataclass
class PlanChanges:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def empty(self) -> bool:
        return not any(c.kind in ("added", "removed", "changed") for c in self.changes)

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ("added", "removed", "changed", "renumbered")} | {
            "unchanged": self.unchanged
        }

    def to_dict(self) -> dict:
        return {
            **self.counts(),
            "items": [c.to_dict() for c in self.changes if c.kind != "renumbered"],
            "lines": change_lines(self),
        }


def _names(agencies: Iterable) -> tuple[str, ...]:
    return tuple(dict.fromkeys(getattr(a, "name", a) for a in agencies))


def plan_rows(plan: Plan) -> list[DutyRow]:
    """Every task-table row and every clause of the plan."""
    rows = [
        DutyRow(
            t.citation, clean_spaces(t.text), _names(t.lead), _names(t.support),
            t.deadline.text if t.deadline else "", dated_last_day(t.deadline), "task", t.lead_text, t.support_text,
        )
        for t in plan.tasks
    ]
    for c in plan.clauses:
        lead = _names(a.agency for a in c.assignments if a.role == "lead")
        support = _names(a.agency for a in c.assignments if a.role == "support")
        rows.append(DutyRow(c.citation, clean_spaces(c.text), lead, support,
                            c.deadline.text if c.deadline else "", dated_last_day(c.deadline), "clause"))
    return rows


def _same(a: str, b: str) -> bool:
    return " ".join(fold(a).split()) == " ".join(fold(b).split())


def _compare(old: DutyRow, new: DutyRow) -> Change:
    """A task row: its text and cells as written. A clause: its text; when the text changed,
    what changed in it (agencies, deadline) is named."""
    fields = []
    if old.kind == "task":
        if not _same(old.lead_text, new.lead_text):
            fields.append("lead")
        if not _same(old.support_text, new.support_text):
            fields.append("support")
        if not _same(old.deadline, new.deadline):
            fields.append("deadline")
        if old.key != new.key:
            fields.append("text")
    elif old.key != new.key:
        fields = [f for f, a, b in (("lead", set(old.lead), set(new.lead)), ("support", set(old.support), set(new.support)))
                  if a != b]
        fields += ["deadline"] if not _same(old.deadline, new.deadline) else []
        fields.append("text")
    if fields:
        return Change("changed", old, new, fields)
    return Change("renumbered" if old.citation != new.citation else "same", old, new)


def pair_rows(old: list[DutyRow], new: list[DutyRow]) -> list[tuple[int | None, int | None]]:
    """Pairs (old index, new index); None on one side for a removed or an added row."""
    pairs: list[tuple[int | None, int | None]] = []
    free_old, free_new = set(range(len(old))), set(range(len(new)))
    by_key: dict[str, list[int]] = {}
    for j in range(len(new)):
        by_key.setdefault(new[j].key, []).append(j)
    for i in range(len(old)):  # identical text: same duty (the same citation first)
        candidates = [j for j in by_key.get(old[i].key, []) if j in free_new]
        if candidates:
            j = next((j for j in candidates if new[j].citation == old[i].citation), candidates[0])
            pairs.append((i, j))
            free_old.discard(i)
            free_new.discard(j)
    rest_old, rest_new = sorted(free_old), sorted(free_new)
    if rest_old and rest_new:
        scores = cdist([old[i].key for i in rest_old], [new[j].key for j in rest_new], scorer=fuzz.token_sort_ratio)
        ranked = sorted(
            ((float(scores[a][b]) + (5 if old[i].citation == new[j].citation else 0), i, j)
             for a, i in enumerate(rest_old) for b, j in enumerate(rest_new) if scores[a][b] >= SIMILAR),
            reverse=True,
        )
        for _, i, j in ranked:
            if i in free_old and j in free_new:
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)
    pairs += [(i, None) for i in sorted(free_old)] + [(None, j) for j in sorted(free_new)]
    return pairs


def diff_rows(old: list[DutyRow], new: list[DutyRow]) -> PlanChanges:
    """Changes among duties (rows that are duties in either version); other prose is ignored."""
    result = PlanChanges()
    for kind in ("task", "clause"):
        olds, news = [r for r in old if r.kind == kind], [r for r in new if r.kind == kind]
        for i, j in pair_rows(olds, news):
            if i is None:
                if news[j].duty:  # type: ignore[index]
                    result.changes.append(Change("added", None, news[j]))  # type: ignore[index]
            elif j is None:
                if olds[i].duty:
                    result.changes.append(Change("removed", olds[i], None))
            elif olds[i].duty or news[j].duty:
                change = _compare(olds[i], news[j])
                if change.kind == "same":
                    result.unchanged += 1
                else:
                    result.changes.append(change)
    order = {"changed": 0, "added": 1, "removed": 2, "renumbered": 3}
    result.changes.sort(key=lambda c: order[c.kind])
    return result


def diff_plans(old: Plan, new: Plan) -> PlanChanges:
    """What changed from `old` to `new` (two parses of a plan)."""
    return diff_rows(plan_rows(old), plan_rows(new))


# -- wording -------------------------------------------------------------------------------------


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _agencies(names: tuple[str, ...], written: str = "") -> str:
    return ", ".join(names) or clean_spaces(written) or "(không nêu)"


def _deadline(row: DutyRow) -> str:
    if not row.deadline:
        return "không nêu"
    return row.due.strftime("%d/%m/%Y") if row.due else row.deadline


def change_line(change: Change) -> str:
    """One change in Vietnamese: "[Phụ lục, TT 6] …: hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)"."""
    row = change.row
    where = f"[{row.citation}]"
    if change.kind == "added":
        tail = f" — chủ trì: {_agencies(row.lead, row.lead_text)}" if row.lead or row.lead_text else ""
        return f"➕ Thêm {where} {_short(row.text)}{tail}; hạn: {row.deadline or 'không nêu'}"
    if change.kind == "removed":
        return f"➖ Bỏ {where} {_short(row.text)}"
    if change.kind == "renumbered":
        return f"↕️ {where} (trước là [{change.old.citation}]) {_short(row.text, 60)}"  # type: ignore[union-attr]
    old, new = change.old, change.new
    assert old is not None and new is not None
    parts = []
    if "deadline" in change.fields:
        parts.append(f"hạn cuối mới {_deadline(new)} (trước đây: {_deadline(old)})")
    if "lead" in change.fields:
        parts.append(f"chủ trì mới: {_agencies(new.lead, new.lead_text)} (trước đây: {_agencies(old.lead, old.lead_text)})")
    if "support" in change.fields:
        added = [a for a in new.support if a not in old.support]
        dropped = [a for a in old.support if a not in new.support]
        bits = ([f"thêm {', '.join(added)}"] if added else []) + ([f"bớt {', '.join(dropped)}"] if dropped else [])
        if not bits:  # same agencies recognised, written differently
            bits = [f"nay ghi “{_short(clean_spaces(new.support_text), 80)}”"]
        parts.append("phối hợp " + "; ".join(bits))
    if "text" in change.fields:
        parts.append("nội dung được sửa")
    moved = f" (trước là [{old.citation}])" if old.citation != new.citation else ""
    return f"✏️ {where}{moved} {_short(new.text, 60)}: " + "; ".join(parts)


def change_lines(changes: PlanChanges, limit: int = 30) -> list[str]:
    shown = [c for c in changes.changes if c.kind != "renumbered"]
    lines = [change_line(c) for c in shown[:limit]]
    if len(shown) > limit:
        lines.append(f"… và {len(shown) - limit} thay đổi khác.")
    return lines


def headline(changes: PlanChanges) -> str:
    """ "3 thêm, 1 bỏ, 2 sửa (15 không đổi)" or "không có thay đổi về nhiệm vụ"."""
    counts = changes.counts()
    if changes.empty:
        return "không có thay đổi về nhiệm vụ" + (f" ({counts['renumbered']} mục đánh số lại)" if counts["renumbered"] else "")
    text = f"{counts['added']} thêm, {counts['removed']} bỏ, {counts['changed']} sửa ({counts['unchanged']} không đổi"
    if counts["renumbered"]:
        text += f", {counts['renumbered']} đánh số lại"
    return text + ")"
