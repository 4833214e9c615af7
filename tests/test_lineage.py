"""Lineage: which indexed plans implement a document, what a plan implements, replacements."""

from __future__ import annotations

from pathlib import Path

import pytest

from answering.lineage import document_answer, indexed_plan_docs, lineage_answer
from indexer.indexing import index_paths
from knowledge.lineage import DocRef, lineage_query, matches, number_key, parse_refs, relations
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
CORPUS_FILES = [
    "179-KH-UBND_f004d93b.txt",
    "2597-QD-TT_ec00bd6f.txt",
    "310-KH-UBND_31786b08.txt",
    "597-KH-UBND_689f49d2.txt",
    "2610-QD-UBND_ce4ad96d.txt",
    "2629-QD-TT_2edf5927.txt",
    "0204-KH-UBND_9b7eebad.txt",
]


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory) -> Store:
    """Sample plans and a few development-corpus documents, indexed without vectors."""
    folder = tmp_path_factory.mktemp("lineage")
    store = Store(folder / "planbot.db")
    reports = index_paths(store, [Path(__file__).resolve().parent.parent / "sample_plans"])
    reports += index_paths(store, [CORPUS / name for name in CORPUS_FILES])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    return store


# -- questions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "direction", "number"),
    [
        ("Kế hoạch nào thực hiện Chỉ thị 25-CT/TW?", "implementers", "25-CT/TW"),
        ("Ke hoach nao trien khai chi thi 25", "implementers", "25"),
        ("Những kế hoạch nào triển khai Nghị quyết số 57-NQ/TW?", "implementers", "57-NQ/TW"),
        ("Các văn bản đã cụ thể hóa Quyết định 942/QĐ-TTg", "implementers", "942/QĐ-TTg"),
        ("Kế hoạch 220 căn cứ văn bản nào?", "sources", "220"),
        ("Kế hoạch 220/KH-UBND thực hiện văn bản gì?", "sources", "220/KH-UBND"),
        ("Quyết định 2629/QĐ-TTg căn cứ vào đâu?", "sources", "2629/QĐ-TTg"),
        ("Chỉ thị 25-CT/TW được triển khai bằng những kế hoạch nào?", "implementers", "25-CT/TW"),
        ("Kế hoạch thực hiện Chỉ thị 25 là kế hoạch nào?", "implementers", "25"),
        ("Nghị quyết 57-NQ/TW đã được cụ thể hóa bằng văn bản nào?", "implementers", "57-NQ/TW"),
    ],
)
def test_lineage_questions_are_recognised(question, direction, number):
    query = lineage_query(question)
    assert query is not None and query.direction == direction
    assert number_key(query.target.number) == number_key(number)


@pytest.mark.parametrize(
    "question",
    [
        "Cơ quan nào lo hướng dẫn tuyên truyền, phổ biến Chỉ thị 25 để xã hội đồng thuận?",
        "Những kế hoạch nào yêu cầu báo cáo kết quả thực hiện hằng năm trước ngày 30 tháng 11?",
        "Sở Y tế thực hiện nhiệm vụ gì theo Kế hoạch 220?",
        "Những đề án, kế hoạch nào trong danh mục phải xong trong năm 2018?",
        "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
        "Chỉ thị 25 giao Sở Y tế làm gì?",
    ],
)
def test_other_questions_are_left_to_search(question):
    assert lineage_query(question) is None


def test_numbers_match_by_digits_and_codes():
    cited = DocRef("Chỉ thị", "25-CT/TW")
    assert matches(DocRef("Chỉ thị", "25/CT-TW"), cited)
    assert matches(DocRef("Chỉ thị", "25"), cited)
    assert not matches(DocRef("Nghị quyết", "25"), cited)
    assert not matches(DocRef("Chỉ thị", "99-CT/TW"), cited)
    assert not matches(DocRef("Chỉ thị", "25-CT/TU"), cited)


def test_references_and_declared_replacements():
    text = (
        "Căn cứ Nghị định số 45/2017/NĐ-CP ngày 21/4/2017 của Chính phủ; Quyết định số 3659/QĐ-BKHCN "
        "về việc sửa đổi, bổ sung Quyết định số 3212/QĐ-BKHCN ngày 17/10/2025. Kế hoạch này thay thế "
        "Kế hoạch số 076/KH-UBND ngày 30/8/2025 của UBND tỉnh."
    )
    assert [r.label for r in parse_refs(text)][:1] == ["Nghị định số 45/2017/NĐ-CP ngày 21/4/2017"]
    # the amendment is another decision's, not this plan's: only the replacement is declared
    assert [(n, r.number) for n, r in relations(text)] == [("thay thế", "076/KH-UBND")]
    assert relations("Sửa đổi, bổ sung Kế hoạch số 12/KH-UBND về y tế cơ sở", title=True)[0][1].number == "12/KH-UBND"


# -- over the index --------------------------------------------------------------------------------


