"""Digests as Telegram messages (Vietnamese, HTML): the reminder text, split under Telegram's
limit (`knowledge.telegram_text`), with one "Đã xong" button per task; a chat's settings as shown by
/nhacviec; the notice of a plan's changes. Pure, like `reminders.due`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from knowledge.model import DATE, YEAR
from knowledge.telegram_text import MAX_MESSAGE, esc, split_html, utf16_len
from reminders.due import Digest, Reminder, period_end
from reminders.model import Knowledge, Policy, Subscription, Task

if TYPE_CHECKING:
    from indexer.changes import ChangeNotice

MAX_TASK_TEXT = 300
WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
DONE_PREFIX = "nvdone:"  # callback data of the "Đã xong" button: nvdone:<item id>


@dataclass
class OutMessage:
    """One Telegram message: HTML text, "Đã xong" buttons (label, callback data), keys it settles."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def fmt_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def weekday(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def _short(text: str, limit: int = MAX_TASK_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def period_label(period: str, due: date) -> str:
    """Which report falls due on `due`: "báo cáo quý I năm 2021", "báo cáo 6 tháng đầu năm 2021"."""
    end = period_end(due)
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


def _pack(title: str, blocks, footer: str, digest: Digest) -> list[OutMessage]:
    messages: list[OutMessage] = []
    current = OutMessage(title)
    shown: list[list[Reminder]] = [[]]
    for text, reminders, button in blocks:
        for piece in split_html(text, MAX_MESSAGE - 200):
            candidate = current.text + "\n\n" + piece
            if utf16_len(candidate) > MAX_MESSAGE - 100 and current.text != title:
                messages.append(current)
                current = OutMessage(title + " (tiếp)\n\n" + piece)
                shown.append([])
            else:
                current.text = candidate
        shown[-1].extend(reminders)
        if button:
            current.buttons.append(button)
    if footer:
        if utf16_len(current.text + "\n\n" + footer) > MAX_MESSAGE:
            messages.append(current)
            current = OutMessage(footer)
            shown.append([])
        else:
            current.text += "\n\n<i>" + footer + "</i>"
    messages.append(current)
    for message, reminders in zip(messages, shown, strict=True):
        message.keys = digest.keys_for(reminders)
    return messages


def notice_text(notice: ChangeNotice, lines: list[str], limit: int = 25) -> str:
    """The notice of a plan's changes a chat receives: the `lines` that concern it."""
    head = f"📝 <b>{esc(notice.title)}</b> được sửa"
    if notice.replaces is not None:
        head = f"📝 <b>{esc(notice.title)}</b> thay thế {esc(notice.replaces)}"
    body = [esc(line) for line in lines[:limit]]
    if len(lines) > limit:
        body.append(f"… và {len(lines) - limit} thay đổi khác.")
    return head + ":\n" + "\n".join(body)


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
