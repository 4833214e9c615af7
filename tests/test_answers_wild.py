"""Answers on two plans written for these tests (tests/data/wild/answers_*): time windows within a
plan, reporting rules, honest declines, everyday wording. Lexical index, no model."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from answering.knowledge_base import KnowledgeBase
from indexer.indexing import index_paths
from knowledge.questions import intent as intents
from knowledge.questions.asked import MONEY, PERSON, PHONE, asked_kind
from store.database import Store
from tests.conftest import ROOT

WILD = ROOT / "tests" / "data" / "wild"
NOT_IN_PLANS = "Không có trong các kế hoạch đã nạp"


@pytest.fixture(scope="module")
def wild(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wild")
    for path in WILD.glob("answers_*.txt"):
        shutil.copy(path, folder)
    store = Store(folder / "index.db")
    reports = index_paths(store, [folder])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    yield KnowledgeBase(store, None, mode="lexical")
    store.close()


def texts(answer) -> list[str]:
    return [r.text for r in answer.shown_results]


def from_qb(answer) -> bool:
    return all(r.plan.file.startswith("answers_qb") for r in answer.shown_results)


# -- 3. time windows --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "start", "end", "mode", "months"),
    [
        (
            "Những việc nào phải xong trong tháng 01/2026?",
            date(2026, 1, 1),
            date(2026, 1, 31),
            "within",
            (),
        ),
        (
            "Những việc nào phải xong trong quý I/2026?",
            date(2026, 1, 1),
            date(2026, 3, 31),
            "within",
            (),
        ),
        ("Những nhiệm vụ nào có hạn từ năm 2027 trở đi?", date(2027, 1, 1), None, "after", ()),
        (
            "Những việc nào phải xong trước 31/12/2025?",
            None,
            date(2025, 12, 31),
            "before",
            (),
        ),  # by the end of 2025
        ("Những hoạt động nào diễn ra trong tháng 8 hoặc tháng 9?", None, None, "within", (8, 9)),
        (
            "Những nhiệm vụ nào phải hoàn thành trong năm 2026?",
            date(2026, 1, 1),
            date(2026, 12, 31),
            "within",
            (),
        ),
        (
            "Những nhiệm vụ nào thực hiện trong giai đoạn 2025 - 2030?",
            date(2025, 1, 1),
            date(2030, 12, 31),
            "within",
            (),
        ),
    ],
)
def test_window_forms(question, start, end, mode, months):
    period = intents.find_period(question)
    assert period is not None
    assert (period.start, period.end, period.mode, period.months) == (start, end, mode, months)


def test_a_period_naming_the_plan_is_no_window():
    assert (
        intents.find_period("Kế hoạch hỗ trợ lương thực giai đoạn 2025 - 2030 giao Sở Y tế làm gì?")
        is None
    )


def test_due_in_a_month_of_the_named_plan(wild):
    answer = wild.ask("Những việc nào trong Kế hoạch 214 phải xong trong tháng 01/2026?")
    assert answer.intent == intents.DUE and answer.answered and from_qb(answer)
    assert "Xuất cấp gạo dự trữ quốc gia" in answer.shown_results[0].text


def test_due_in_a_quarter(wild):
    answer = wild.ask("Những việc nào trong Kế hoạch 214 phải hoàn thành trong quý I/2026?")
    found = " ".join(texts(answer))
    assert from_qb(answer) and "trạm lọc nước sạch" in found and "Xuất cấp gạo" in found
    assert "kho dự trữ lương thực dự phòng" not in found  # Năm 2026 ends in December


def test_due_from_a_year_on(wild):
    answer = wild.ask("Kế hoạch 214 có những nhiệm vụ nào có hạn từ năm 2027 trở đi?")
    found = " ".join(texts(answer))
    assert "cảnh báo sớm lũ" in found and "Di dời dân cư" in found
    assert "Xuất cấp gạo" not in found


def test_due_before_a_day(wild):
    answer = wild.ask("Trong Kế hoạch 214, những việc nào phải xong trước 31/12/2025?")
    assert answer.answered and "lập danh sách hộ thiếu đói" in answer.shown_results[0].text
    assert "Xuất cấp gạo" not in " ".join(texts(answer))


def test_schedule_rows_in_months_without_a_year(wild):
    answer = wild.ask("Những đợt kiểm tra nào trong Kế hoạch 214 diễn ra vào tháng 8 hoặc tháng 9?")
    found = " ".join(texts(answer))
    assert "phương án cấp nước sạch khi ngập lụt" in found and "diễn tập phát gạo" in found
    assert "kho gạo dự trữ của các xã vùng trũng" not in found  # July


def test_a_year_keeps_to_the_named_plan(wild):
    answer = wild.ask("Những nhiệm vụ nào của Kế hoạch 214 phải hoàn thành trong năm 2026?")
    found = " ".join(texts(answer))
    assert from_qb(answer) and "kho dự trữ lương thực dự phòng" in found
    assert "cảnh báo sớm lũ" not in found  # 2027


def test_a_span_of_years_puts_the_same_span_first(wild):
    answer = wild.ask("Những nhiệm vụ nào có thời gian thực hiện giai đoạn 2025 - 2030?")
    assert answer.answered and "Di dời dân cư" in answer.shown_results[0].text


# -- 4. reporting -------------------------------------------------------------------------------
def test_reporting_gives_reporter_recipient_channel_period_and_day(wild):
    answer = wild.ask(
        "Ủy ban nhân dân các xã, phường báo cáo kết quả hỗ trợ lương thực vùng lũ gửi ai, kỳ nào, hạn ngày nào?"
    )
    assert answer.intent == intents.REPORTING and answer.answered
    head = answer.answer.split("\n")[0]
    for part in (
        "Ủy ban nhân dân các xã, phường",
        "Ủy ban nhân dân tỉnh",
        "qua Sở Nông nghiệp và Môi trường",
        "hằng quý",
        "20",
    ):
        assert part in head, (part, head)


def test_reporting_at_a_council_session(wild):
    answer = wild.ask(
        "Kết quả thực hiện kế hoạch hỗ trợ lương thực vùng lũ được báo cáo Hội đồng nhân dân tỉnh khi nào?"
    )
    assert answer.answered and "kỳ họp thường lệ cuối năm" in answer.answer


# -- 5. honest declines -------------------------------------------------------------------------
def test_value_kinds_asked():
    assert asked_kind("Kế hoạch bố trí bao nhiêu tiền để mua gạo?") == MONEY
    assert asked_kind("Kinh phí thực hiện là bao nhiêu?") == MONEY
    assert asked_kind("Số điện thoại đường dây nóng là số nào?") == PHONE
    assert asked_kind("Đồng chí nào ký kế hoạch?") == PERSON
    assert asked_kind("Ai chủ trì xây dựng hệ thống thư điện tử công vụ?") is None
    assert asked_kind("Ai phải bỏ tiền cho các ứng dụng IoT?") is None


@pytest.mark.parametrize(
    "question",
    [
        "Kế hoạch 214 bố trí bao nhiêu tiền để mua gạo cứu trợ người dân vùng lũ?",  # no amount given
        "Số điện thoại đường dây nóng tiếp nhận thông tin hộ thiếu đói sau lũ ở Quảng Bình là số nào?",  # none listed
        "Đồng chí nào ký Kế hoạch 214 về hỗ trợ lương thực vùng lũ?",  # the signature names no one
        "Ở Nghệ An, hạn xuất cấp gạo dự trữ quốc gia cứu trợ người dân vùng lũ là khi nào?",  # another province
        "Kế hoạch 214 giao ai chủ trì tuyên truyền bảo hiểm xã hội tự nguyện cho người dân vùng lũ?",  # not its subject
        "Địa chỉ email nhận báo cáo kết quả hỗ trợ lương thực vùng lũ của Quảng Bình là gì?",  # none given
        "Sở Y tế Quảng Bình có nhiệm vụ gì về bảo hiểm xã hội tự nguyện?",  # its duties are about water and disease
    ],
)
def test_what_the_plans_do_not_say_is_declined(wild, question):
    answer = wild.ask(question)
    assert not answer.answered and answer.answer.startswith(NOT_IN_PLANS)
    assert len(answer.shown_results) <= 3


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Ở Quảng Bình, hạn xuất cấp gạo dự trữ quốc gia cứu trợ người dân vùng lũ là khi nào?",
            "Tháng 01/2026",
        ),
        (
            "Sở Tài chính Nghệ An bố trí kinh phí hỗ trợ mức đóng bảo hiểm xã hội tự nguyện khi nào?",
            "Quý II/2026",
        ),
    ],
)
def test_the_same_questions_answered_where_the_plan_says_it(wild, question, expected):
    answer = wild.ask(question)
    assert answer.answered and answer.shown_results[0].deadline.text == expected


# -- 6. everyday wording ------------------------------------------------------------------------
def test_ai_lo_asks_the_lead(wild):
    answer = wild.ask("Ai lo việc làm trạm lọc nước cho các xã hay bị ngập?")
    assert answer.intent == intents.WHO_LEADS and answer.answered
    assert answer.shown_results[0].lead == ["Sở Xây dựng"] and answer.answer.startswith(
        "Chủ trì: Sở Xây dựng"
    )


def test_ben_nao_ho_tro_asks_the_support(wild):
    answer = wild.ask("Bên nào hỗ trợ việc lắp trạm lọc nước sạch ở các xã bị ngập?")
    assert answer.intent == intents.WHO_SUPPORTS and answer.answered
    assert answer.answer.startswith("Phối hợp: Sở Y tế")


def test_agency_names_with_typos(wild):
    answer = wild.ask("Sở Tài chín phải làm gì trong Kế hoạch 214?")
    assert answer.agency == "Sở Tài chính" and answer.answered
    assert "kho dự trữ lương thực dự phòng" in " ".join(texts(answer))
    names, _ = wild.agency_choices("BHXH tỉnh")
    assert names and names[0].startswith("Bảo hiểm xã hội")
    headless = wild.ask("Nông nghiệp và Môi trườg phải làm gì?")
    assert "Sở Nông nghiệp và Môi trường" in [headless.agency, *headless.candidates]


def test_a_named_plan_with_nothing_due_then_says_so(wild):
    answer = wild.ask("Những việc nào trong Kế hoạch 88 phải xong trong tháng 01/2026?")
    assert not answer.answered and answer.answer.startswith(NOT_IN_PLANS)
    assert all(r.plan.file.startswith("answers_na") for r in answer.shown_results)


def test_a_reporting_clause_with_a_time_answers_when_no_rule_was_read(wild):
    answer = wild.ask(
        "Bảo hiểm xã hội tỉnh Nghệ An báo cáo kết quả phát triển người tham gia bảo hiểm xã hội tự nguyện bao lâu một lần?"
    )
    assert answer.answered and "6 tháng" in answer.answer


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("Ai lo việc phát gạo cho dân vùng lũ?", intents.WHO_LEADS),
        ("Ai làm việc lập danh sách hộ thiếu đói?", intents.WHO_LEADS),
        ("Đơn vị nào lo việc xây kho dự trữ lương thực?", intents.WHO_LEADS),
        ("Cơ quan nào làm việc di dời dân cư khỏi vùng ngập sâu?", intents.WHO_LEADS),
        ("Bên nào hỗ trợ?", intents.WHO_SUPPORTS),
        ("Cơ quan nào phối hợp nâng cấp hệ thống cảnh báo sớm lũ?", intents.WHO_SUPPORTS),
        ("Ai chủ trì, cơ quan nào phối hợp lắp trạm lọc nước?", intents.WHO_LEADS),
    ],
)
def test_everyday_who_questions(question, intent):
    assert intents.detect(question, has_agency=False).name == intent


def test_in_the_appendix_keeps_to_the_plan_with_an_appendix(wild):
    answer = wild.ask("Những nhiệm vụ nào trong Phụ lục phải hoàn thành trong quý I/2026?")
    assert answer.answered and from_qb(answer)
    assert "trạm lọc nước sạch" in " ".join(texts(answer))


# -- pure pieces ----------------------------------------------------------------------------------
def test_windows_match_on_the_deadline_fields():
    from knowledge.dates import windows
    from knowledge.model import Deadline

    year_2026 = intents.find_period("Những việc nào phải hoàn thành trong năm 2026?")
    running = intents.find_period("Những việc nào thực hiện trong năm 2026?")
    span = Deadline("2025 - 2030", "range", date(2025, 1, 1), date(2030, 12, 31))
    assert (
        windows.match(Deadline("Năm 2026", "year", date(2026, 1, 1), date(2026, 12, 31)), year_2026)
        == windows.EXACT
    )
    assert (
        windows.match(
            Deadline("Quý II/2026", "quarter", date(2026, 4, 1), date(2026, 6, 30)), year_2026
        )
        == windows.DUE
    )
    assert windows.match(span, year_2026) is None  # ends in 2030: not to be finished in 2026
    assert windows.match(span, running) == windows.RUNS  # but it runs in 2026
    december = Deadline(
        "trước ngày 15/12 hằng năm",
        "recurring",
        date(2025, 1, 1),
        date(2030, 12, 31),
        "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=15",
    )
    assert (
        windows.match(december, intents.find_period("Việc gì đến hạn trong tháng 12/2026?"))
        == windows.RECURS
    )
    assert (
        windows.match(december, intents.find_period("Việc gì đến hạn trong tháng 12/2031?")) is None
    )  # after the plan
    assert (
        windows.match(Deadline("Hằng năm", "recurring", recurrence="FREQ=YEARLY"), year_2026)
        is None
    )  # no date


def test_report_header_reads_channel_period_and_due_event():
    from knowledge.questions.answer import PlanRef, Result, report_header

    plan = PlanRef(1, "Kế hoạch", "1/KH-UBND", "UBND tỉnh", None, "x.txt")
    rule = Result(
        plan,
        "reporting",
        "IV.2",
        "Ủy ban nhân dân tỉnh báo cáo Hội đồng nhân dân tỉnh kết quả thực hiện tại kỳ họp thường lệ cuối năm.",
        lead=["Ủy ban nhân dân tỉnh"],
        recipients=["Hội đồng nhân dân tỉnh"],
    )
    assert report_header(rule) == (
        "Báo cáo: Ủy ban nhân dân tỉnh → Hội đồng nhân dân tỉnh; hạn: tại kỳ họp thường lệ cuối năm."
    )


def test_an_agencys_duties_in_months_of_no_year(wild):
    answer = wild.ask("Sở Y tế phải làm gì trong tháng 8 hoặc tháng 9?")
    assert answer.intent == intents.DUTIES and answer.answered
    assert [r.text for r in answer.shown_results if r.role == "lead"] == [
        "Kiểm tra phương án cấp nước sạch khi ngập lụt"
    ]


def test_an_agencys_duties_on_a_subject_come_from_the_plan_speaking_of_it(wild):
    answer = wild.ask("Sở Tài chính có nhiệm vụ gì về hỗ trợ lương thực cho người dân vùng lũ?")
    assert answer.answered and answer.shown_results[0].plan.file.startswith(
        "answers_qb"
    )  # the newer plan after


def test_a_doer_the_plans_do_not_name_is_declined(wild):
    answer = wild.ask("Thông tin và Truyền thong phải làm gì?")  # no such agency in these plans
    assert not answer.answered and answer.answer.startswith(NOT_IN_PLANS)
    assert wild.ask("Lực lượng xung kích phải làm gì?").answered


# -- what the question asks of the first hit (a cycle, a deciding authority, a time) -----------
@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """A campaign plan with a published procedure (Lâm Đồng, tests/data/wild/answers2_*), beside
    the two plans above."""
    folder = tmp_path_factory.mktemp("campaign")
    for path in [*WILD.glob("answers_*.txt"), *WILD.glob("answers2_*.txt")]:
        shutil.copy(path, folder)
    store = Store(folder / "index.db")
    reports = index_paths(store, [folder])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    yield KnowledgeBase(store, None, mode="lexical")
    store.close()


def test_how_often_puts_the_rule_giving_a_cycle_first(campaign):
    answer = campaign.ask(
        "Các cơ quan báo cáo kết quả phong trào chung sức xây dựng nông thôn mới của Lâm Đồng"
        " bao lâu một lần?"
    )  # the procedure's heading holds more of these words; it gives no cycle
    assert answer.answered
    assert "Định kỳ 06 tháng" in answer.shown_results[0].text


def test_who_approves_is_the_labelled_deciding_authority(campaign):
    answer = campaign.ask(
        "Ai phê duyệt xét tặng danh hiệu thôn tiêu biểu chung sức xây dựng nông thôn mới ở Lâm Đồng?"
    )
    assert answer.answered
    top = answer.shown_results[0]  # "b) Cơ quan có thẩm quyền quyết định: …", not the steps
    assert "Chủ tịch Ủy ban nhân dân tỉnh" in top.text
    assert top.lead == ["Chủ tịch Ủy ban nhân dân tỉnh"]


def test_when_a_campaign_runs_shows_the_sentence_stating_it(campaign):
    answer = campaign.ask(
        "Thi đua làm đường giao thông nông thôn ở Lâm Đồng chạy trong những tháng nào?"
    )
    assert (
        answer.answered
    )  # the content item first (its time inherited), the sentence stating it next
    assert any("từ tháng 5 năm 2026 đến hết tháng 9 năm 2026" in t for t in texts(answer)[:2])


def test_an_agencys_due_items_are_its_own(campaign):
    answer = campaign.ask(
        "Sở Nội vụ phải hoàn thành những nhiệm vụ nào mình chủ trì trước hết tháng 6/2026?"
    )
    assert answer.answered  # not Sở Tài chính's item due 30/6/2026, however near its words
    for r in answer.shown_results:
        assert "Sở Nội vụ" in " ".join([r.text, *r.lead, *r.support]), r.text


def test_duties_asked_when_list_first_the_plan_giving_times(campaign):
    # two plans of 2026 (Nghệ An: its one duty dated; Lâm Đồng: one of two), then Quảng Bình's of 2025
    answer = campaign.ask("Sở Tài chính chủ trì những việc gì, hạn khi nào?")
    assert answer.answered
    files = [r.plan.file[:10] for r in answer.shown_results]
    assert files[0] == "answers_na" and files[-1] == "answers_qb", files


def test_an_agencys_own_duties_before_those_it_leads_with_many(campaign):
    answer = campaign.ask("Sở Tài chính có trách nhiệm gì theo Kế hoạch 517/KH-UBND?")
    assert answer.answered
    first = answer.shown_results[0]  # not the ceremony three departments lead together
    assert first.lead == ["Sở Tài chính"] and "bố trí kinh phí khen thưởng" in first.text
