"""Change report when a known plan is indexed again (or a plan replacing an indexed one is
indexed): the duties the stored version has, compared with the new parse (`knowledge.changes`).

`change_summary(store, file, plan)` is called by `indexer.indexing` before a plan is saved or
previewed; its keys are merged into the plan's summary:

- ``changes``: counts (added, removed, changed, renumbered, unchanged), ``items`` and Vietnamese
  ``lines``, ``headline``, and ``against`` (the stored plan compared with: its file, label);
- ``declares``: what the plan says it replaces or amends, with the indexed plan if any.
"""

from __future__ import annotations

import json

from indexer.store import Store, transaction
from knowledge.answer import PlanRef
from knowledge.changes import DutyRow, PlanChanges, diff_rows, headline, plan_rows
from knowledge.deadlines import dated_last_day
from knowledge.errors import PlanbotError
from knowledge.lineage import DocRef, matches, relations
from knowledge.model import Plan
from knowledge.parser import parse_plan
from knowledge.text import fold, nfc


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
    for other in store.db.query("SELECT * FROM plans WHERE number = ?", [plan.meta.number]):
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
        for row in store.db.query("SELECT * FROM plans WHERE number IS NOT NULL AND number != ''"):
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


# -- notices to subscribed chats ---------------------------------------------------------------


def notice_text(summary: dict, lines: list[str], limit: int = 25) -> str:
    """The notice a subscribed chat receives (Telegram HTML)."""
    from html import escape

    changes = summary.get("changes") or {}
    title = summary.get("number") and f"Kế hoạch số {summary['number']}" or (summary.get("title") or "")[:120]
    head = f"📝 <b>{escape(title)}</b> được sửa"
    against = changes.get("against") or {}
    if against.get("reason") == "declared":
        head = f"📝 <b>{escape(title)}</b> thay thế {escape(against.get('plan') or '')}"
    body = [escape(line) for line in lines[:limit]]
    if len(lines) > limit:
        body.append(f"… và {len(lines) - limit} thay đổi khác.")
    return head + ":\n" + "\n".join(body)


def queue_notices(store: Store, file: str, summary: dict, digest: str, now) -> list[int]:
    """Record, in the reminder outbox, one notice per active subscription the changes concern
    (its agency is lead or support of a changed row; its plan, if any, is this one or the one
    replaced). Keyed by chat, plan and content: indexing the same file again queues nothing.
    The bot's reminder run for the chat delivers it. Returns the chats notified."""
    changes = summary.get("changes") or {}
    items = changes.get("items") or []
    if not items:
        return []
    plans = {nfc(file), (changes.get("against") or {}).get("file")}
    chats = []
    with transaction(store.db):
        subs = store.db.execute(
            "SELECT chat_id, agency, plan_file FROM subscriptions WHERE active = 1 ORDER BY chat_id"
        ).fetchall()
        for chat_id, agency, plan_file in subs:
            if plan_file and plan_file not in plans:
                continue
            lines = [i["line"] for i in items if agency is None or agency in i.get("agencies", [])]
            key = f"{chat_id}|change|{nfc(file)}|{digest[:16]}"
            if not lines or store.db.execute("SELECT 1 FROM sent_reminders WHERE key = ?", [key]).fetchone():
                continue
            store.db.execute(
                "INSERT INTO reminder_outbox (chat_id, text, buttons, keys, created_at) VALUES (?, ?, '[]', ?, ?)",
                [chat_id, notice_text(summary, lines), json.dumps([key]), now.isoformat()],
            )
            store.db.execute(
                "INSERT OR IGNORE INTO sent_reminders (key, chat_id, sent_at, message_id) VALUES (?, ?, ?, NULL)",
                [key, chat_id, now.isoformat()],
            )
            chats.append(chat_id)
    return chats


def notify(store: Store, report, digest: str):
    """After a plan is saved: queue its change notices (`report.summary["notified"]`: the chats)."""
    from datetime import UTC, datetime

    changes = report.summary.get("changes") or {}
    reason = (changes.get("against") or {}).get("reason")
    # the same plan edited, or one it declares it replaces; not another copy with the same number
    if report.status == "indexed" and changes.get("items") and reason in ("same_file", "declared"):
        report.summary["notified"] = queue_notices(store, report.file, report.summary, digest, datetime.now(UTC))
    return report
