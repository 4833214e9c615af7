"""`planbot export`: the rows of `planbot tasks` for the same filters, as .xlsx and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from indexer.export import HEADERS, export_rows, task_status, write_csv
from knowledge.dates.deadlines import parse_deadline
from knowledge.model import Deadline
from knowledge.questions.answer import PlanRef, Result, deadline_phrase
from planbot.cli import main
from tests.emulator.fixtures import *  # noqa: F403

FILTERS = [
    ["--agency", "so noi vu"],
    ["--agency", "Sở Y tế", "--role", "lead"],
    ["--agency", "UBND các huyện", "--plan", "4"],
    ["--agency", "Sở Tài chính", "--from", "2025-01-01", "--to", "2025-12-31"],
    ["--to", "2025-12-31"],
]


def _tasks(db: str, args: list[str]) -> list[dict]:
    tasks_args = [
        {"--from": "--due-after", "--to": "--due-before"}.get(a, a) for a in args
    ]
    result = CliRunner().invoke(main, ["tasks", "--db", db, "--json", *tasks_args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("args", FILTERS)
def test_xlsx_holds_exactly_the_rows_of_planbot_tasks(sample_db, tmp_path, args):
    out = tmp_path / "out.xlsx"
    db = str(sample_db)
    result = CliRunner().invoke(main, ["export", "--db", db, *args, "--today", "2025-06-01", "--xlsx", str(out)])
    assert result.exit_code == 0, result.output
    expected = _tasks(db, args)
    assert expected, "the filter must select some rows for the test to mean anything"
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    body = rows[1:]
    assert len(body) == len(expected)
    for row, task in zip(body, expected, strict=True):
        assert row[2] == task["section"]
        assert row[3] == " ".join(task["text"].split())
        assert row[5] == (", ".join(task["lead"]) or None)
        assert row[6] == (", ".join(task["support"]) or None)
        assert row[7] == ((task["deadline"] or {}).get("text") or None)
        assert task["plan"]["title"][:40] in row[1] or (task["plan"]["number"] or "~") in row[1]
        assert row[10] is None  # left for the unit's progress report
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:K{len(body) + 1}"
    assert sheet.column_dimensions["D"].width >= 60


def test_status_and_due_date_on_a_given_day(sample_db, tmp_path):
    out = tmp_path / "out.xlsx"
    args = ["export", "--db", str(sample_db), "--agency", "Sở Tài chính", "--plan", "4", "--xlsx", str(out)]
    CliRunner().invoke(main, [*args, "--today", "2025-06-10"], catch_exceptions=False)
    rows = {r[2]: r for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)}
    tt6 = rows["Phụ lục, TT 6"]
    assert tt6[7] == "Trước ngày 01/7/2025"
    assert tt6[8].date() == date(2025, 6, 30)  # its last day, as answers say
    assert tt6[9] == "sắp đến hạn"
    CliRunner().invoke(main, [*args, "--today", "2025-07-02"], catch_exceptions=False)
    rows = {r[2]: r for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)}
    assert rows["Phụ lục, TT 6"][9] == "quá hạn"


def test_csv_has_the_same_rows(sample_db, tmp_path):
    out = tmp_path / "out.csv"
    db = str(sample_db)
    result = CliRunner().invoke(main, ["export", "--db", db, "--agency", "Sở Y tế", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    expected = _tasks(db, ["--agency", "Sở Y tế"])
    assert tuple(rows[0]) == HEADERS
    assert [r[2] for r in rows[1:]] == [t["section"] for t in expected]
    dated = [r for r in rows[1:] if r[8]]
    assert dated and all(len(r[8]) == 10 and r[8][2] == "/" for r in dated)


def test_one_output_is_required(sample_db, tmp_path):
    result = CliRunner().invoke(main, ["export", "--db", str(sample_db), "--agency", "Sở Y tế"])
    assert result.exit_code == 2 and "--xlsx" in result.output


def test_status_words():
    today = date(2025, 6, 1)
    assert task_status(None, today) == "không thời hạn"
    assert task_status(Deadline("Thường xuyên", "ongoing"), today) == "thường xuyên"
    assert task_status(Deadline("Năm 2024", "year", date(2024, 1, 1), date(2024, 12, 31)), today) == "quá hạn"
    assert task_status(Deadline("Tháng 6/2025", "month", date(2025, 6, 1), date(2025, 6, 30)), today) == "sắp đến hạn"
    assert task_status(Deadline("Năm 2026", "year", date(2026, 1, 1), date(2026, 12, 31)), today) == "còn hạn"
    assert task_status(Deadline("Năm 2024", "year", date(2024, 1, 1), date(2024, 12, 31)), today, done=True) == "đã xong"


@pytest.mark.parametrize(
    ("wording", "due"),
    [
        ("Trước ngày 01/7/2025", date(2025, 6, 30)),  # an exclusive bound: the day before
        ("chậm nhất ngày 15/7/2025", date(2025, 7, 15)),
        ("Đến hết ngày 15/7/2025", date(2025, 7, 15)),
        ("Tháng 6/2025", date(2025, 6, 30)),
        ("Quý III/2025", date(2025, 9, 30)),
        ("Trước năm 2030", date(2029, 12, 31)),
        ("Hằng năm", None),
    ],
)
def test_due_column_is_the_last_day_answers_state(wording, due):
    deadline = parse_deadline(wording)
    task = Result(PlanRef(1, "Kế hoạch thử", "1/KH", "UBND", None, "a.txt"), "task", "TT 1", "Làm A", deadline=deadline)
    [row] = export_rows([task], date(2025, 6, 1))
    assert row.due == due and row.deadline == wording
    if due is not None:  # the day the chat answer names
        assert f"{due:%d/%m/%Y})" in deadline_phrase(deadline)
    out = io.StringIO()
    write_csv([row], out)
    assert list(csv.reader(io.StringIO(out.getvalue())))[1][8] == (f"{due:%d/%m/%Y}" if due else "")


# -- /xuat through the bot ------------------------------------------------------------------------


@pytest.mark.e2e
async def test_xuat_sends_the_sheet_as_a_document(emulator, bot_token, sample_db) -> None:
    from dataclasses import replace
    from io import BytesIO
    from pathlib import Path

    from answering.knowledge_base import KnowledgeBase
    from bot.app import build_application
    from bot.settings import BotSettings
    from store.database import Store
    from tests.emulator.fixtures import running_bot

    kb = KnowledgeBase(Store(sample_db), None)
    root = Path(__file__).resolve().parent.parent
    config = BotSettings(
        data_dir=kb.store.path.parent, db_path=kb.store.path, plans_dir=root / "sample_plans", model="",
        telegram_token=bot_token, telegram_base_url=emulator.base_url, admin_ids=frozenset(),
    )
    async with running_bot(build_application(replace(config), kb, kb.store, None)):
        lan = emulator.private_user(bot_token, first_name="Lan")
        await lan.send_command("xuat", "so noi vu")
        [reply] = await lan.wait_for_replies(1)
        await lan.send_command("xuat")
        [usage] = await lan.wait_for_replies(1)
    assert "Cách dùng: /xuat" in usage["text"]
    document = reply["document"]
    assert document["file_name"].startswith("nhiem-vu_so-noi-vu_") and document["file_name"].endswith(".xlsx")
    assert "Sở Nội vụ" in reply["caption"] and "8 nhiệm vụ" in reply["caption"]
    data = emulator.file_bytes(bot_token, document["file_id"])
    rows = list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))
    expected = _tasks(str(sample_db), ["--agency", "so noi vu"])
    assert rows[0] == HEADERS and [r[2] for r in rows[1:]] == [t["section"] for t in expected]
