"""The `planbot` command: the composition root of the product.

It sits above `knowledge/`, `indexer/`, `reminders/` and `bot/` and is the only place that wires
them together: the indexer's commands (`indexer/cli.py`) plus the ones that need the bot or the
reminders (run, chat, remind, and export's per-chat "done" state). Heavy things (the bot, torch,
the model) are imported inside the commands, so `planbot tasks` starts without them."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from indexer.cli import COMMANDS, NOTIFY_FOR, db_option, kb_for, parse_date, settings_for
from knowledge.errors import PlanbotError
from store.connection import db_location


class PlanbotGroup(click.Group):
    """Turns `PlanbotError` into one clean line (exit 1), never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlanbotError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=PlanbotGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log progress details.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """planbot: ai phải làm gì, hạn khi nào — theo các kế hoạch đã nạp."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)[NOTIFY_FOR] = notifier


def notifier(store):
    """`planbot index`: a changed plan's notices go to the reminders' outbox (chats it concerns)."""
    from reminders.notices import notifier

    return notifier(store)


def bot_settings_for(db: str | None):
    """The settings with the bot's own (token, admins, webhook: `bot.settings`)."""
    from dataclasses import replace

    from bot.settings import load_bot_settings

    settings = load_bot_settings()
    return replace(settings, db_path=db_location(db)) if db else settings


for _command in COMMANDS:
    main.add_command(_command)


@main.group(name="db")
def db_group() -> None:
    """The database: copy it between SQLite and PostgreSQL."""


@db_group.command(name="copy")
@click.option("--from", "source", required=True, help="Nguồn: tệp SQLite hoặc postgresql://…")
@click.option("--to", "target", required=True, help="Đích: tệp SQLite hoặc postgresql://… (các bảng được thay toàn bộ).")
def db_copy(source: str, target: str) -> None:
    """Copy every table (plans, tasks, vectors, reminders, feedback…), counts checked per table."""
    from store.copy import copy

    counted = copy(db_location(source), db_location(target))
    width = max(len(c.table) for c in counted)
    for c in counted:
        click.echo(f"{c.table:<{width}}  {c.source:>8}  {c.target:>8}{'' if c.source == c.target else '  KHÁC'}")
    wrong = [c.table for c in counted if c.source != c.target]
    if wrong:
        raise PlanbotError(f"Số dòng khác nhau ở bảng: {', '.join(wrong)}.")
    click.echo(f"Đã chép {len(counted)} bảng, {sum(c.target for c in counted)} dòng: số dòng khớp từng bảng.")


@main.command(name="export")
@db_option
@click.option("--agency", help="Cơ quan (bất kỳ tên gọi, viết tắt, không dấu).")
@click.option("--role", type=click.Choice(["lead", "support"]))
@click.option("--plan", "plan_id", type=int)
@click.option("--from", "start", help="YYYY-MM-DD: hạn từ ngày này (như tasks --due-after).")
@click.option("--to", "end", help="YYYY-MM-DD: hạn đến ngày này (như tasks --due-before).")
@click.option("--today", help="YYYY-MM-DD: ngày tính trạng thái (mặc định: hôm nay, giờ Việt Nam).")
@click.option("--chat", "chat_id", type=int, help="Nhiệm vụ nhóm chat này đã đánh dấu xong: 'đã xong'.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path))
def export_cmd(db, agency, role, plan_id, start, end, today, chat_id, xlsx, csv_path) -> None:
    """The rows of `planbot tasks` as an Excel sheet or CSV, with status and a progress column."""
    from indexer.export import agency_export, export_title, write_csv, write_xlsx

    if bool(xlsx) == bool(csv_path):
        raise click.UsageError("Chọn một: --xlsx TỆP hoặc --csv TỆP.")
    settings = settings_for(db)
    kb = kb_for(settings, with_model=False)
    day = parse_date(today) or datetime.now(ZoneInfo(settings.timezone)).date()
    done: set[int] = set()
    if chat_id is not None:
        from reminders.storage import done_item_ids

        done = done_item_ids(kb.store.db, chat_id)
    name, rows = agency_export(kb, day, agency, role, plan_id, parse_date(start), parse_date(end), done)
    if xlsx:
        write_xlsx(rows, xlsx, export_title(name, day))
    else:
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as out:
            write_csv(rows, out)
    click.echo(f"{len(rows)} nhiệm vụ" + (f" của {name}" if name else "") + f" → {xlsx or csv_path}")


@main.command()
@db_option
@click.option(
    "--now",
    "now",
    help="YYYY-MM-DD HH:MM (giờ Việt Nam nếu không ghi múi giờ): chạy như thể lúc đó "
    "(thử nghiệm, chạy thử nhắc việc); đồng hồ chạy tiếp từ thời điểm ấy.",
)
@click.option(
    "--port",
    type=int,
    help="Cổng nghe webhook của tiến trình này (thay PLANBOT_WEBHOOK_PORT): chạy nhiều tiến trình "
    "sau một địa chỉ webhook, mỗi tiến trình một cổng.",
)
def run(db, now, port) -> None:
    """Start the Telegram bot (polling; webhook when PLANBOT_WEBHOOK_URL is set)."""
    from bot.app import run as run_bot

    settings = bot_settings_for(db)
    if port is not None:
        settings = dataclasses.replace(settings, webhook_port=port)
    clock = None
    if now is not None:
        from reminders.cli import parse_on
        from reminders.jobs import clock_from

        clock = clock_from(parse_on(now, settings))
    run_bot(settings, clock=clock)


@main.command()
@db_option
@click.argument("questions", nargs=-1)
def chat(db, questions) -> None:
    """Console chat through the bot's handlers (no Telegram token needed)."""
    import asyncio

    from bot.console import console_chat

    settings = bot_settings_for(db)
    kb = kb_for(settings)
    if not questions and kb.embedder is not None:
        kb.embedder.warm()  # interactive: load the model while the user types
    asyncio.run(console_chat(settings, kb, list(questions) or None))


@main.command()
@db_option
@click.option("--dry-run", is_flag=True, required=True, help="Print, do not send.")
@click.option("--on", "on", required=True, help="YYYY-MM-DD[THH:MM] (giờ Việt Nam)")
@click.option("--chat", "chat_id", type=int)
def remind(db, dry_run, on, chat_id) -> None:
    """Show exactly what reminders would be sent at a moment."""
    from reminders.cli import parse_on, remind_dry_run

    settings = settings_for(db)
    moment = parse_on(on, settings)
    click.echo(remind_dry_run(settings, moment, chat_id))


if __name__ == "__main__":  # pragma: no cover
    main()
