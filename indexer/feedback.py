"""Answer feedback for admins: what was asked, what the bot answered, how users voted.

Every answer the bot sends with 👍/👎 is logged durably (`answer_log`, keyed by chat and the
listing key its buttons carry), so a vote is recorded with the question and the answer shown
even after a restart (`record_vote`; `record_unlogged_vote` when only the question is known).
`feedback_report` reads the votes back: counts by intent and by plan,
and the questions voted down with their answers, for the team to turn into test questions.
The schema is the numbered migration `m010_answer_log` in `store.migrations`.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO

import sqlite_utils

from knowledge.questions.answer import Answer
from store.connection import transaction

UP, DOWN = 1, -1
KEEP_DAYS = 180  # answers older than this can no longer be voted on
MAX_ANSWER = 3500
NO_PLAN = "(không dẫn kế hoạch nào)"


def _now(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


def answer_plans(answer: Answer) -> list[str]:
    """The plans an answer cites, in order of first citation."""
    return list(dict.fromkeys(r.plan.label for r in answer.shown_results))


def remember_answer(
    db: sqlite_utils.Database, chat_id: int, key: str, answer: Answer, now: datetime | None = None
) -> None:
    """Log an answer sent with vote buttons (and forget answers older than `KEEP_DAYS`)."""
    moment = now or datetime.now(UTC)
    with transaction(db):
        db.execute(
            """INSERT INTO answer_log (chat_id, key, question, intent, answered, answer, plans, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, key) DO UPDATE SET question = excluded.question, intent = excluded.intent,
                   answered = excluded.answered, answer = excluded.answer, plans = excluded.plans,
                   created_at = excluded.created_at""",
            [
                chat_id,
                key,
                answer.question,
                answer.intent,
                int(answer.answered),
                answer.answer[:MAX_ANSWER],
                json.dumps(answer_plans(answer), ensure_ascii=False),
                _now(moment),
            ],
        )
        db.execute("DELETE FROM answer_log WHERE created_at < ?", [_now(moment - timedelta(days=KEEP_DAYS))])


def record_vote(
    db: sqlite_utils.Database, *, chat_id: int, key: str, user_id: int | None, vote: int, now: datetime | None = None
) -> int | None:
    """Store a vote on the logged answer `key` of this chat; None when no such answer is logged."""
    _check(vote)
    row = db.execute(
        "SELECT question, intent, answered, answer, plans FROM answer_log WHERE chat_id = ? AND key = ?",
        [chat_id, key],
    ).fetchone()
    if row is None:
        return None
    return _insert_vote(db, [chat_id, user_id, row[0], row[1], row[2], vote, _now(now), row[3], row[4]])


def record_unlogged_vote(
    db: sqlite_utils.Database,
    *,
    chat_id: int,
    user_id: int | None,
    question: str,
    intent: str | None,
    answered: bool | None,
    vote: int,
    now: datetime | None = None,
) -> int:
    """Store a vote on an answer the log does not hold (the bot still remembers its question in
    memory): the question it judges, without the answer text; returns the row id."""
    _check(vote)
    answered_value = None if answered is None else int(answered)
    return _insert_vote(db, [chat_id, user_id, question, intent, answered_value, vote, _now(now), None, None])


def _check(vote: int) -> None:
    if vote not in (UP, DOWN):
        raise ValueError(f"vote must be {UP} or {DOWN}")


def _insert_vote(db: sqlite_utils.Database, values: list) -> int:
    with transaction(db):
        cur = db.execute(
            """INSERT INTO feedback (chat_id, user_id, question, answer_intent, answered, vote, created_at, answer, plans)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            values,
        )
        return int(cur.fetchall()[0][0])


def feedback_rows(db: sqlite_utils.Database) -> list[dict]:
    """All votes, oldest first (for evaluation)."""
    return list(db.query("SELECT * FROM feedback ORDER BY id"))


