"""Answers that hold on plans nobody tuned on (issue 17): a plan named by its topic among several
plans on that topic, a plan named by the document it implements (whose number another plan
carries as its own), a document number read as no time window, "giữ vai trò gì" as a duties
question. Three plans of one province written for these tests (tests/data/wild/answers3_*);
lexical index, no model."""

from __future__ import annotations

import shutil

import pytest

from answering.knowledge_base import KnowledgeBase
from indexer.indexing import index_paths
from knowledge.questions import intent as intents
from knowledge.questions.intent import find_period
from store.database import Store
from tests.conftest import ROOT

WILD = ROOT / "tests" / "data" / "wild"


@pytest.fixture(scope="module")
def tq(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tq")
    for path in WILD.glob("answers3_*.txt"):
        shutil.copy(path, folder)
    store = Store(folder / "index.db")
    reports = index_paths(store, [folder])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    yield KnowledgeBase(store, None, mode="lexical")
    store.close()


def first(answer) -> str:
    assert answer.answered, answer.answer
    return answer.shown_results[0].text


def test_a_plan_named_by_its_topic_lists_its_duties_first(tq):
    answer = tq.ask("Sở Khoa học và Công nghệ làm gì trong kế hoạch chuyển đổi số ngành y tế?")
    assert "hồ sơ sức khỏe điện tử" in first(answer) or "khám chữa bệnh từ xa" in first(answer)
    answer = tq.ask(
        "Sở Khoa học và Công nghệ có nhiệm vụ gì trong kế hoạch chuyển đổi số nông nghiệp?"
    )
    assert answer.shown_results[0].plan.file.startswith("answers3_tq_cds_nong_nghiep")


def test_a_plan_named_by_the_resolution_it_implements(tq):
    # plan 12/KH-UBND exists, but "kế hoạch thực hiện Nghị quyết 12" is the plan implementing it
    answer = tq.ask(
        "Sở Khoa học và Công nghệ phải làm gì trong kế hoạch thực hiện Nghị quyết 12-NQ/TU?"
    )
    assert "thuyết minh tự động" in first(answer)
    assert tq.plan_focus(
        "Kế hoạch thực hiện Nghị quyết 12 giao Sở Tài chính việc gì?"
    ).plans == frozenset({answer.shown_results[0].plan.id})


def test_a_plan_named_by_its_own_number_is_still_that_plan(tq):
    answer = tq.ask("Sở Khoa học và Công nghệ phải làm gì theo Kế hoạch 12/KH-UBND?")
    assert answer.shown_results[0].plan.file.startswith("answers3_tq_cds_nong_nghiep")
    results = tq.ask("Báo cáo kết quả thực hiện Kế hoạch 12 gửi về đâu?").shown_results
    assert results and results[0].plan.file.startswith("answers3_tq_cds_nong_nghiep")


def test_a_document_number_is_no_time_window():
    assert (
        find_period("Theo kế hoạch thực hiện Thông tư 09/2013/TT-BXD, Sở Tài chính phải làm gì?")
        is None
    )
    assert find_period("Những việc nào phải xong trong tháng 09/2026?") is not None


def test_an_agencys_role_is_a_duties_question(tq):
    assert (
        intents.detect("Bảo hiểm xã hội tỉnh giữ vai trò gì trong chuyển đổi số y tế?", True).name
        == intents.DUTIES
    )
    answer = tq.ask("Bảo hiểm xã hội tỉnh giữ vai trò gì trong chuyển đổi số y tế?")
    assert "Liên thông dữ liệu thanh toán" in first(answer)


def test_a_plan_name_runs_on_over_giao_thong(tq):
    from knowledge.questions.plan_resolver import read

    asked = read("Sở Xây dựng làm gì trong kế hoạch chuyển đổi số giao thông?", tq.catalog())
    assert "giao_thong" in asked.terms
    assert read("Kế hoạch 47 giao Sở Y tế việc gì?", tq.catalog()).spans == ("Kế hoạch 47",)


def test_a_number_written_with_another_issuer_is_the_document_a_plan_implements(tq):
    # 12/KH-UBND is a plan of the province's people's committee; "Nghị quyết 12 của Tỉnh ủy",
    # "12-NQ/TU" is the resolution the tourism plan implements
    for question in (
        "Sở Tài chính phải làm gì theo Nghị quyết 12-NQ/TU?",
        "Sở Tài chính phải làm gì theo Nghị quyết 12 của Ban Chấp hành Đảng bộ tỉnh?",
    ):
        assert "hộ làm du lịch cộng đồng" in first(tq.ask(question)), question
    own = tq.ask("Sở Tài chính phải làm gì theo Kế hoạch 12 của UBND tỉnh Tuyên Quang?")
    assert own.shown_results[0].plan.file.startswith("answers3_tq_cds_nong_nghiep")


def test_a_plan_implementing_another_named_in_its_preamble(tq):
    # the district plan's title names no document; its preamble says it implements KH 47
    answer = tq.ask("Trung tâm Y tế huyện làm gì trong kế hoạch thực hiện Kế hoạch 47 của tỉnh?")
    assert answer.answered, answer.answer
    assert any("đặt lịch khám qua điện thoại" in r.text for r in answer.shown_results)
    assert all(r.plan.file.startswith("answers3_tq_huyen") for r in answer.shown_results)
    own = tq.ask("Sở Khoa học và Công nghệ phải làm gì theo Kế hoạch 47/KH-UBND?")
    assert own.shown_results[0].plan.file.startswith("answers3_tq_cds_y_te")


def test_an_item_sharing_only_its_plans_title_words_comes_after_one_on_the_question(tq):
    question = "Ở Sơn Dương, ai hướng dẫn dân cài sổ sức khỏe điện tử khi ứng dụng công nghệ số trong khám bệnh, chữa bệnh?"
    assert "sổ sức khỏe điện tử" in first(tq.ask(question))


def test_a_year_ending_a_plans_name_is_no_due_window():
    assert find_period("Sở Công Thương làm gì trong kế hoạch kinh tế số năm 2027?") is None
    assert (
        find_period("Những nhiệm vụ nào trong kế hoạch kinh tế số phải xong trong năm 2027?")
        is not None
    )


def test_a_plan_running_to_a_year_is_named_by_any_year_it_runs():
    from knowledge.questions.plan_resolver import Catalog, profile, read, resolve

    drugs = profile(
        1,
        "Kế hoạch phòng, chống ma túy đến năm 2030 trên địa bàn tỉnh Tuyên Quang",
        "5/KH-UBND",
        "UBND tỉnh Tuyên Quang",
        2025,
        "",
    )
    tourism = profile(
        2,
        "Kế hoạch phát triển du lịch cộng đồng năm 2025",
        "9/KH-UBND",
        "UBND tỉnh Tuyên Quang",
        2025,
        "",
    )
    catalog = Catalog([drugs, tourism])
    found = resolve(
        read("Công an tỉnh làm gì trong kế hoạch phòng chống ma túy năm 2027?", catalog), catalog
    )
    assert found.plans == frozenset({1}) and not found.missing
    gone = resolve(
        read("Sở Văn hóa làm gì trong kế hoạch phát triển du lịch cộng đồng năm 2027?", catalog),
        catalog,
    )
    assert gone.missing  # the tourism plan is of 2025 only


def test_an_agencys_duty_on_the_questions_subject_comes_first_whatever_its_role(tq):
    answer = tq.ask("Sở Y tế có nhiệm vụ gì về tập huấn kỹ năng số cho nhân viên y tế cơ sở?")
    assert "tập huấn kỹ năng số" in first(answer)
    answer = tq.ask("Sở Tài chính có nhiệm vụ gì về thu hút đầu tư vào du lịch cộng đồng?")
    assert "hộ làm du lịch cộng đồng" in first(answer)
