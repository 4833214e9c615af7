"""Change report when a known plan is indexed again (or a plan replacing an indexed one is
indexed): the duties the stored version has, compared with the new parse (`knowledge.changes`).

`change_summary(store, file, plan)` is called by `indexer.indexing` before a plan is saved or
previewed; its keys are merged into the plan's summary:

- ``changes``: counts (added, removed, changed, renumbered, unchanged), ``items`` and Vietnamese
  ``lines``, ``headline``, and ``against`` (the stored plan compared with: its file, label);
- ``declares``: what the plan says it replaces or amends, with the indexed plan if any.

`change_notice(file, summary, digest)` turns an indexed plan's changes into a `ChangeNotice`
(plain data) the pipeline hands to whoever tells the chats (the reminders' outbox, wired by the
composition root).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from knowledge.changes import DutyRow, PlanChanges, diff_rows, headline, plan_rows
from knowledge.dates.deadlines import dated_last_day
from knowledge.errors import PlanbotError
from knowledge.lineage import DocRef, matches, relations
from knowledge.model import Plan
from knowledge.parsing.parser import parse_plan
from knowledge.questions.answer import PlanRef
from knowledge.text import fold, nfc
from store.database import Store


def stored_rows(store: Store, plan_id: int) -> list[DutyRow]:
    """The duties of an indexed plan, as `knowledge.changes.plan_rows` makes them from a parse."""
    ids = [r[0] for r in store.db.execute("SELECT id FROM items WHERE plan_id = ? ORDER BY id", [plan_id]).fetchall()]
    items = store.items(ids)
    rows = []
    for item_id in ids:
        item = items[item_id]
        deadline = item["deadline"]
        agencies = item["assignments"]
        rows.append(
            DutyRow(
                item["citation"] or "",
                " ".join(item["text"].split()),
                tuple(dict.fromkeys(a["agency"] for a in agencies if a["role"] == "lead")),
                tuple(dict.fromkeys(a["agency"] for a in agencies if a["role"] == "support")),
                deadline.text if deadline else "",
                dated_last_day(deadline),
                item["kind"],
                item["lead_text"] or "",
                item["support_text"] or "",
            )
        )
    return rows


def _ref(row: dict) -> PlanRef:
    return PlanRef(row["id"], row["title"] or "", row["number"] or "", row["issuer"] or "", row["date"], row["file"], row["year"])


def known_plan(store: Store, file: str, plan: Plan) -> dict | None:
    """The indexed version of this plan: stored under the same name, else the indexed plan with
    the same number and issuer (a corrected copy uploaded under another file name)."""
    row = store.plan_row(file)
    if row is not None:
        return row
    if not plan.meta.number or not plan.meta.issuer:
        return None
    for other in store.db.query("SELECT * FROM plans WHERE number = ? ORDER BY id", [plan.meta.number]):
        if same_document(other, plan):
            return other
    return None


def same_document(row: dict, plan: Plan) -> bool:
    """The indexed plan `row` and `plan` are versions of one document: same issuer, and the same
    number, or (both unnumbered) the same title."""
    issuer = fold(plan.meta.issuer or "")
    if not issuer or fold(row.get("issuer") or "") != issuer:
        return False
    number = (plan.meta.number or "").strip()
    if number or (row.get("number") or "").strip():
        return fold(number) == fold(row.get("number") or "")
    title = fold(plan.meta.title or "")
    return bool(title) and fold(row.get("title") or "") == title


def _declared(store: Store, file: str, plan: Plan) -> list[tuple[str, DocRef, dict | None]]:
    """What the plan says it replaces or amends, with the indexed plan of that number, if any."""
    text = "\n".join([plan.meta.title, *(c.text for c in plan.clauses)])
    found = []
    declared = relations(plan.meta.title, title=True) + relations(text)
    for i, (name, ref) in enumerate(declared):
        if (name, ref) in declared[:i]:
            continue
        target = None
        for row in store.db.query("SELECT * FROM plans WHERE number IS NOT NULL AND number != '' ORDER BY id"):
            if row["file"] != nfc(file) and matches(DocRef("", ref.number), DocRef("", row["number"])):
                target = row
                break
        found.append((name, ref, target))
    return found


PLAIN = (".txt", ".md")


def old_rows(store: Store, row: dict, registry) -> list[DutyRow]:
    """The stored version's duties. A plain-text plan is parsed again from its stored text with
    today's parser and agency names, so only what the document says differs from the new parse
    (agency names learned from other plans since do not show as changes); other containers are
    read from the index rows."""
    if row["file"].lower().endswith(PLAIN) and row.get("text"):
        try:
            return plan_rows(parse_plan(row["text"], registry))
        except PlanbotError:
            pass
    return stored_rows(store, row["id"])


def _changes(old: list[DutyRow], plan: Plan, against: dict, reason: str) -> dict:
    changes: PlanChanges = diff_rows(old, plan_rows(plan))
    return {
        **changes.to_dict(),
        "headline": headline(changes),
        "against": {"file": against["file"], "plan": _ref(against).label, "reason": reason},
    }


def change_summary(
    store: Store | None, file: str, plan: Plan, digest: str | None = None, registry=None
) -> dict:
    """Summary keys describing how `plan` (about to be stored under `file`) changes the index.
    A file whose content (`digest`) is the stored one's is only being re-read (a new parser
    version, `--force`): no change report."""
    if store is None:
        return {}
    out: dict = {}
    known = known_plan(store, nfc(file), plan)
    if known is not None and digest is not None and known["content_hash"] == digest:
        return {}
    registry = registry or store.registry()
    declared = _declared(store, file, plan)
    if declared:
        out["declares"] = [
            {"relation": name, "document": ref.label, "indexed": _ref(row).label if row else None,
             "indexed_file": row["file"] if row else None}
            for name, ref, row in declared
        ]
    if known is not None:
        reason = "same_file" if known["file"] == nfc(file) else "same_number"
        out["changes"] = _changes(old_rows(store, known, registry), plan, known, reason)
    else:
        replaced = next((row for _, _, row in declared if row is not None), None)
        if replaced is not None:
            out["changes"] = _changes(old_rows(store, replaced, registry), plan, replaced, "declared")
    return out


def declared_lines(summary: dict) -> list[str]:
    """ "Văn bản này thay thế Kế hoạch số 076/KH-UBND (đã nạp: …)" per declared relation."""
    lines = []
    for d in summary.get("declares") or []:
        tail = f" (đã nạp: {d['indexed']})" if d.get("indexed") else " (chưa nạp)"
        lines.append(f"Văn bản này {d['relation']} {d['document']}{tail}.")
    return lines


def report_lines(summary: dict) -> list[str]:
    """The change report as plain lines (CLI), empty when there is nothing to say."""
    lines = declared_lines(summary)
    changes = summary.get("changes")
    if changes:
        against = changes.get("against") or {}
        versus = "bản đã nạp" if against.get("reason") == "same_file" else f"{against.get('plan')} ({against.get('file')})"
        lines.append(f"Thay đổi so với {versus}: {changes['headline']}")
        lines += ["  " + line for line in changes.get("lines", [])]
    return lines


def changes_json(summary: dict) -> str:
    return json.dumps({k: summary[k] for k in ("changes", "declares") if k in summary}, ensure_ascii=False)


# -- notices to the chats that follow a plan ---------------------------------------------------


@dataclass(frozen=True)
class ChangeNotice:
    """What a re-indexed plan changed, for the chats that follow it (plain data: the reminders
    decide who gets it and render it)."""

    file: str  # the plan's name (NFC)
    digest: str  # its content: one notice per chat and content
    title: str  # "Kế hoạch số 12/KH-UBND", else the plan's title
    replaces: str | None  # the indexed plan it declares it replaces (label), if it declares so
    plans: frozenset[str]  # a chat following one plan hears of this if it follows one of these
    changes: tuple[tuple[str, tuple[str, ...]], ...]  # (line, agencies it concerns) per changed row


def change_notice(file: str, summary: dict, digest: str) -> ChangeNotice | None:
    """The notice of an indexed plan's changes: the same plan edited, or one it declares it
    replaces; none for another copy with the same number, or when no duty changed."""
    changes = summary.get("changes") or {}
    against = changes.get("against") or {}
    reason = against.get("reason")
    items = changes.get("items") or []
    if not items or reason not in ("same_file", "declared"):
        return None
    title = summary.get("number") and f"Kế hoạch số {summary['number']}" or (summary.get("title") or "")[:120]
    return ChangeNotice(
        file=nfc(file),
        digest=digest,
        title=title,
        replaces=(against.get("plan") or "") if reason == "declared" else None,
        plans=frozenset(f for f in (nfc(file), against.get("file")) if f),
        changes=tuple((i["line"], tuple(i.get("agencies", []))) for i in items),
    )
