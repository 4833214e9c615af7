"""The pure reminder schedule, in three modules (re-exported here for existing importers):

- `reminders.model`: the inputs (policy, subscription, plans, rules, tasks: `Knowledge`);
- `reminders.due`: what is due for one chat at time T (`due_now` → `Digest`, `next_reminder`);
- `reminders.render`: a digest as Telegram messages (`render` → `OutMessage`), and the settings
  text of /nhacviec.

Pure: no database, no network, no clock; `now` is passed in.
"""

from __future__ import annotations

from knowledge.model import DATE, MONTH, QUARTER, YEAR
from reminders.due import (
    MONTHLY,
    OVERDUE,
    REPORT_PERIODS,
    TASK_KINDS,
    Digest,
    Reminder,
    candidates,
    due_now,
    next_reminder,
    period_end,
    reminder_key,
    report_reminders,
    task_reminders,
)
from reminders.model import (
    Knowledge,
    PlanInfo,
    Policy,
    Rule,
    Subscription,
    Task,
    everything,
    rule_key,
    stable_key,
    task_key,
)
from reminders.render import (
    DONE_PREFIX,
    MAX_TASK_TEXT,
    ROMAN,
    TELEGRAM_LIMIT,
    WEEKDAYS,
    OutMessage,
    describe_subscription,
    esc,
    fmt_day,
    period_label,
    plan_label,
    render,
    weekday,
)

__all__ = [
    "DATE", "DONE_PREFIX", "MAX_TASK_TEXT", "MONTH", "MONTHLY", "OVERDUE", "QUARTER", "REPORT_PERIODS",
    "ROMAN", "TASK_KINDS", "TELEGRAM_LIMIT", "WEEKDAYS", "YEAR", "Digest", "Knowledge", "OutMessage",
    "PlanInfo", "Policy", "Reminder", "Rule", "Subscription", "Task", "candidates", "describe_subscription",
    "due_now", "esc", "everything", "fmt_day", "next_reminder", "period_end", "period_label", "plan_label",
    "reminder_key", "render", "report_reminders", "rule_key", "stable_key", "task_key", "task_reminders",
    "weekday",
]
