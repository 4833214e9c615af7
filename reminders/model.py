"""The inputs of the reminder schedule: the sending policy, a chat's subscription and what the
index knows (plans, reporting rules, dated tasks), as plain immutable values.

Pure: no database, no network, no clock (`reminders.storage` reads these from the database).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from knowledge.dates.deadlines import last_day
from knowledge.model import Deadline
from knowledge.questions.answer import PlanRef

if TYPE_CHECKING:  # settings are plain values; only their type is needed here
    from indexer.settings import Settings


def _hhmm(value: str | time) -> time:
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


@dataclass(frozen=True)
class Policy:
    """When and how often: the defaults of every chat, from settings."""

    tz: ZoneInfo
    report_day: int = 10
    report_days: tuple[int, ...] = (3, 1)
    task_days: tuple[int, ...] = (7, 1)
    remind_time: time = time(8, 0)
    quiet_start: time = time(7, 30)
    quiet_end: time = time(17, 30)
    working_days: frozenset[int] = frozenset(range(5))  # Monday = 0 … Friday = 4
    overdue_grace_days: int = 7  # an overdue notice delayed longer than this is dropped

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            tz=ZoneInfo(settings.timezone),
            report_day=settings.report_day,
            report_days=tuple(settings.reminder_days_before),
            task_days=tuple(settings.task_days_before),
            remind_time=_hhmm(settings.reminder_time),
            quiet_start=_hhmm(settings.quiet_start),
            quiet_end=_hhmm(settings.quiet_end),
        )

    def in_hours(self, t: time) -> bool:
        return self.quiet_start <= t < self.quiet_end

    def allowed(self, moment: datetime) -> bool:
        """May a message be sent at `moment` (working day, inside quiet hours)?"""
        local = moment.astimezone(self.tz)
        return local.weekday() in self.working_days and self.in_hours(
            local.time().replace(tzinfo=None)
        )

    def slot(self, wanted: time | None) -> time:
        """The chat's daily reminder time, moved into the allowed hours when outside them."""
        t = wanted or self.remind_time
        return t if self.in_hours(t) else self.quiet_start

    def next_allowed(self, moment: datetime, at: time | None = None) -> datetime:
        """`moment` if a message may go then, else the next working day at `at` (or opening)."""
        local = moment.astimezone(self.tz)
        if self.allowed(local):
            return local
        opening = self.slot(at)
        day = local.date()
        if local.weekday() in self.working_days and local.time().replace(tzinfo=None) < opening:
            return datetime.combine(day, opening, tzinfo=self.tz)
        for _ in range(14):
            day += timedelta(days=1)
            if day.weekday() in self.working_days:
                return datetime.combine(day, opening, tzinfo=self.tz)
        return local  # no working day configured: send anyway rather than never


@dataclass(frozen=True)
class Subscription:
    """A chat that gets reminders. None in a setting means the policy default."""

    chat_id: int
    created_at: datetime
    chat_type: str = "private"
    title: str = ""
    agency: str | None = None  # canonical agency name: only what concerns it
    plan_file: str | None = None  # one plan only (its file name: stable across reindexing)
    report_days: tuple[int, ...] | None = None
    task_days: tuple[int, ...] | None = None
    remind_time: time | None = None
    active: bool = True
    created_by: int | None = None

    def days_for_reports(self, policy: Policy) -> tuple[int, ...]:
        return self.report_days if self.report_days is not None else policy.report_days

    def days_for_tasks(self, policy: Policy) -> tuple[int, ...]:
        return self.task_days if self.task_days is not None else policy.task_days

    def time_of_day(self, policy: Policy) -> time:
        return policy.slot(self.remind_time)


def everything(chat_id: int, created_at: datetime) -> Subscription:
    """A chat subscribed to all plans with the default settings."""
    return Subscription(chat_id=chat_id, created_at=created_at)


@dataclass(frozen=True)
class PlanInfo:
    id: int
    file: str
    label: str  # "Kế hoạch số 220/KH-UBND (UBND tỉnh Bắc Ninh, 2018)"
    date: date | None = None
    number: str = ""
    valid_until: int | None = None  # last year the plan covers (None: open-ended)

    @classmethod
    def from_row(cls, row: dict) -> PlanInfo:
        ref = PlanRef(
            row["id"],
            row.get("title") or "",
            row.get("number") or "",
            row.get("issuer") or "",
            row.get("date"),
            row["file"],
        )
        day = date.fromisoformat(row["date"]) if row.get("date") else None
        return cls(
            id=row["id"],
            file=row["file"],
            label=ref.label,
            date=day,
            number=row.get("number") or "",
            valid_until=row.get("valid_until"),
        )


@dataclass(frozen=True)
class Rule:
    """A periodic reporting duty of a plan (from `Store.reporting_rules()`)."""

    key: str
    plan: PlanInfo
    section: str
    text: str
    frequency: str
    reporters: tuple[str, ...]
    recipients: tuple[str, ...]
    periods: tuple[str, ...]
    due_day: int | None  # day of the month after the period; None: the plan names no day
    due_offset: int = 1  # 1: due in the month after the period; 0: in its last month ("tháng cuối kỳ")


@dataclass(frozen=True)
class Task:
    """A task (table row or clause) with a dated deadline."""

    key: str  # stable across reindexing: plan file + citation + text
    item_id: int
    plan: PlanInfo
    citation: str
    text: str
    deadline_text: str
    kind: str
    end: date
    before: bool = False  # "Trước ngày 01/7/2025": must be finished before `end`
    lead: tuple[str, ...] = ()
    support: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # other roles (report recipients)

    @property
    def last_day(self) -> date:
        """Last day the work may still be done ("trước 01/7" → 30/6; "chậm nhất ngày 15/01" →
        15/01; "đến năm 2029" → 31/12): the parser's rule, `knowledge.dates.deadlines.last_day`."""
        return last_day(Deadline(self.deadline_text, self.kind, end=self.end, before=self.before)) or self.end


@dataclass(frozen=True)
class Knowledge:
    rules: tuple[Rule, ...] = ()
    tasks: tuple[Task, ...] = ()
    plans: tuple[PlanInfo, ...] = ()


def stable_key(prefix: str, plan_file: str, *parts: str) -> str:
    digest = hashlib.sha1("\x1f".join((plan_file, *parts)).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}:{plan_file}:{digest}"


def task_key(plan_file: str, citation: str, text: str) -> str:
    return stable_key("t", plan_file, citation, " ".join(text.split()))


def rule_key(plan_file: str, section: str, text: str) -> str:
    return stable_key("r", plan_file, section, " ".join(text.split()))
