"""knowledge.questions.plan_resolver: which indexed plan a question means, on plan metadata written here
(number, title, issuer, year and the start of the text, as the index holds them)."""

from __future__ import annotations

import pytest

from knowledge.questions.plan_abbreviations import expand, learn
from knowledge.questions.plan_catalog import Catalog, profile
from knowledge.questions.plan_resolver import read, resolve

PLANS = [
    # (id, title, number, issuer, year, head)
    (
        1,
        "Kế hoạch cải cách hành chính năm 2026 trên địa bàn tỉnh Đồng Tháp",
        "141/KH-UBND",
        "UBND tỉnh Đồng Tháp",
        2025,
        "ỦY BAN NHÂN DÂN TỈNH ĐỒNG THÁP\nSố: 141/KH-UBND\nĐồng Tháp, ngày 20 tháng 12 năm 2025\n"
        "KẾ HOẠCH\nCải cách hành chính năm 2026 trên địa bàn tỉnh Đồng Tháp",
    ),
    (
        2,
        "Kế hoạch cải cách hành chính năm 2025 của thành phố Cần Thơ",
        "88/KH-UBND",
        "UBND thành phố Cần Thơ",
        2024,
        "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ\nSố: 88/KH-UBND\nKẾ HOẠCH\nCải cách hành chính năm 2025",
    ),
    (
        3,
        "Kế hoạch chuyển đổi số năm 2026 của thành phố Cần Thơ",
        "141/KH-UBND",
        "UBND thành phố Cần Thơ",
        2026,
        "ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ\nSố: 141/KH-UBND\nKẾ HOẠCH\nChuyển đổi số năm 2026. "
        "Mục tiêu: phát triển chính quyền số, kinh tế số, xã hội số; Chuyển đổi số (CĐS) toàn diện.",
    ),
    (
        4,
        "Nghị quyết ban hành Chương trình hành động của Chính phủ về phát triển khoa học, công nghệ, "
        "đổi mới sáng tạo và chuyển đổi số quốc gia",
        "03/NQ-CP",
        "Chính phủ",
        2025,
        "CHÍNH PHỦ\nSố: 03/NQ-CP\nNGHỊ QUYẾT\nBan hành Chương trình hành động của Chính phủ",
    ),
    (
        5,
        "Kế hoạch thực hiện Quyết định số 1899/QĐ-TTg ngày 04/9/2025 của Thủ tướng Chính phủ về phòng thủ dân sự",
        "980/KH-UBND",
        "UBND tỉnh Nghệ An",
        2025,
        "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN\nSố: 980/KH-UBND\nKẾ HOẠCH\nThực hiện Quyết định số 1899/QĐ-TTg",
    ),
    (
        6,
        "Quyết định về việc phê duyệt Đề án",
        "25/QĐ-UBND",
        "UBND tỉnh Sơn La",
        2026,
        "ỦY BAN NHÂN DÂN TỈNH SƠN LA\nSố: 25/QĐ-UBND\nQUYẾT ĐỊNH\nĐiều 1. Phê duyệt Đề án nâng cao năng lực "
        "phòng, chống thiên tai dựa vào cộng đồng giai đoạn 2026 - 2030 (sau đây gọi tắt là Đề án) "
        "với các nội dung sau.",
    ),
    (
        7,
        "Kế hoạch xây dựng hệ thống thông tin quy hoạch",
        "2820/QĐ-UBND",
        "UBND thành phố Hồ Chí Minh",
        2025,
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH\nSố: 2820/QĐ-UBND\nKẾ HOẠCH\nXây dựng, vận hành cơ sở "
        "dữ liệu quy hoạch (CSDLQH) của Thành phố và kết nối với hệ thống quốc gia.",
    ),
    (
        8,
        "Kế hoạch triển khai thi hành Luật Việc làm",
        "172/KH-UBND",
        "UBND thành phố Hồ Chí Minh",
        2025,
        "Số: 172/KH-UBND\nKẾ HOẠCH\nTriển khai thi hành Luật Việc làm trên địa bàn Thành phố",
    ),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(profile(*p) for p in PLANS)


def named(catalog: Catalog, question: str, known=lambda word: False):
    return resolve(read(question, catalog), catalog, known)


@pytest.mark.parametrize(
    ("question", "plans"),
    [
        ("Kế hoạch 141/KH-UBND của Đồng Tháp giao Sở Nội vụ làm gì?", {1}),
        ("kế hoạch 141 của Cần Thơ có những nhiệm vụ nào?", {3}),
        ("Theo KH 141, ai chủ trì?", {1, 3}),  # two plans with that number: both, the user picks
        ("Nghị quyết số 03/NQ-CP giao Bộ Y tế gì?", {4}),
        ("NQ 03 giao Bộ Y tế gì?", {4}),
        ("Quyết định 2820 yêu cầu báo cáo khi nào?", {7}),
        ("Kế hoạch 0172 có gì?", {8}),  # leading zeros
    ],
)
def test_a_plan_named_by_its_number(catalog, question, plans):
    found = named(catalog, question)
    assert found.how == "number" and set(found.plans) == plans


def test_a_number_only_cited_by_a_title_names_no_plan_but_is_not_missing(catalog):
    found = named(catalog, "Ai tổ chức thực hiện Quyết định 1899 về phòng thủ dân sự?")
    assert found.how == "cited" and set(found.plans) == {5} and not found.missing


@pytest.mark.parametrize(
    ("question", "plans"),
    [
        ("Kế hoạch CCHC năm 2026 giao Sở Nội vụ làm gì?", {1}),
        ("ke hoach cchc nam 2025 cua can tho", {2}),
        ("Theo kế hoạch cải cách hành chính của Cần Thơ, ai báo cáo?", {2}),
        ("Kế hoạch CĐS của Cần Thơ yêu cầu gì?", {3}),
        ("Chương trình hành động về KH&CN, ĐMST và CĐS giao bộ nào?", {4}),
        (
            "Đề án phòng chống thiên tai dựa vào cộng đồng do ai chủ trì?",
            {6},
        ),  # its learned subject
        ("Kế hoạch CSDLQH giao Sở Xây dựng việc gì?", {7}),  # an abbreviation the plan defines
    ],
)
def test_a_plan_named_by_topic_with_abbreviations_year_and_province(catalog, question, plans):
    found = named(catalog, question)
    assert found.how == "title" and set(found.plans) == plans, found


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Kế hoạch 555/KH-UBND giao Sở Nội vụ làm gì?", "Kế hoạch 555/KH-UBND"),
        ("Kế hoạch CCHC năm 2027 giao Sở Nội vụ làm gì?", "Kế hoạch CCHC năm 2027"),
        ("Kế hoạch PCMT của tỉnh giao Công an tỉnh việc gì?", "Kế hoạch PCMT của tỉnh"),
        ("Kế hoạch 141 của Hà Nội giao gì?", "Kế hoạch 141 (Hà Nội)"),
    ],
)
def test_a_plan_named_but_not_indexed_is_missing(catalog, question, missing):
    found = named(catalog, question)
    assert not found.plans and found.missing.strip() == missing


