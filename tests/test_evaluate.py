"""`planbot eval`: the product beside a plain BM25 over paragraphs, with the scorer's semantics."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from answering.evaluate import (
    ParagraphBM25,
    agency_ok,
    aggregate,
    deadline_ok,
    falls_below,
    format_comparison,
    score_one,
)
from planbot.cli import main
from tests.conftest import SEED


@pytest.fixture(autouse=True)
def lexical_cli(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANBOT_MODEL", str(tmp_path / "no-model"))


def _answer(texts, answered=True, **first):
    results = [{"text": t, "lead": [], "support": [], "recipients": [], "deadline": None} for t in texts]
    if results:
        results[0].update(first)
    return {"answered": answered, "results": results}


def test_a_gold_item_is_found_on_nfc_casefolded_space_collapsed_text():
    question = {"kind": "who_leads", "gold": {"task_substring": "Triển khai  Nền tảng hóa đơn"}}
    decomposed = "Khác", "TRIỂN KHAI nền\ttảng HÓA ĐƠN điện tử"
    row = score_one(question, _answer([decomposed[0], __import__("unicodedata").normalize("NFD", decomposed[1])]))
    assert row["rank"] == 2 and row["r1"] == 0.0 and row["r5"] == 1.0 and row["mrr"] == 0.5


def test_list_recall_and_declines():
    question = {"kind": "agency_duties", "gold": [{"task_substring": "việc A"}, {"task_substring": "việc B"}]}
    row = score_one(question, _answer(["làm việc A", "không liên quan"], answered=False))
    assert row["list_recall"] == 0.5 and row["false_decline"]
    unanswerable = {"kind": "unanswerable", "gold": None}
    assert score_one(unanswerable, _answer(["gần đúng"], answered=False))["declined"] is True
    assert score_one(unanswerable, _answer(["gần đúng"]))["declined"] is False
    table = aggregate([row, score_one(unanswerable, _answer([], answered=False))])
    assert table["overall"]["declined"] == 1.0 and table["overall"]["list_recall"] == 0.5


def test_agency_and_deadline_judged_on_the_first_hit():
    hit = {"lead": ["Bảo hiểm xã hội tỉnh"], "support": ["Sở Y tế"], "recipients": [],
           "deadline": {"text": "Trước 01/7/2025", "end": "2025-07-01"}}
    assert agency_ok("BHXH tỉnh, Sở Y tế", hit) is True
    assert agency_ok("Sở Nội vụ", hit) is False
    assert deadline_ok("Trước ngày 01/7/2025", hit) is True
    assert deadline_ok("Quý IV/2026", hit) is False
    question = {"kind": "who_leads", "gold": {"task_substring": "x", "agency": "Sở Y tế", "deadline_text": "2026"}}
    row = score_one(question, _answer(["x"], lead=["Sở Y tế"], deadline={"text": "Năm 2026"}))
    assert row["agency_ok"] is True and row["deadline_ok"] is True


def test_plain_bm25_finds_the_line_with_the_rare_words():
    bm25 = ParagraphBM25(["I. MỤC ĐÍCH\nTổ chức tiêm chủng mở rộng\n\nXây dựng kho dữ liệu BIM quốc gia", "Nơi nhận: như trên"])
    assert bm25.search("kho du lieu BIM", limit=1) == ["Xây dựng kho dữ liệu BIM quốc gia"]
    assert bm25.answer("tiêm chủng")["answered"] is True


def test_falls_below_compares_recall_at_5():
    good = {"overall": {"recall@5": 0.9}}
    bad = {"overall": {"recall@5": 0.5}}
    assert falls_below(bad, good) and not falls_below(good, bad) and not falls_below(good, good)
    text = format_comparison(aggregate([{"kind": "x", "unanswerable": False, "r1": 1.0, "r5": 1.0, "mrr": 1.0,
                                         "list_recall": 1.0, "false_decline": False}]),
                             aggregate([{"kind": "x", "unanswerable": False, "r1": 0.0, "r5": 1.0, "mrr": 0.5,
                                         "list_recall": 1.0, "false_decline": False}]))
    assert "1.000 / 0.000" in text and "BM25" in text


def test_cli_eval_shows_the_baseline_and_passes_on_seed_questions(sample_db):
    out = CliRunner().invoke(main, ["eval", "--db", str(sample_db), "--mode", "lexical", "--today", "2025-06-15", str(SEED)])
    assert out.exit_code == 0, out.output
    assert "product / BM25 over paragraphs" in out.output and "overall" in out.output


def test_cli_eval_fails_loudly_when_plain_search_does_better(sample_db, tmp_path):
    # The recipients block of a plan ("Nơi nhận:") is no plan item: plain search finds it, the
    # product does not — so the product's R@5 is below the baseline's and the command fails.
    questions = tmp_path / "q.jsonl"
    line = {"kind": "search", "q": "nơi nhận", "gold": {"task_substring": "Nơi nhận"}}
    questions.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["eval", "--db", str(sample_db), "--mode", "lexical", "--json", str(questions)])
    table = json.loads(out.stdout)
    assert table["baseline"]["overall"]["recall@5"] == 1.0
    assert table["product"]["overall"]["recall@5"] == 0.0
    assert out.exit_code == 1
