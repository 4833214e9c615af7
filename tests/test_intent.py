"""Question understanding (knowledge.questions.intent, knowledge.orgs.names): pure, no index needed."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.orgs.agencies import AgencyRegistry
from knowledge.orgs.names import (
    bare_level_head,
    find_provinces,
    level_options,
    named_agency,
    plan_province,
    plausible,
    without_province,
)
from knowledge.questions.intent import DUE, DUTIES, REPORTING, WHO_LEADS, detect, find_period

TODAY = date(2025, 6, 18)  # a Wednesday


# -- a year that names the plan is no due-date filter ----------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "Sở Y tế Đồng Nai chủ trì những nhiệm vụ nào trong Kế hoạch 179 về kinh tế số giai đoạn 2026-2030?",
        "Kế hoạch triển khai chương trình phòng, chống ma túy đến năm 2030 giao ai chủ trì truyền thông?",
        "Cơ quan nào chủ trì Kế hoạch truyền thông về giảm nghèo năm 2025 của Cần Thơ?",
        "Kế hoạch tài chính 03 năm 2026 - 2028 giao Sở Tài chính những nhiệm vụ nào?",
        "Theo chiến lược phát triển đến năm 2030, tầm nhìn 2045, ai chủ trì?",
    ],
)
def test_a_period_naming_the_plan_is_not_a_filter(question):
    assert find_period(question, TODAY) is None


@pytest.mark.parametrize(
    ("question", "start", "end", "mode"),
    [
        ("Những nhiệm vụ nào phải hoàn thành trước 01/7/2025?", None, date(2025, 6, 30), "before"),
        ("Việc gì phải xong đến hết năm 2025?", None, date(2025, 12, 31), "before"),
        ("Nhiệm vụ nào có hạn hoàn thành tháng 6/2026?", date(2026, 6, 1), date(2026, 6, 30), "within"),
        ("Những việc nào phải xong trong quý III/2025?", date(2025, 7, 1), date(2025, 9, 30), "within"),
        ("Quý III/2024 có việc gì đến hạn?", date(2024, 7, 1), date(2024, 9, 30), "within"),
        ("kế hoạch giai đoạn 2026 - 2030, việc nào hạn trong năm 2026", date(2026, 1, 1), date(2026, 12, 31), "within"),
        ("nhiệm vụ nào đến hạn từ 01/01/2024 đến 31/12/2024", date(2024, 1, 1), date(2024, 12, 31), "within"),
        ("nhiem vu nao den han tu 01/01/2024 den 31/12/2024", date(2024, 1, 1), date(2024, 12, 31), "within"),
        ("Nhiệm vụ nào đã quá hạn?", None, date(2025, 6, 17), "overdue"),
        ("Việc gì đến hạn tuần này?", date(2025, 6, 16), date(2025, 6, 22), "within"),
        ("tuan sau co viec gi den han", date(2025, 6, 23), date(2025, 6, 29), "within"),
        ("Tháng sau phải làm gì?", date(2025, 7, 1), date(2025, 7, 31), "within"),
        ("Quý tới có nhiệm vụ nào đến hạn?", date(2025, 7, 1), date(2025, 9, 30), "within"),
    ],
)
def test_due_date_filters_only_when_asked(question, start, end, mode):
    period = find_period(question, TODAY)
    assert period is not None, question
    assert (period.start, period.end, period.mode) == (start, end, mode)


def test_a_range_keeps_the_users_words():
    assert find_period("việc đến hạn từ 01/01/2024 đến 31/12/2024", TODAY).text == "01/01/2024 đến 31/12/2024"


# -- intents -----------------------------------------------------------------------------------
def test_report_named_but_who_leads_is_not_the_reporting_path():
    assert detect("Ai chủ trì xây dựng báo cáo đánh giá kết quả thực hiện?", False).name == WHO_LEADS
    assert detect("Báo cáo kết quả gửi cho ai, bao lâu một lần?", False).name == REPORTING
    assert detect("UBND cấp xã báo cáo kết quả cho cơ quan nào?", True).name == REPORTING


def test_list_and_duty_intents():
    assert detect("Sở Y tế chủ trì những nhiệm vụ nào trong Kế hoạch 179?", True).name == DUTIES
    assert detect("Nhiệm vụ nào phải xong trong tháng 11/2025?", False).name == DUE
    # a list question naming an agency and a due date goes to the due path (agency as a filter)
    assert detect("Nhiệm vụ nào do Sở Tài chính chủ trì phải xong trong năm 2025?", True).name == DUE


# -- names: provinces, levels, agencies we do not know -------------------------------------------
def test_provinces_in_questions_and_plans():
    assert find_provinces("Sở Y tế Bắc Ninh và UBND TP.HCM, tp hcm, Đồng Nai") == ["Bắc Ninh", "TP. Hồ Chí Minh", "Đồng Nai"]
    assert find_provinces("so y te dong nai") == ["Đồng Nai"]
    head = "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN\nSố: 982/KH-UBND\nNghệ An, ngày 10 tháng 11 năm 2025\nKẾ HOẠCH"
    assert plan_province(head) == "Nghệ An"
    assert plan_province("THỦ TƯỚNG CHÍNH PHỦ\nSố: 2597/QĐ-TTg\nHà Nội, ngày 27 tháng 11 năm 2025") is None


def test_province_is_not_part_of_the_agency():
    assert without_province("Sở Y tế tỉnh Bắc Ninh") == "Sở Y tế"
    assert without_province("Sở Giáo dục và Đào tạo TP.HCM") == "Sở Giáo dục và Đào tạo"
    assert without_province("Sở Y tế") == "Sở Y tế"


def test_ubnd_or_bhxh_alone_has_no_level():
    assert bare_level_head("UBND phải làm gì?") == "uy ban nhan dan"
    assert bare_level_head("bhxh lam gi") == "bao hiem xa hoi"
    assert bare_level_head("UBND tỉnh phải làm gì?") is None
    assert bare_level_head("UBND cấp xã báo cáo cho ai?") is None
    assert bare_level_head("BHXH Thành phố phối hợp làm gì?") is None
    # the issuer code of a document number names no agency asked about
    assert bare_level_head("Sở Nội vụ phải làm gì theo Kế hoạch 179/KH-UBND?") is None
    assert bare_level_head("Sở Y tế làm gì theo Nghị quyết 57/2025/NQ-HĐND và KH số 12/KH-UBND?") is None
    known = ["Ủy ban nhân dân xã, phường", "Ủy ban nhân dân tỉnh", "Sở Y tế", "Ủy ban nhân dân huyện"]
    assert level_options("uy ban nhan dan", known) == ["Ủy ban nhân dân tỉnh", "Ủy ban nhân dân huyện", "Ủy ban nhân dân xã, phường"]


def test_common_words_and_other_levels_are_not_agencies():
    registry = AgencyRegistry()
    question = "Bộ KH&CN chủ trì xây dựng hệ thống email công vụ, hạn khi nào?"
    assert "Sở Khoa học và Công nghệ" not in [m.name for m in plausible(question, registry.match_query(question))]
    question = "Sở Khoa học và Công nghệ chủ trì việc gì?"
    assert [m.name for m in plausible(question, registry.match_query(question))][:1] == ["Sở Khoa học và Công nghệ"]


def test_an_agency_named_in_a_question():
    assert named_agency("Sở Du lịch Hà Nội phải làm gì?") == "Sở Du lịch Hà Nội"
    assert named_agency("Cục Hàng hải có nhiệm vụ gì?") == "Cục Hàng hải"
    assert named_agency("ai chủ trì tổ chức hội nghị?") is None


# -- /hanchot arguments (bot.periods, pure): the same calendar as free-text questions ------------
@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("từ 01/01/2025 đến 30/06/2025", date(2025, 1, 1), date(2025, 6, 30)),
        ("tu thang 1/2025 den thang 3/2025", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025-07-01", date(2025, 7, 1), date(2025, 7, 1)),
        ("quá hạn", None, date(2025, 6, 17)),
        ("tuần này", date(2025, 6, 16), date(2025, 6, 22)),
        ("tuan sau", date(2025, 6, 23), date(2025, 6, 29)),
        ("quý tới", date(2025, 7, 1), date(2025, 9, 30)),
    ],
)
def test_hanchot_periods(text, start, end):
    from bot.periods import parse_period

    period = parse_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


def test_hanchot_rejects_a_backwards_range():
    from bot.periods import parse_period

    with pytest.raises(ValueError):
        parse_period("từ 30/06/2025 đến 01/01/2025", TODAY)