def test_a_number_met_in_the_plans_text_is_not_declared_missing(catalog):
    found = named(catalog, "Kế hoạch 555 giao gì?", known=lambda word: word == "555")
    assert not found.missing and not found.plans


@pytest.mark.parametrize(
    "question",
    [
        "Sở Nội vụ phải làm gì, hạn khi nào?",
        "Những nhiệm vụ nào phải xong trong năm 2026?",
        "Kế hoạch 2026 - 2030 có gì mới?",  # a period, not a number
        "Ai chủ trì Dự án 7 về tuyên truyền?",
    ],
)
def test_questions_that_name_no_plan(catalog, question):
    found = named(catalog, question)
    assert not found.plans and not found.missing


def test_a_province_alone_narrows_without_naming(catalog):
    found = named(catalog, "Ở Cần Thơ, ai chủ trì việc lấy ý kiến điện tử?")
    assert found.how == "province" and set(found.plans) == {2, 3}


@pytest.mark.parametrize(
    "question",
    [
        "Kế hoạch này yêu cầu báo cáo gì, hạn khi nào?",
        "Văn bản trên giao ai?",
        "nhiem vu tren do ai chu tri",
    ],
)
def test_words_pointing_back_at_the_plan_talked_about(catalog, question):
    found = named(catalog, question)
    assert found.back and not found.plans and not found.missing


def test_copies_of_one_document_count_once_and_come_together():
    copies = Catalog(
        [
            profile(
                1,
                "Kế hoạch phát triển hạ tầng 5G",
                "310/KH-UBND",
                "UBND thành phố Hà Nội",
                2025,
                "",
            ),
            profile(
                2,
                "Kế hoạch phát triển hạ tầng 5G",
                "310/KH-UBND",
                "UBND thành phố Hà Nội",
                2025,
                "",
            ),
            profile(
                3, "Kế hoạch phòng chống thiên tai", "12/KH-UBND", "UBND tỉnh Cà Mau", 2025, ""
            ),
        ]
    )
    assert copies.docs == 2
    assert set(resolve(read("kế hoạch hạ tầng 5G giao ai", copies), copies).plans) == {1, 2}


def test_a_whole_text_names_a_plan_as_after_kehoach(catalog):
    assert set(resolve(read("141 Đồng Tháp", catalog, whole=True), catalog).plans) == {1}
    assert set(
        resolve(read("cải cách hành chính Cần Thơ", catalog, whole=True), catalog).plans
    ) == {2}


def test_abbreviations_a_plan_defines_for_itself():
    learned = learn(
        "Phát triển khoa học và công nghệ (KH&CN), đổi mới sáng tạo (ĐMST) và Chuyển đổi số (CĐS). "
        "Ứng dụng trí tuệ nhân tạo (AI) trong quản lý. Ủy ban nhân dân cấp xã (sau đây gọi tắt là UBND "
        "cấp xã). Thực hiện Chương trình tìm kiếm, quy tập hài cốt liệt sĩ (sau đây gọi tắt là Chương "
        "trình 1237)."
    )
    assert learned.abbreviations == {
        "khcn": "khoa hoc va cong nghe",
        "dmst": "doi moi sang tao",
        "cds": "chuyen doi so",
    }
    assert "chuong trinh 1237" in learned.aliases


def test_abbreviations_are_spelled_out_only_where_they_read_as_abbreviations():
    known = {"cchc": "cai cach hanh chinh", "da": "de an"}
    assert expand("Kế hoạch CCHC", known) == ("ke hoach cai cach hanh chinh", ["cchc"])
    assert expand("ke hoach cchc", known)[1] == ["cchc"]  # no Vietnamese syllable: an abbreviation
    assert expand("đã xong", known) == ("da xong", [])  # "đã" is a word
