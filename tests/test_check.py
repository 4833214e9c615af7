"""`planbot check`: per-document report, totals, JSON shape and scoring against silver rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.check import check_document, run_check
from indexer.check_score import (
    compare_containers,
    doc_key,
    load_expectations,
    same_agencies,
    score_reports,
)
from knowledge.orgs.agencies import AgencyRegistry
from planbot.cli import main
from tests.conftest import SAMPLES

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
SILVER = DATA / "silver" / "check_rows.jsonl"
PLAN_003 = next(SAMPLES.glob("003_*.txt"))
PLAN_004 = next(SAMPLES.glob("004_*.txt"))


@pytest.fixture
def folder(tmp_path) -> Path:
    """Sample plan 003, a real decision whose only table is not a task table, and bad files."""
    shutil.copy(PLAN_003, tmp_path / PLAN_003.name)
    shutil.copy(CORPUS / "2702-QD-UBND_0c462ec3.txt", tmp_path)
    (tmp_path / "broken.docx").write_bytes(b"this is not a zip package")
    (tmp_path / "empty.txt").write_bytes(b"")
    return tmp_path


def test_sample_plan_counts():
    report = check_document(PLAN_003, AgencyRegistry())
    assert report.status == "ok"
    assert (report.tasks, report.tasks_with_lead) == (19, 19)
    assert report.tables == 1 and report.non_task_tables == 0
    assert report.sections > 0 and report.clauses > 0
    assert report.deadlines_parsed >= 19 and report.deadlines_unparsed == 0
    other = check_document(PLAN_004, AgencyRegistry())
    assert other.number == "220/KH-UBND" and other.date == "2018-06-04"
    assert other.tasks == 17


def test_bad_files_are_turned_away_and_the_report_goes_on(folder):
    reports = {r.file: r for r in run_check([folder])}
    assert set(reports) == {PLAN_003.name, "2702-QD-UBND_0c462ec3.txt", "broken.docx", "empty.txt"}
    assert reports["broken.docx"].status == "turned_away"
    assert "không phải .docx hợp lệ" in reports["broken.docx"].error
    assert reports["empty.txt"].status == "turned_away" and "rỗng" in reports["empty.txt"].error
    assert reports[PLAN_003.name].status == "ok" and reports[PLAN_003.name].tasks == 19


def test_text_report_prints_rows_totals_and_refusals(folder):
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(x for x in lines if x.startswith("tệp "))
    line = next(x for x in lines if x.startswith(PLAN_003.name))

    def column(name: str) -> str:  # right-aligned under its header
        end = header.index(f" {name} ") + len(name) + 1
        return line[:end].split()[-1]

    assert (column("NV"), column("CT"), column("hạn-")) == ("19", "19", "0")
    broken = next(x for x in result.output.splitlines() if x.startswith("broken.docx"))
    assert "BỊ TỪ CHỐI" in broken and "không phải .docx hợp lệ" in broken
    assert "văn bản 4: đọc được 2, bị từ chối 2" in result.output


def test_json_shape(folder):
    result = CliRunner().invoke(main, ["check", "--json", str(folder)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"documents", "totals", "containers", "expect"} and data["expect"] is None
    doc = next(d for d in data["documents"] if d["file"] == PLAN_003.name)
    for key in ("kind", "number", "date", "issuer", "title", "sections", "clauses", "tasks", "tasks_with_lead",
                "non_task_tables", "deadlines_parsed", "deadlines_unparsed", "reporting_rules", "warnings"):
        assert key in doc
    assert doc["tasks_with_lead"] == 19
    assert data["totals"]["documents"] == 4 and data["totals"]["turned_away"] == 2
    bad = next(d for d in data["documents"] if d["file"] == "broken.docx")
    assert bad["status"] == "turned_away" and bad["error"]


def test_expect_scores_rows_and_counts_a_wrong_lead_wrong(folder):
    result = CliRunner().invoke(main, ["check", "--json", "--expect", str(SILVER), str(folder)])
    assert result.exit_code == 0
    scores = json.loads(result.stdout)["expect"]
    s = next(d for d in scores["documents"] if d["file"] == PLAN_003.name)
    # 4 silver rows: 3 in the plan (one with a wrong lead in the silver file), 1 invented.
    assert (s["expected"], s["found"], s["lead"], s["support"], s["deadline"]) == (4, 3, 2, 3, 3)
    misses = {(m["tt"], m["what"]) for m in s["misses"]}
    assert misses == {("18", "lead"), ("20", "not_found")}
    assert s["unmatched_tasks"] == 16 and s["invented"] is None
    decision = next(d for d in scores["documents"] if d["file"] == "2702-QD-UBND_0c462ec3.txt")
    assert decision["expected"] == 0 and decision["invented"] == 0
    assert scores["not_checked"] == ["310-KH-UBND_31786b08.txt"]
    assert scores["totals"]["expected"] == 4 and scores["totals"]["lead_pct"] == 50.0


def test_expect_text_report_and_usage_errors(folder, tmp_path):
    result = CliRunner().invoke(main, ["check", "-v", "--expect", str(SILVER), str(folder)])
    assert result.exit_code == 0
    assert "chủ trì đúng 50.0%" in result.output
    assert "TT 18" in result.output and "Sở Tài chính" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["check", "--expect", str(bad), str(folder)]).exit_code == 2
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert CliRunner().invoke(main, ["check", str(empty)]).exit_code == 2


def test_other_containers_are_scored_against_the_same_silver_rows():
    assert doc_key("310-KH-UBND_31786b08.scan.pdf") == doc_key("310-KH-UBND_31786b08.txt")
    reports = run_check([CORPUS / "310-KH-UBND_31786b08.txt", CORPUS / "310-KH-UBND_31786b08.docx"])
    scores = score_reports(reports, load_expectations(SILVER))
    by_file = {s["file"]: s for s in scores["documents"]}
    assert by_file["310-KH-UBND_31786b08.docx"]["expected"] == 6
    assert by_file["310-KH-UBND_31786b08.txt"]["found"] == 6
    assert set(scores["by_container"]) == {"txt", "docx"}
    (group,) = compare_containers(reports)
    assert group["reference"] == "310-KH-UBND_31786b08.txt" and group["rows"] == 6
    (docx,) = group["files"]
    assert docx["file"].endswith(".docx") and docx["found"] == 6


def test_agency_lists_compare_tolerantly():
    registry = AgencyRegistry()
    assert same_agencies("Sở Tài chính; Sở Nội vụ", "Sở Tài chính, Sở Nội vụ", [], registry)
    assert same_agencies("So Tai chinh va So Noi vu", "Sở Nội vụ; Sở Tài chính", [], registry)
    assert same_agencies("Sở Thông tin và Truyền thông", "Sở TT&TT", ["Sở Thông tin và Truyền thông"], registry)
    assert not same_agencies("Sở Tài chính", "Sở Y tế", ["Sở Y tế"], registry)
    assert not same_agencies("Sở Tài chính", "", [], registry)
    assert same_agencies("", "", [], registry)


def test_db_lends_its_agency_names_and_nothing_is_indexed(sample_db_copy):
    from store.database import Store

    plans_before = [p["file"] for p in Store(sample_db_copy, create=False).plans()]
    result = CliRunner().invoke(main, ["check", "--db", str(sample_db_copy), str(CORPUS / "310-KH-UBND_31786b08.txt")])
    assert result.exit_code == 0, result.output
    assert "văn bản 1: đọc được 1, bị từ chối 0" in result.output
    assert [p["file"] for p in Store(sample_db_copy, create=False).plans()] == plans_before


def test_metadata_doubts():
    from indexer.check import DocReport, meta_doubts

    good = DocReport("a.txt", "a.txt", "ok", kind="quyet_dinh", number="2597/QĐ-TTg", date="2025-11-27",
                     issuer="Thủ tướng Chính phủ", title="Quyết định phê duyệt Đề án chuyển đổi số")
    assert meta_doubts(good) == []
    referenced = DocReport("b.txt", "b.txt", "ok", kind="ke_hoach", number="139/NQ-CP", date="2018-06-04",
                           issuer="UBND tỉnh Bắc Ninh", title="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do")
    doubts = meta_doubts(referenced)
    assert len(doubts) == 2 and "139/NQ-CP" in doubts[0] and "tiêu đề" in doubts[1]
    assert check_document(PLAN_003, AgencyRegistry()).meta_doubts == []


def test_diff_against_a_previous_run(folder, tmp_path):
    first = CliRunner().invoke(main, ["check", "--json", "--expect", str(SILVER), str(folder)])
    previous = json.loads(first.stdout)
    doc = next(d for d in previous["documents"] if d["file"] == PLAN_003.name)
    number = doc["number"]
    doc["tasks"], doc["number"] = 18, "1/KH-UBND"
    doc["task_rows"][0]["lead_text"] = "Sở Tài chính"
    next(s for s in previous["expect"]["documents"] if s["file"] == PLAN_003.name)["lead"] = 3
    saved = tmp_path / "before.json"
    saved.write_text(json.dumps(previous, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--expect", str(SILVER), "--diff", str(saved), str(folder)])
    assert result.exit_code == 0, result.output
    diff_text = result.stdout.split("So với lần chạy trước (before.json):")[1]
    assert f"{PLAN_003.name}: number 1/KH-UBND → {number or '-'}, tasks 18 → 19, dòng nhiệm vụ đổi: chủ trì 1" in diff_text
    assert "lead 3 → 2" in diff_text and "3 tệp không đổi" in diff_text
    data = json.loads(CliRunner().invoke(main, ["check", "--json", "--diff", str(saved), str(folder)]).stdout)
    assert data["diff"]["documents"] == [{"file": PLAN_003.name, "changes": {"number": ["1/KH-UBND", number], "tasks": [18, 19], "task_rows": [None, {"lead_text": 1}]}}]
    assert CliRunner().invoke(main, ["check", "--diff", str(SILVER), str(folder)]).exit_code == 2
