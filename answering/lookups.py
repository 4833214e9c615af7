"""Structured lookups behind `KnowledgeBase`: items as `Result`s (with the names the documents
write), an agency's duties, tasks, what falls due, and reporting rules. Read in SQL, inside the
answer's pinned snapshot (`answering.snapshot.consistent`)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from answering.snapshot import consistent
from knowledge.dates import windows
from knowledge.dates.deadlines import dated_last_day, ends_within
from knowledge.model import Deadline
from knowledge.orgs.agencies import QueryMatch
from knowledge.questions.answer import Result
from knowledge.text import clean_spaces, fold, words
from store import dialect

if TYPE_CHECKING:
    from answering.focus import Focus


ROLE_ORDER = {"lead": 0, "support": 1, "recipient": 2}


class LookupsMixin:
    """`KnowledgeBase`'s structured queries (needs its `store`, `registry` and `plan_refs`)."""

    # -- building results -------------------------------------------------------------------
    def _results(self, scored: list[tuple[int, float]], agency: str | None = None) -> list[Result]:
        rows = self.store.items([i for i, _ in scored])
        out = []
        for item_id, score in scored:
            row = rows.get(item_id)
            if row is None:
                continue
            out.append(self._result(row, score, agency, _written_names(row)))
        return out

    def _result(self, row: dict, score: float, agency: str | None = None, written=None) -> Result:
        assignments = row["assignments"]
        role = None
        if agency:
            roles = [a["role"] for a in assignments if a["agency"] == agency]
            role = min(roles, key=lambda r: ROLE_ORDER[r]) if roles else None
        names = written if written is not None else [(a["role"], a["agency"]) for a in assignments]

        def of(kind: str) -> list[str]:
            return list(dict.fromkeys(n for r, n in names if r == kind))

        return Result(
            plan=self.plan_refs[row["plan_id"]],
            kind=row["kind"],
            section=row["citation"],
            text=row["text"],
            lead=of("lead"),
            support=of("support"),
            recipients=of("recipient"),
            deadline=row["deadline"],
            score=score,
            item_id=row["id"],
            note=row["note"] or "",
            role=role,
            heading=row.get("heading") or "",
        )

    @consistent
    def item(self, item_id: int) -> Result | None:
        rows = self.store.items([item_id])
        return self._result(rows[item_id], 0.0) if item_id in rows else None

    # -- structured queries -----------------------------------------------------------------
    @consistent
    def resolve_agency(self, text: str) -> list[QueryMatch]:
        return self.registry.match_query(text)

    @consistent
    def duties(self, agency: str, role: str | None = None, plan_first: int | None = None) -> list[Result]:
        """Every assignment of `agency` (canonical name), grouped by plan, lead before support."""
        ids = self.store.assignment_item_ids(agency, role)
        results = self._results([(i, 1.0) for i in dict.fromkeys(i for i, _ in ids)], agency)
        results.sort(  # the plan asked about, else the newest plans first
            key=lambda r: (
                0 if r.plan.id == plan_first else 1,
                -(r.plan.year or int((r.plan.date or "0")[:4] or 0)),
                r.plan.id,
                ROLE_ORDER.get(r.role or "", 3),
                0 if r.kind == "clause" else 1,
                r.item_id or 0,
            )
        )
        return results

    @consistent
    def duties_listed(
        self, agencies: list[str], plan_first: int | None = None, plans: frozenset[int] | None = None
    ) -> tuple[list[Result], list[int]]:
        """`duties()` of each spelling in turn, merged as `answering.merge` does (an item, or a
        text already listed, once): the Results of the kept items in `plans` (all when None), and
        the ids of all kept. Sorted and de-duplicated on light rows (id, plan, kind, text, role),
        so an agency with 1,300 duties at 1,000 plans builds Results only for those listed."""
        seen: set[int] = set()
        seen_text: set[str] = set()
        kept: list[tuple[int, int, str]] = []  # (item id, plan id, the spelling it was listed under)
        for agency in agencies:
            rows = self.store.duty_rows(agency)
            rows.sort(
                key=lambda r: (
                    0 if r[1] == plan_first else 1,
                    -(self.plan_refs[r[1]].year or int((self.plan_refs[r[1]].date or "0")[:4] or 0)),
                    r[1],
                    3 if r[4] is None else r[4],
                    0 if r[2] == "clause" else 1,
                    r[0],
                )
            )
            for item_id, plan_id, _kind, text, _role in rows:
                key = " ".join(text.split())[:200]
                if item_id in seen or key in seen_text:
                    continue
                seen.add(item_id)
                seen_text.add(key)
                kept.append((item_id, plan_id, agency))
        wanted = [(i, a) for i, p, a in kept if not plans or p in plans]
        built: dict[int, Result] = {}
        for agency in dict.fromkeys(a for _, a in wanted):
            for r in self._results([(i, 1.0) for i, a in wanted if a == agency], agency):
                built[r.item_id] = r
        return [built[i] for i, _ in wanted if i in built], [i for i, _, _ in kept]

    @consistent
    def tasks(
        self,
        agency: str | None = None,
        role: str | None = None,
        due_before: date | None = None,
        due_after: date | None = None,
        plan_id: int | None = None,
    ) -> list[Result]:
        """Structured query of assignments (the `planbot tasks` command)."""
        if agency:
            matches = self.registry.match_query(agency)
            name = matches[0].name if matches else clean_spaces(agency)
            results = self.duties(name, role)
        else:
            ids = [
                r[0]
                for r in self.store.db.execute(
                    "SELECT DISTINCT item_id FROM assignments" + (" WHERE role = ?" if role else ""),
                    [role] if role else [],
                ).fetchall()
            ]
            ids = sorted(set(ids) | (set(self.store.dated_item_ids()) if not role else set()))
            results = self._results([(i, 1.0) for i in ids])
        if plan_id is not None:
            results = [r for r in results if r.plan.id == plan_id]
        if due_before is not None:
            results = [r for r in results if ends_within(r.deadline, None, due_before)]
        if due_after is not None:
            results = [
                r
                for r in results
                if r.deadline and (r.deadline.end or r.deadline.start) and (r.deadline.end or r.deadline.start) >= due_after
            ]
        return results

    def due_between(
        self,
        start: date | None,
        end: date | None,
        contained: bool = False,
        agency: str | None = None,
        plan_first: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Result]:
        """Items with a dated deadline ending in [start, end] (or lying inside it when `contained`)."""
        return self._due(start, end, contained, agency, plan_first, descending, limit)[0]

    @consistent
    def _due(self, start, end, contained=False, agency=None, plan_first=None, descending=False, limit=None):
        ids, total = self.store.due_item_ids(
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            contained,
            agency,
            plan_first,
            descending,
            limit,
        )
        return self._results([(i, 1.0) for i in ids]), total

    @consistent
    def reporting(self, agencies: list[str] | None = None, plan_id: int | None = None) -> list[Result]:
        """Periodic reporting rules as results (who reports = lead, to whom = recipients)."""
        rows = self.store.reporting_rules(agencies, plan_id)
        return self._rule_results(rows)

    def _rule_results(self, rows: list[dict], written: bool = False) -> list[Result]:
        """Rules as results; `written`: agencies as the item writes them (answers), else the
        registry's names (listings)."""
        items = self.store.items([r["item_id"] for r in rows if r["item_id"]])
        out = []
        for rule in rows:
            item = items.get(rule["item_id"])
            names = {}  # canonical name → as the item writes it ("UBND cấp xã" → "Ủy ban nhân dân các xã, phường")
            for a in item["assignments"] if item and written else []:
                shown = clean_spaces(a["agency_raw"] or "")
                if shown:
                    names.setdefault(a["agency"], shown[:1].upper() + shown[1:])
            out.append(
                Result(
                    plan=self.plan_refs[rule["plan_id"]],
                    kind="reporting",
                    section=rule["section"],
                    text=rule["text"],
                    lead=list(dict.fromkeys(names.get(n, n) for n in rule["reporters"])),
                    recipients=list(dict.fromkeys(names.get(n, n) for n in rule["recipients"])),
                    deadline=item["deadline"] if item else None,
                    score=1.0,
                    item_id=rule["item_id"],
                    note=f"due_day={rule['due_day']}" if rule["due_day"] else "",
                )
            )
        return out

    @staticmethod
    def falls_due(deadline, period) -> bool:
        """A dated deadline whose last day lies in the period ("Trước 01/7/2025" ends 30/6/2025)."""
        end = dated_last_day(deadline)
        if end is None:
            return False
        return (period.end is None or end <= period.end) and (period.start is None or end >= period.start)

    @consistent
    def due_in(
        self,
        start: date | None,
        end: date | None,
        agency: str | None = None,
        plans: frozenset[int] | None = None,
        latest_first: bool = False,
        limit: int | None = None,
    ) -> list[Result]:
        """Items whose dated deadline's last day lies in [start, end] ("Trước 01/7/2025" is due in
        June); asked about one day, the items due on it or "trước" it. Task rows first, then by
        date; `plans` keeps to those plans."""
        ids, _ = self.due_ids(start, end, agency, plans, latest_first, limit)
        return self._results([(i, 1.0) for i in ids], agency)

    def due_ids(self, start, end, agency=None, plans=None, latest_first=False, limit=None) -> tuple[list[int], int]:
        """(item ids, how many in all) for `due_in`, selected and ordered in SQL."""
        last_day = dialect.last_day(self.store.db)
        where = ["d.kind IN ('date', 'month', 'quarter', 'year', 'range')", "d.end IS NOT NULL"]
        params: list = []
        if start is not None and start == end:
            where.append(f"({last_day} = ? OR d.end = ?)")
            params += [start.isoformat(), start.isoformat()]
        else:
            if start is not None:
                where.append(f"{last_day} >= ?")
                params.append(start.isoformat())
            if end is not None:
                where.append(f"{last_day} <= ?")
                params.append(end.isoformat())
        _scope(where, params, agency, plans)
        base = f"FROM items i JOIN deadlines d ON d.id = i.deadline_id WHERE {' AND '.join(where)}"
        total = int(self.store.db.execute(f"SELECT count(*) {base}", params).fetchone()[0])
        order = f"(i.kind = 'task') DESC, {last_day} {'DESC' if latest_first else 'ASC'}, i.id"
        sql = f"SELECT i.id {base} ORDER BY {order}" + (" LIMIT ?" if limit else "")
        rows = self.store.db.execute(sql, [*params, *([limit] if limit else [])]).fetchall()
        return [r[0] for r in rows], total

    def window_ids(self, period, agency=None, plans=None, latest_first=False) -> tuple[list[int], dict[int, int]]:
        """Items a time window takes in (`knowledge.dates.windows.match`, from the deadline fields): the
        deadline spanning the window itself first, then those due in it, recurring dates in it,
        and (asked what runs then) spans overlapping it; task rows first, then by date. Returns
        (ids, how each matched)."""
        found = self.window_rows(period, agency, plans, latest_first)
        return [f[-1] for f in found], {f[-1]: f[0] for f in found}

    def window_rows(self, period, agency=None, plans=None, latest_first=False) -> list[tuple[int, bool, int, int, int]]:
        """`window_ids` as sorted rows (how, not a task, day, plan id, item id)."""
        # Only the kinds `windows.match` can take in for this window, read in SQL (at 1,000 plans
        # the recurring rows alone are thousands): a recurrence naming its months, for a window of
        # months or a "trong …" window with both ends; an open start for "what runs then".
        kinds = ["date", "month", "quarter", "year", "range"]
        if period.months or (period.mode == "within" and period.start is not None and period.end is not None):
            kinds.append("recurring")
        if not period.finish and period.mode == "within":
            kinds.append("from")
        where = [f"d.kind IN ({', '.join(repr(k) for k in kinds)})", "(d.kind != 'recurring' OR d.recurrence LIKE '%BYMONTH=%')"]
        params: list = []
        if not period.months and period.start is not None:
            where.append("(d.end IS NULL OR d.end >= ? OR d.kind = 'recurring')")
            params.append(period.start.isoformat())
        if not period.months and period.end is not None:
            where.append("(d.start IS NULL OR d.start <= ? OR d.kind = 'recurring')")
            params.append(period.end.isoformat())
        if period.finish and not period.months:  # what must be finished then: a last day in the window (a day's slack for "trước")
            if period.start is not None:
                where.append("(d.kind = 'recurring' OR d.end >= ?)")
                params.append(period.start.isoformat())
            if period.end is not None:
                where.append("(d.kind = 'recurring' OR d.end <= ?)")
                params.append((period.end + timedelta(days=1)).isoformat())
        _scope(where, params, agency, plans)
        sql = (
            "SELECT i.id, i.kind, d.text, d.kind, d.start, d.end, d.recurrence, d.before, p.year, p.valid_until, i.plan_id "
            f"FROM items i JOIN deadlines d ON d.id = i.deadline_id JOIN plans p ON p.id = i.plan_id WHERE {' AND '.join(where)}"
        )
        found = []
        for item_id, item_kind, text, kind, start, end, recurrence, before, year, until, plan_id in self.store.db.execute(sql, params):
            first, last = date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None
            if kind == "recurring" and first is None and last is None and year:
                # a report "hằng quý" recurs over the years the plan covers, not for ever
                first = date(int(year), 1, 1)
                last = date(max(int(year), int(until)), 12, 31) if until else None
            deadline = Deadline(text, kind, first, last, recurrence, bool(before))
            how = windows.match(deadline, period)
            if how is not None:
                day = dated_last_day(deadline) or deadline.start or date.max
                found.append((how, item_kind != "task", -day.toordinal() if latest_first else day.toordinal(), plan_id, item_id))
        found.sort()
        return found

    def plan_has_term(self, plan_id: int, term: str) -> bool:
        """Some item of the plan holds this lexical term (a folded syllable or pair)."""
        return self.store.plan_has_term(plan_id, term)

    @consistent
    def stating(self, plan_id: int, text: str) -> Result | None:
        """The item of the plan whose own text holds `text` (a deadline its items inherit: the
        sentence that states it), if one does."""
        row = self.store.db.execute(
            f"SELECT id FROM items WHERE plan_id = ? AND {dialect.position(self.store.db)}(text, ?) > 0 ORDER BY ordinal LIMIT 1",
            [plan_id, text],
        ).fetchone()
        found = self._results([(row[0], 0.0)]) if row else []
        return found[0] if found else None

    def reporting_ranked(self, q: str, intent, matches: list[QueryMatch], focus: Focus) -> list[Result]:
        """Reporting rules, best first: the named plan's, the asked sender's / receiver's, a due day."""
        agencies = [m.name for m in matches]
        rows = self.store.reporting_rules(agencies or None, plan_first=min(focus.plans) if focus.plans else None, limit=300)
        if not rows and agencies:
            rows = self.store.reporting_rules(None, plan_first=min(focus.plans) if focus.plans else None, limit=300)
        folded = fold(q)
        receivers = {m.name for m in matches if re.search(r"\b(cho|ve|toi|len)\s+" + re.escape(m.matched), folded)}
        senders = set(agencies) - receivers

        def key(rule: dict) -> tuple:
            fit = bool(senders & set(rule["reporters"])) + bool(receivers & set(rule["recipients"]))
            return (rule["plan_id"] not in focus.plans, -fit, not (intent.asks_day and rule["due_day"]), rule["plan_id"], rule["id"])

        rows.sort(key=key)
        return self._rule_results(rows[:50], written=True)


def _written_names(row: dict) -> list[tuple[str, str]]:
    """(role, name as the document writes it) of an item's assignments: answers show the
    document's own names ("UBND cấp xã", "Các sở, ban, ngành, đoàn thể"), not the registry's
    group name."""
    out = []
    for a in row["assignments"]:
        shown = clean_spaces(a["agency_raw"] or "") or a["agency"]
        out.append((a["role"], shown[:1].upper() + shown[1:]))
    return out


def _scope(where: list[str], params: list, agency: str | None, plans) -> None:
    """Keep a dated-items query to an agency's own items (lead or support) and to these plans."""
    if agency:
        where.append("i.id IN (SELECT item_id FROM assignments WHERE agency_key = ? AND role IN ('lead', 'support'))")
        params.append(" ".join(words(agency)))
    if plans:
        where.append(f"i.plan_id IN ({','.join('?' * len(plans))})")
        params += sorted(plans)
