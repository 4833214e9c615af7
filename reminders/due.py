"""What is due for one chat at time T: reporting and task-deadline reminders.

Pure: no database, no network, no clock. Callers pass the subscription, the knowledge read from
the index (`Knowledge`), the sending policy (`Policy`), the keys already sent and `now` (a
timezone-aware datetime); `due_now` answers with a `Digest` (`reminders.render` turns it into
Telegram messages).

A reminder exists for every (chat, target, due date, offset): the monthly report, a reporting
rule of a plan, or a task, `offset` days before its due date (or one overdue notice after it).
It fires at the chat's reminder time on `due - offset`, is delivered at the first allowed moment
from then (working day, inside quiet hours), and expires when its deadline has passed. Its
`key` is recorded once sent, so a later run (or a restart) never sends it again.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from knowledge.dates.recurrence import due_months
from knowledge.model import DATE, MONTH, QUARTER, YEAR
from knowledge.text import squash
from reminders.model import Knowledge, Policy, Rule, Subscription, Task

OVERDUE = -1  # offset of the one overdue notice, sent the day after the deadline
MONTHLY = "m"  # target of the general monthly report (settings.report_day)
TASK_KINDS = (DATE, MONTH, QUARTER, YEAR)  # deadlines a task can be reminded of
REPORT_PERIODS = ("month", "quarter", "half_year", "nine_months", "year")


@dataclass(frozen=True)
class Reminder:
    key: str  # idempotency key: chat | target | due date | offset
    chat_id: int
    kind: str  # "report" | "task" | "overdue"
    target: str  # MONTHLY, a rule key or a task key
    due: date  # the deadline as written (report day; task end)
    offset: int  # days before `due`; OVERDUE for the notice after it
    fire_at: datetime  # nominal: `due - offset` at the chat's reminder time
    send_from: datetime  # first moment it may be delivered (quiet hours, working days)
    expires: datetime  # never delivered at or after this
    rule: Rule | None = None
    periods: tuple[str, ...] = ()  # reports falling due (report reminders)
    task: Task | None = None
    guessed_day: bool = False  # the plan names no day: the general report day is assumed


def reminder_key(chat_id: int, target: str, due: date, offset: int) -> str:
    return (
        f"{chat_id}|{target}|{due.isoformat()}|{'overdue' if offset == OVERDUE else f'd{offset}'}"
    )


def _norm(name: str) -> str:
    return squash(name)


def _concerns(sub: Subscription, names: Iterable[str]) -> bool:
    if not sub.agency:
        return True
    wanted = _norm(sub.agency)
    return any(_norm(n) == wanted for n in names)


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _months(start: date, end: date) -> Iterable[tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def period_end(due: date) -> date:
    """The last day of the month before `due`'s month (the period a report covers ends then)."""
    return due.replace(day=1) - timedelta(days=1)


def _rule_periods(rule: Rule, month: int) -> tuple[str, ...]:
    """Reports of `rule` falling due in `month` (the yearly report covers the second half)."""
    periods = [
        p
        for p in REPORT_PERIODS
        if p in due_months([p for p in rule.periods if p in REPORT_PERIODS], rule.due_offset).get(month, [])
    ]
    if "year" in periods and "half_year" in periods:
        periods.remove("half_year")
    return tuple(periods)


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def _make(
    sub: Subscription,
    policy: Policy,
    kind: str,
    target: str,
    due: date,
    offset: int,
    last_day: date,
    **extra,
) -> Reminder:
    """A reminder `offset` days before `due` (or the overdue notice the day after `last_day`)."""
    at = sub.time_of_day(policy)
    if offset == OVERDUE:
        fire_day = last_day + timedelta(days=1)
        expires = _at(fire_day + timedelta(days=policy.overdue_grace_days + 1), time(0), policy.tz)
    else:
        fire_day = due - timedelta(days=offset)
        expires = _at(last_day + timedelta(days=1), time(0), policy.tz)
    fire_at = _at(fire_day, at, policy.tz)
    send_from = policy.next_allowed(fire_at, at)
    # A reminder pushed out of a weekend or the quiet hours is still sent when it was promised,
    # even when that is after its deadline (the overdue notice of a task then takes its place).
    expires = max(expires, send_from + timedelta(days=1))
    return Reminder(
        key=reminder_key(sub.chat_id, target, due, offset),
        chat_id=sub.chat_id,
        kind=kind,
        target=target,
        due=due,
        offset=offset,
        fire_at=fire_at,
        send_from=send_from,
        expires=expires,
        **extra,
    )