def test_plans_implementing_a_directive(corpus_store):
    answer = lineage_answer(corpus_store, "Kế hoạch nào thực hiện Chỉ thị 25-CT/TW?")
    assert answer is not None and answer.answered and answer.intent == "lineage"
    assert "Các kế hoạch đã nạp thực hiện Chỉ thị 25-CT/TW (1)" in answer.answer
    assert "Chỉ thị số 25-CT/TW ngày 25/10/2023" in answer.answer and "UBND tỉnh Thanh Hóa" in answer.answer


def test_a_directive_no_plan_implements_is_declined(corpus_store):
    answer = lineage_answer(corpus_store, "Kế hoạch nào thực hiện Chỉ thị 99-CT/TW?")
    assert answer is not None and not answer.answered
    assert answer.answer == "Không có kế hoạch nào đã nạp thực hiện Chỉ thị 99-CT/TW."


def test_what_a_plan_implements(corpus_store):
    answer = lineage_answer(corpus_store, "Kế hoạch 220 căn cứ văn bản nào?")
    assert answer is not None and answer.answered
    for ref in ("Nghị quyết số 20-NQ/TW ngày 25/10/2017", "Nghị quyết số 139/NQ-CP ngày 31/12/2017",
                "Chương trình hành động số 46-CTr/TU ngày 26/01/2018"):
        assert ref in answer.answer
    missing = lineage_answer(corpus_store, "Kế hoạch 999 căn cứ văn bản nào?")
    assert missing is not None and not missing.answered and "Chưa nạp kế hoạch nào số 999" in missing.answer


def test_plans_of_the_development_corpus_implementing_one_resolution(corpus_store):
    answer = lineage_answer(corpus_store, "Những kế hoạch nào triển khai Nghị quyết 57-NQ/TW?")
    assert answer is not None and answer.answered
    for number in ("179/KH-UBND", "2597/QĐ-TTg", "2610/QĐ-UBND", "310/KH-UBND", "597/KH-UBND"):
        assert number in answer.answer.split("Có nhắc đến")[0]
    assert "Các kế hoạch đã nạp thực hiện Nghị quyết 57-NQ/TW (5)" in answer.answer


def test_replacement_declared_by_a_decision_is_linked(corpus_store):
    docs = {d.plan.number: d for d in indexed_plan_docs(corpus_store)}
    assert [(n, r.number) for n, r in docs["2629/QĐ-TTg"].relations] == [("thay thế", "942/QĐ-TTg")]
    assert [(n, r.number) for n, r in docs["0204/KH-UBND"].relations] == [("thay thế", "076/KH-UBND")]
    answer = lineage_answer(corpus_store, "Kế hoạch nào thực hiện Quyết định 942/QĐ-TTg?")
    assert "2610/QĐ-UBND" in answer.answer  # implements 942 …
    assert "2629/QĐ-TTg (Thủ tướng Chính phủ, 2025) thay thế Quyết định số 942/QĐ-TTg" in answer.answer


def test_vanban_answers_both_ways(corpus_store):
    own = document_answer(corpus_store, "220/KH-UBND")
    assert own.answered and "Nghị quyết số 20-NQ/TW" in own.answer
    upstream = document_answer(corpus_store, "177/KH-UBND")
    assert upstream.answered and "1750/KH-SYT" in upstream.answer
    nothing = document_answer(corpus_store, "12345/QĐ-XYZ")
    assert not nothing.answered and nothing.answer.startswith("Không có kế hoạch nào đã nạp thực hiện")
    assert "Cách dùng" in document_answer(corpus_store, "abc").answer


@pytest.mark.e2e
async def test_vanban_in_chat(emulator, bot_token, sample_db) -> None:
    from answering.knowledge_base import KnowledgeBase
    from bot.app import build_application
    from bot.settings import BotSettings
    from tests.emulator.fixtures import running_bot

    store = Store(sample_db)
    settings = BotSettings(
        data_dir=sample_db.parent, db_path=sample_db, plans_dir=sample_db.parent, model="",
        telegram_token=bot_token, telegram_base_url=emulator.base_url,
    )
    async with running_bot(build_application(settings, KnowledgeBase(store, None), store, None)):
        lan = emulator.private_user(bot_token, first_name="Lan")
        await lan.send_command("vanban", "25-CT/TW")
        [found] = await lan.wait_for_replies(1)
        await lan.send_command("vanban", "99-CT/TW")
        [none] = await lan.wait_for_replies(1)
    assert "Các kế hoạch đã nạp thực hiện Chỉ thị 25-CT/TW (1)" in found["text"]
    assert none["text"] == "Không có kế hoạch nào đã nạp thực hiện văn bản số 99-CT/TW."


def test_the_lineage_module_loads_without_the_plan_parser():
    """Every question goes through lineage first: importing it must not load the parser."""
    import subprocess
    import sys

    code = "import sys, answering.lineage; print('knowledge.parsing.parser' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
