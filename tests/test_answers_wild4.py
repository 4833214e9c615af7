"""Questions of the weak kinds (time windows, an agency's duties, everyday wording) on a plan
nobody tuned on (issue 17 round 2): a province's disaster plan written for these tests
(tests/data/wild/answers4_*), indexed among the other written plans; questions and gold in
tests/data/wild/answers4_questions.jsonl, written before any output was looked at. Lexical
index, no model."""

from __future__ import annotations

import json
import shutil

import pytest

from answering.dated import asks_topic
from answering.knowledge_base import KnowledgeBase
from indexer.indexing import index_paths
from knowledge.questions.intent import find_period
from store.database import Store
from tests.conftest import ROOT

WILD = ROOT / "tests" / "data" / "wild"
QUESTIONS = [
    json.loads(line)
    for line in (WILD / "answers4_questions.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ln")
    for pattern in ("answers4_*.txt", "answers3_*.txt", "answers_*.txt"):
        for path in WILD.glob(pattern):
            shutil.copy(path, folder)
    store = Store(folder / "index.db")
    reports = index_paths(store, [folder])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    yield KnowledgeBase(store, None, mode="lexical")
    store.close()


def _golds(row: dict) -> list[dict]:
    return row["gold"] if isinstance(row["gold"], list) else [row["gold"]]


@pytest.mark.parametrize("row", QUESTIONS, ids=[f"{r['kind']}:{r['q'][:40]}" for r in QUESTIONS])
def test_the_first_result_is_a_gold_item_of_the_plan(plans, row):
    answer = plans.ask(row["q"])
    assert answer.answered, answer.answer
    first = answer.shown_results[0]
    assert first.plan.file == row["doc"], (first.plan.file, first.text)
    assert any(g["task_substring"] in first.text for g in _golds(row)), first.text


@pytest.mark.parametrize(
    "row",
    [r for r in QUESTIONS if isinstance(r["gold"], list) and len(r["gold"]) > 1],
    ids=lambda r: r["q"][:40],
)
def test_every_gold_item_is_among_the_first_five(plans, row):
    shown = " | ".join(r.text for r in plans.ask(row["q"]).results[:5])
    for gold in _golds(row):
        assert gold["task_substring"] in shown, gold["task_substring"]


def test_a_line_stating_only_a_time_comes_after_the_steps_it_closes(plans):
    # "Bước 2 … Thời gian hoàn tất: …" read as its own item says nothing of what to do
    answer = plans.ask(
        "Những bước nào trong kế hoạch hỗ trợ nhà ở phải hoàn tất trước ngày 31/8/2014?"
    )
    assert answer.answered, answer.answer
    assert "hiện trạng nhà ở" in answer.shown_results[0].text


def test_bo_nao_asks_for_a_ministry(plans):
    answer = plans.ask("Việc lập quỹ hỗ trợ hộ nghèo làm nhà do bộ nào đảm nhận?")
    assert answer.answered, answer.answer
    assert answer.shown_results[0].lead[0].startswith("Bộ"), answer.shown_results[0].lead


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Những nhiệm vụ nào có thời gian thực hiện giai đoạn 2025 - 2030?", False),
        ("Những nhiệm vụ nào trong Phụ lục phải hoàn thành trong năm 2026?", False),
        ("Những việc nào phải xong trước 01/7/2025?", False),
        ("Kế hoạch 86/KH-UBND có việc gì phải hoàn thành trong quý II/2026 về nhà ở?", True),
        ("Những đợt kiểm tra nào diễn ra vào tháng 8 hoặc tháng 9?", True),
    ],
)
def test_a_window_question_without_a_subject_puts_no_search_hit_first(question, topic):
    # with no subject, the window's own items (the same span first) lead, not a search hit
    # on "thực hiện", "giai đoạn"
    period = find_period(question)
    assert period is not None and asks_topic(question, period.text) is topic