def report_reminders(
    sub: Subscription, knowledge: Knowledge, policy: Policy, start: date, end: date
) -> list[Reminder]:
    """Reporting reminders whose due day lies in [start, end]."""
    out: list[Reminder] = []
    offsets = sub.days_for_reports(policy)
    rules = [
        r
        for r in knowledge.rules
        if (sub.plan_file is None or r.plan.file == sub.plan_file)
        and any(p in REPORT_PERIODS for p in r.periods)
        and _concerns(sub, r.reporters + r.recipients)
    ]
    for year, month in _months(start, end):
        dues: list[tuple[date, str, dict]] = []
        if sub.plan_file is None:
            dues.append(
                (_month_day(year, month, policy.report_day), MONTHLY, {"periods": ("month",)})
            )
        for rule in rules:
            periods = _rule_periods(rule, month)
            if not periods:
                continue
            due = _month_day(year, month, rule.due_day or policy.report_day)
            if rule.plan.date and period_end(due) < rule.plan.date:
                continue  # the period ended before the plan was issued
            if rule.plan.valid_until and period_end(due).year > rule.plan.valid_until:
                continue  # the plan's years are over (its last yearly report was the final one)
            dues.append(
                (
                    due,
                    rule.key,
                    {"rule": rule, "periods": periods, "guessed_day": rule.due_day is None},
                )
            )
        for due, target, extra in dues:
            if not start <= due <= end:
                continue
            for offset in offsets:
                out.append(_make(sub, policy, "report", target, due, offset, due, **extra))
    return out


def task_reminders(
    sub: Subscription,
    knowledge: Knowledge,
    policy: Policy,
    start: date,
    end: date,
    done: Collection[str] = (),
) -> list[Reminder]:
    """Task reminders (before the deadline and one overdue notice) for deadlines in [start, end]."""
    out: list[Reminder] = []
    offsets = sub.days_for_tasks(policy)
    for task in knowledge.tasks:
        if task.kind not in TASK_KINDS or task.key in done:
            continue
        if sub.plan_file is not None and task.plan.file != sub.plan_file:
            continue
        if not _concerns(sub, task.lead + task.support + task.others):
            continue
        if not start <= task.end <= end:
            continue
        for offset in offsets:
            out.append(
                _make(sub, policy, "task", task.key, task.end, offset, task.last_day, task=task)
            )
        out.append(
            _make(sub, policy, "overdue", task.key, task.end, OVERDUE, task.last_day, task=task)
        )
    return out


def candidates(
    sub: Subscription,
    knowledge: Knowledge,
    policy: Policy,
    now: datetime,
    done: Collection[str] = (),
) -> list[Reminder]:
    """Every reminder that could be pending at `now` (before filtering on time and sent keys)."""
    today = now.astimezone(policy.tz).date()
    ahead = max((*sub.days_for_reports(policy), *sub.days_for_tasks(policy), 0)) + 1
    start = today - timedelta(days=policy.overdue_grace_days + 3)
    end = today + timedelta(days=ahead)
    return report_reminders(sub, knowledge, policy, start, end) + task_reminders(
        sub, knowledge, policy, start, end, done
    )


