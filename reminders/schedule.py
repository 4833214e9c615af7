"""What is due for one chat at time T: reporting and task-deadline reminders.

Pure: no database, no network, no clock. Callers pass the subscription, the knowledge read from
the index (`Knowledge`), the sending policy (`Policy`, from settings), the keys already sent and
`now` (a timezone-aware datetime); `due_now` answers with a `Digest` and `render` turns it into
the Telegram messages (HTML, split under 4,096 characters).

A reminder exists for every (chat, target, due date, offset): the monthly report, a reporting
rule of a plan, or a task, `offset` days before its due date (or one overdue notice after it).
It fires at the chat's reminder time on `due - offset`, is delivered at the first allowed moment
from then (working day, inside quiet hours), and expires when its deadline has passed. Its
`key` is recorded once sent, so a later run (or a restart) never sends it again.
"""

from __future__ import annotations

import calendar
import hashlib
import html
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from knowledge.answer import PlanRef
from knowledge.deadlines import due_months, last_day
from knowledge.model import DATE, MONTH, QUARTER, YEAR, Deadline
from knowledge.text import squash

if TYPE_CHECKING:  # settings are plain values; only their type is needed here
    from indexer.settings import Settings

TELEGRAM_LIMIT = 4096
OVERDUE = -1  # offset of the one overdue notice, sent the day after the deadline
MONTHLY = "m"  # target of the general monthly report (settings.report_day)
TASK_KINDS = (DATE, MONTH, QUARTER, YEAR)  # deadlines a task can be reminded of
REPORT_PERIODS = ("month", "quarter", "half_year", "nine_months", "year")
MAX_TASK_TEXT = 300
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
DONE_PREFIX = "nvdone:"  # callback data of the "Đã xong" button: nvdone:<item id>


# ---------------------------------------------------------------------------------------------
# Inputs


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
        15/01; "đến năm 2029" → 31/12): the parser's rule, `knowledge.deadlines.last_day`."""
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


# ---------------------------------------------------------------------------------------------
# Reminders


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


def _period_end(due: date) -> date:
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
            if rule.plan.date and _period_end(due) < rule.plan.date:
                continue  # the period ended before the plan was issued
            if rule.plan.valid_until and _period_end(due).year > rule.plan.valid_until:
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


# ---------------------------------------------------------------------------------------------
# Text (Vietnamese, Telegram HTML)