@dataclass
class FeedbackReport:
    since: date | None
    votes: list[dict] = field(default_factory=list)  # oldest first
    by_intent: dict[str, Counter] = field(default_factory=dict)  # intent → {1: n, -1: n}
    by_plan: dict[str, Counter] = field(default_factory=dict)

    @property
    def down(self) -> list[dict]:
        return [v for v in self.votes if v["vote"] == DOWN]

    def to_dict(self) -> dict:
        def counts(groups: dict[str, Counter]) -> dict:
            return {k: {"up": c[UP], "down": c[DOWN]} for k, c in groups.items()}

        return {
            "since": self.since.isoformat() if self.since else None,
            "up": sum(1 for v in self.votes if v["vote"] == UP),
            "down": len(self.down),
            "by_intent": counts(self.by_intent),
            "by_plan": counts(self.by_plan),
            "voted_down": [
                {k: v[k] for k in ("created_at", "question", "answer_intent", "answer", "plans")} for v in self.down
            ],
        }


def feedback_report(db: sqlite_utils.Database, since: date | None = None) -> FeedbackReport:
    """Votes cast on or after `since` (UTC day), counted by intent and by cited plan."""
    sql, params = "SELECT * FROM feedback", []
    if since:
        sql += " WHERE created_at >= ?"
        params.append(since.isoformat())
    report = FeedbackReport(since)
    for row in db.query(sql + " ORDER BY id", params):
        row["plans"] = json.loads(row.get("plans") or "[]")
        report.votes.append(row)
        report.by_intent.setdefault(row["answer_intent"] or "?", Counter())[row["vote"]] += 1
        for plan in row["plans"] or [NO_PLAN]:
            report.by_plan.setdefault(plan, Counter())[row["vote"]] += 1
    return report


def _count_lines(groups: dict[str, Counter]) -> list[str]:
    ordered = sorted(groups.items(), key=lambda kv: (-kv[1][DOWN], -kv[1][UP], kv[0]))
    return [f"  {name}: 👍 {c[UP]} · 👎 {c[DOWN]}" for name, c in ordered]


def render_text(report: FeedbackReport, limit: int = 50) -> str:
    """The report as plain text (the CLI; the bot escapes it)."""
    since = f" từ {report.since:%d/%m/%Y}" if report.since else ""
    up, down = len(report.votes) - len(report.down), len(report.down)
    if not report.votes:
        return f"Chưa có góp ý nào{since}."
    lines = [f"Góp ý{since}: {len(report.votes)} lượt (👍 {up} · 👎 {down})", "", "Theo loại câu hỏi:"]
    lines += _count_lines(report.by_intent)
    lines += ["", "Theo kế hoạch được dẫn:"]
    lines += _count_lines(report.by_plan)
    if report.down:
        lines += ["", f"Câu hỏi bị chê ({down}, mới nhất trước):"]
        for vote in list(reversed(report.down))[:limit]:
            lines.append(f"• [{vote['created_at'][:10]}] {vote['question']} ({vote['answer_intent'] or '?'})")
            answer = " ".join((vote.get("answer") or "(không lưu câu trả lời)").split())
            lines.append(f"  ↳ {answer[:400]}" + ("…" if len(answer) > 400 else ""))
        if down > limit:
            lines.append(f"… và {down - limit} câu khác (planbot feedback --csv).")
    return "\n".join(lines)


CSV_HEADERS = ("thời điểm", "phiếu", "loại câu hỏi", "có trả lời", "câu hỏi", "câu trả lời", "kế hoạch")


def write_csv(report: FeedbackReport, out: IO[str]) -> None:
    """One line per vote (oldest first): ready to be turned into test questions."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADERS)
    for v in report.votes:
        writer.writerow(
            [
                v["created_at"],
                "👍" if v["vote"] == UP else "👎",
                v["answer_intent"] or "",
                "" if v["answered"] is None else int(v["answered"]),
                v["question"],
                v.get("answer") or "",
                "; ".join(v["plans"]),
            ]
        )