@dataclass
class Digest:
    """What one run sends to one chat: the reminders to show and every key it settles."""

    chat_id: int
    now: datetime
    reminders: list[Reminder] = field(default_factory=list)  # one per (target, due), closest offset
    keys: list[str] = field(default_factory=list)  # all pending keys (incl. superseded offsets)
    allowed: bool = True  # False: outside working hours; `deferred_to` says when
    deferred_to: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.reminders)

    def keys_for(self, reminders: Iterable[Reminder]) -> list[str]:
        """Keys settled by showing `reminders` (their superseded offsets included; an overdue
        notice also settles the late "due soon" reminder of the same task)."""
        wanted = {(r.target, r.due, r.kind == "overdue") for r in reminders}
        wanted |= {(r.target, r.due, False) for r in reminders if r.kind == "overdue"}
        return [k for k in self.keys if _key_target(k) in wanted]


def _key_target(key: str) -> tuple[str, date, bool]:
    _chat, target, due, offset = key.split("|")
    return target, date.fromisoformat(due), offset == "overdue"


def due_now(
    sub: Subscription,
    knowledge: Knowledge,
    policy: Policy,
    now: datetime,
    sent: Collection[str] = (),
    done: Collection[str] = (),
) -> Digest:
    """What a run at `now` sends to this chat (empty when nothing is due or hours forbid)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(policy.tz)
    digest = Digest(sub.chat_id, now)
    if not sub.active:
        return digest
    owed = [
        r
        for r in candidates(sub, knowledge, policy, now, done)
        if r.fire_at >= sub.created_at and r.key not in sent and not _later_one_sent(r, sent)
    ]
    if not policy.allowed(now):
        digest.allowed = False
        later = policy.next_allowed(now, sub.time_of_day(policy))
        if any(r.send_from <= later < r.expires for r in owed):  # promise only what will go then
            digest.deferred_to = later
        return digest
    pending = [r for r in owed if r.send_from <= now < r.expires]
    if not pending:
        return digest
    best: dict[tuple[str, date, bool], Reminder] = {}
    for r in pending:
        slot = (r.target, r.due, r.kind == "overdue")
        if slot not in best or r.offset < best[slot].offset:
            best[slot] = r
    for target, due, overdue in list(best):
        if overdue:  # the task is already late: its notice replaces a deferred "due soon"
            best.pop((target, due, False), None)
    digest.keys = sorted({r.key for r in pending})
    digest.reminders = sorted(best.values(), key=_order)
    return digest


def _later_one_sent(r: Reminder, sent: Collection[str]) -> bool:
    """A closer reminder of the same deadline already went (e.g. days-before settings changed)."""
    if r.offset == OVERDUE:
        return False
    return any(reminder_key(r.chat_id, r.target, r.due, o) in sent for o in range(r.offset))


def _order(r: Reminder) -> tuple:
    kind = {"report": 0, "task": 1, "overdue": 2}[r.kind]
    monthly = 0 if r.target == MONTHLY else 1
    plan = r.rule.plan.id if r.rule else r.task.plan.id if r.task else 0
    item = r.task.item_id if r.task else 0
    return (kind, r.due, monthly, plan, item, r.target)


def next_reminder(
    sub: Subscription,
    knowledge: Knowledge,
    policy: Policy,
    now: datetime,
    sent: Collection[str] = (),
    done: Collection[str] = (),
    horizon_days: int = 93,
) -> Reminder | None:
    """The next reminder this chat will get after `now` (for showing the settings)."""
    now = now.astimezone(policy.tz)
    today = now.date()
    ahead = max((*sub.days_for_reports(policy), *sub.days_for_tasks(policy), 0))
    end = today + timedelta(days=horizon_days + ahead)
    found = report_reminders(sub, knowledge, policy, today, end) + task_reminders(
        sub, knowledge, policy, today, end, done
    )
    future = [
        r
        for r in found
        if r.fire_at >= sub.created_at and now < r.send_from < r.expires and r.key not in sent
    ]
    return min(future, key=lambda r: (r.send_from, _order(r)), default=None)