@dataclass
class OutMessage:
    """One Telegram message: HTML text, "Đã xong" buttons (label, callback data), keys it settles."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def fmt_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def _short(text: str, limit: int = MAX_TASK_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def period_label(period: str, due: date) -> str:
    """Which report falls due on `due`: "báo cáo quý I năm 2021", "báo cáo 6 tháng đầu năm 2021"."""
    end = _period_end(due)
    if period == "month":
        return f"báo cáo tháng {end.month}/{end.year}"
    if period == "quarter":
        return f"báo cáo quý {ROMAN[(end.month - 1) // 3 + 1]} năm {end.year}"
    if period == "half_year":
        return f"báo cáo 6 tháng {'đầu' if end.month <= 6 else 'cuối'} năm {end.year}"
    if period == "nine_months":
        return f"báo cáo 9 tháng năm {end.year}"
    if period == "year":
        return f"báo cáo năm {end.year}"
    return f"báo cáo {period}"


def _join(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " và " + labels[-1]


def _days_left(due: date, today: date, before: bool = False) -> str:
    """Days until `due` as written; `before`: the work must be done before that day."""
    n = (due - today).days
    if before:
        return "hôm nay là ngày cuối" if n == 1 else f"còn {n} ngày" if n > 1 else "đã hết hạn"
    if n > 1:
        return f"còn {n} ngày"
    if n == 1:
        return "còn 1 ngày (hạn là ngày mai)"
    if n == 0:
        return "hạn là hôm nay"
    return f"đã quá {-n} ngày"


def _report_block(due: date, items: list[Reminder], today: date) -> str:
    head = f"📅 <b>Hạn nộp báo cáo: {weekday(due)}, {fmt_day(due)}</b> — {_days_left(due, today)}"
    lines = [head]
    if due.weekday() >= 5 and due < today:
        lines.append(f"⚠️ Hạn rơi vào {weekday(due)} (ngày nghỉ): nhắc việc được chuyển sang ngày làm việc.")
    elif due.weekday() >= 5:
        lines.append(
            f"⚠️ Hạn rơi vào {weekday(due)}: hạn không lùi sang ngày làm việc (kế hoạch không quy định), nên gửi sớm."
        )
    for r in items:
        if r.rule is None:
            lines.append(
                f"• <b>{esc(period_label('month', due).capitalize())}</b> — báo cáo định kỳ hằng tháng, hạn ngày {due.day}."
            )
            continue
        rule = r.rule
        what = _join([period_label(p, due) for p in r.periods])
        lines.append(f"• <b>{esc(what[0].upper() + what[1:])}</b> — {esc(rule.plan.label)}")
        senders = ", ".join(rule.reporters) or "kế hoạch không nêu rõ"
        receivers = ", ".join(rule.recipients) or "kế hoạch không nêu rõ"
        lines.append(f"  Đơn vị gửi: {esc(senders)}. Gửi đến: {esc(receivers)}.")
        lines.append(
            f"  Căn cứ: mục {esc(rule.section or 'mở đầu')}: “{esc(_short(rule.frequency, 200))}”."
        )
        if r.guessed_day:
            lines.append(
                f"  (Kế hoạch không nêu ngày nộp; nhắc theo ngày báo cáo chung, ngày {due.day}.)"
            )
    return "\n".join(lines)


def _task_deadline(task: Task, today: date, overdue: bool) -> str:
    written = f"{'trước ngày' if task.before and task.kind == DATE else 'hạn'} {fmt_day(task.end)}"
    if task.kind != DATE:
        written = (
            f"“{esc(task.deadline_text)}” ({'trước' if task.before else 'hạn'} {fmt_day(task.end)})"
        )
    if overdue:
        late = (today - task.last_day).days
        return f"{written} — đã quá hạn {late} ngày"
    return f"{written} — {_days_left(task.end, today, task.before and task.kind != YEAR)}"


def _task_block(number: int, r: Reminder, today: date) -> str:
    task = r.task
    assert task is not None
    lines = [f"<b>{number}.</b> {esc(_short(task.text))}"]
    lines.append(f"  ⏰ {_task_deadline(task, today, r.kind == 'overdue')}")
    who = []
    if task.lead:
        who.append("Chủ trì: " + ", ".join(task.lead))
    if task.support:
        who.append("Phối hợp: " + ", ".join(task.support))
    if who:
        lines.append("  " + esc(". ".join(who)) + ".")
    lines.append(f"  📄 {esc(task.plan.label)}, {esc(task.citation)}")
    return "\n".join(lines)


def plan_label(knowledge: Knowledge, plan_file: str | None) -> str | None:
    if plan_file is None:
        return None
    return next((p.label for p in knowledge.plans if p.file == plan_file), plan_file)


def render(
    digest: Digest, sub: Subscription | None = None, knowledge: Knowledge | None = None
) -> list[OutMessage]:
    """The messages of a digest, each under Telegram's limit, with one "Đã xong" button per task."""
    if not digest.reminders:
        return []
    today = digest.now.date()
    title = f"🔔 <b>Nhắc việc {weekday(today)}, {fmt_day(today)}</b>"
    if sub is not None and (sub.agency or sub.plan_file):
        scope = [f"cơ quan: {sub.agency}"] if sub.agency else []
        if sub.plan_file:
            scope.append(f"kế hoạch: {plan_label(knowledge or Knowledge(), sub.plan_file)}")
        title += f"\n<i>Theo dõi {esc('; '.join(scope))}</i>"
    blocks: list[tuple[str, list[Reminder], tuple[str, str] | None]] = []
    reports = [r for r in digest.reminders if r.kind == "report"]
    for due in sorted({r.due for r in reports}):
        items = [r for r in reports if r.due == due]
        blocks.append((_report_block(due, items, today), items, None))
    number = 0
    for kind, heading in (
        ("task", "📌 <b>Nhiệm vụ sắp đến hạn</b>"),
        ("overdue", "❗ <b>Nhiệm vụ đã quá hạn</b> (chưa báo hoàn thành)"),
    ):
        chosen = [r for r in digest.reminders if r.kind == kind]
        if not chosen:
            continue
        blocks.append((heading, [], None))
        for r in chosen:
            number += 1
            assert r.task is not None
            button = (f"✅ Đã xong ({number})", f"{DONE_PREFIX}{r.task.item_id}")
            blocks.append((_task_block(number, r, today), [r], button))
    footer = (
        "Bấm “Đã xong” khi nhiệm vụ đã hoàn thành: nhóm sẽ không được nhắc lại việc đó."
        if number
        else ""
    )
    return _pack(title, blocks, footer, digest)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _pack(title: str, blocks, footer: str, digest: Digest) -> list[OutMessage]:
    messages: list[OutMessage] = []
    current = OutMessage(title)
    shown: list[list[Reminder]] = [[]]
    for text, reminders, button in blocks:
        for piece in _hard_split(text, TELEGRAM_LIMIT - 200):
            candidate = current.text + "\n\n" + piece
            if _utf16(candidate) > TELEGRAM_LIMIT - 100 and current.text != title:
                messages.append(current)
                current = OutMessage(title + " (tiếp)\n\n" + piece)
                shown.append([])
            else:
                current.text = candidate
        shown[-1].extend(reminders)
        if button:
            current.buttons.append(button)
    if footer:
        if _utf16(current.text + "\n\n" + footer) > TELEGRAM_LIMIT:
            messages.append(current)
            current = OutMessage(footer)
            shown.append([])
        else:
            current.text += "\n\n<i>" + footer + "</i>"
    messages.append(current)
    for message, reminders in zip(messages, shown, strict=True):
        message.keys = digest.keys_for(reminders)
    return messages


def _hard_split(text: str, limit: int) -> list[str]:
    """Split an oversized block on line ends (then anywhere); tags never span lines here."""
    if _utf16(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while _utf16(line) > limit:
            cut = limit
            head, line = line[:cut], line[cut:]
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if current and _utf16(current + "\n" + line) > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def describe_subscription(sub: Subscription, policy: Policy, plan_label: str | None = None) -> str:
    """The chat's settings, as shown by /nhacviec (HTML)."""
    days_r = ", ".join(str(d) for d in sub.days_for_reports(policy))
    days_t = ", ".join(str(d) for d in sub.days_for_tasks(policy))
    at = sub.time_of_day(policy).strftime("%H:%M")
    lines = [
        "🔔 <b>Nhắc việc đang bật cho cuộc trò chuyện này</b>"
        if sub.active
        else "🔕 <b>Nhắc việc đang tắt</b>",
        f"• Cơ quan: {esc(sub.agency) if sub.agency else 'tất cả'}",
        f"• Kế hoạch: {esc(plan_label or sub.plan_file) if sub.plan_file else 'tất cả kế hoạch đã nạp'}",
        f"• Báo cáo định kỳ (hạn ngày {policy.report_day} hằng tháng và theo kế hoạch): nhắc trước {days_r} ngày",
        f"• Nhiệm vụ có thời hạn: nhắc trước {days_t} ngày, báo quá hạn 1 lần",
        f"• Giờ nhắc: {at} ({policy.tz.key}), chỉ ngày làm việc, "
        f"{policy.quiet_start.strftime('%H:%M')}–{policy.quiet_end.strftime('%H:%M')}",
    ]
    return "\n".join(lines)


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
