"""Metadata from the header of the document that carries the plan, on real documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.parsing.meta import case_forms, restore_case
from knowledge.parsing.parser import parse_plan
from knowledge.text import fold

DATA = Path(__file__).resolve().parent / "data"


def plan_of(path: str):
    return parse_plan((DATA / path).read_text(encoding="utf-8"))


# file → (kind, number, date, issuer, title start)
EXPECTED = {
    "corpus/1627-QD-UBND_4e39af96.txt": (
        "quyet_dinh", "1627/QĐ-UBND", "2025-11-21", "UBND tỉnh Quảng Ngãi",
        # the decision's own title (it issues the plan); the attached plan's title is its content
        "Quyết định về việc ban hành kế hoạch kiểm kê tài sản công tại cơ quan",
    ),
    "corpus/2853-QD-UBND_437c3beb.txt": (
        "quyet_dinh", "2853/QĐ-UBND", "2025-11-21", "UBND thành phố Hồ Chí Minh",
        "Quyết định ban hành Kế hoạch triển khai thực hiện Đề án",
    ),
    "corpus/2597-QD-TT_ec00bd6f.txt": (
        "quyet_dinh", "2597/QĐ-TTg", "2025-11-27", "Thủ tướng Chính phủ", "Quyết định phê duyệt Đề án chuyển đổi số",
    ),
    "corpus/2610-QD-UBND_ce4ad96d.txt": (
        "quyet_dinh", "2610/QĐ-UBND", "2025-11-24", "UBND thành phố Cần Thơ",
        "Quyết định ban hành quy chế sử dụng và vận hành Hệ thống",
    ),
    "corpus/01814-QD-UBND_65dec808.txt": (  # crawler watermark and site fields before the letterhead
        "quyet_dinh", "01814/QĐ-UBND", "2025-11-21", "UBND tỉnh Cà Mau", "Quyết định công bố thủ tục hành chính nội bộ",
    ),
    "corpus/980-KH-UBND_c5d930a5.txt": (  # header, title and body on one line
        "ke_hoach", "980/KH-UBND", "2025-11-18", "UBND tỉnh Nghệ An", "Kế hoạch thực hiện Quyết định số 1899/QĐ-TT",
    ),
    "corpus/2702-QD-UBND_0c462ec3.txt": (
        "quyet_dinh", "2702/QĐ-UBND", "2025-11-18", "UBND tỉnh Quảng Trị", "Quyết định công bố thủ tục hành chính nội bộ",
    ),
    "corpus/noNumber_c22591f1.txt": (
        "nghi_dinh", "170/2025/NĐ-CP", "2025-06-30", "Chính phủ", "Nghị định quy định về tuyển dụng, sử dụng và quản lý công chức",
    ),
    "corpus/noNumber_38acb0a4.txt": (  # no letterhead: the adoption sentence dates it
        "nghi_quyet", "", "2025-02-19", "Quốc hội", "Nghị quyết thí điểm một số cơ chế",
    ),
    "own_plans/qd_kem_ke_hoach_phan.txt": (
        "quyet_dinh", "517/QĐ-UBND-VX", "2026-02-05", "UBND tỉnh Hòa Bình",
        "Quyết định về việc ban hành Kế hoạch phòng, chống dịch bệnh động vật trên cạn năm 2026",
    ),
    "own_plans/nghi_quyet_chuong_dieu.txt": (
        "nghi_quyet", "41/2026/NQ-HĐND", "2026-03-12", "HĐND tỉnh Lạng Sơn",
        "Nghị quyết quy định chính sách hỗ trợ nước sạch nông thôn trên địa bàn tỉnh Lạng Sơn giai đoạn 2026 - 2030",
    ),
    "own_plans/cong_van_giao.txt": (
        "cong_van", "1203/UBND-TH", "2026-04-20", "UBND tỉnh Yên Bái", "Công văn về việc triển khai các giải pháp",
    ),
}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_metadata_from_the_header_block(path):
    kind, number, issued, issuer, title = EXPECTED[path]
    meta = plan_of(path).meta
    assert (meta.kind, meta.number, meta.date.isoformat() if meta.date else None, meta.issuer) == (kind, number, issued, issuer)
    assert meta.title.startswith(title), meta.title
    assert "THƯ VIỆN" not in meta.title and "Bản dịch" not in meta.title and len(meta.title) < 400


def test_number_with_a_multi_part_suffix():
    text = "BỘ CÔNG AN\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n\nSố: 996/KH-TCTLNTW-C04\tHà Nội, ngày 3 tháng 3 năm 2026\n\nKẾ HOẠCH\n\nTriển khai công tác năm 2026\n\nI. MỤC ĐÍCH\n\n1. Bảo đảm an ninh."
    meta = parse_plan(text).meta
    assert (meta.number, meta.kind, meta.issuer, meta.title) == ("996/KH-TCTLNTW-C04", "ke_hoach", "Bộ Công an", "Kế hoạch triển khai công tác năm 2026")


def test_title_horizon_is_the_plans_not_a_deadline():
    plan = plan_of("own_plans/qd_kem_ke_hoach_phan.txt")
    assert plan.meta.valid_until == 2026
    closing = next(c for c in plan.clauses if c.text.startswith("Trên đây là Kế hoạch"))
    assert closing.deadline is None


def test_all_caps_titles_keep_the_bodys_capitals():
    cases = case_forms(["Ủy ban nhân dân tỉnh Đồng Nai giao Sở Y tế phát triển kinh tế số trên địa bàn tỉnh Đồng Nai."])
    assert restore_case("PHÁT TRIỂN KINH TẾ SỐ TRÊN ĐỊA BÀN TỈNH ĐỒNG NAI", cases) == "phát triển kinh tế số trên địa bàn tỉnh Đồng Nai"
    assert restore_case("Triển khai Kế hoạch", cases) == "Triển khai Kế hoạch"  # mixed case is left alone


def test_a_date_line_misread_by_ocr_still_gives_place_and_year():
    # OCR of a handwritten day and month: "ngày44 tháng 0@»ăm 2026"; the body cites older years.
    text = (
        "BỘ CÔNG AN\n\nTỔ CÔNG TÁC LIÊN NGÀNH TW\n\nSố: /KH-TCTLNTW\n\nHà Nội, ngày44 tháng 0@»ăm 2026\n\n"
        "KẾ HOẠCH\n\nPhối hợp kiểm soát năm 2026\n\nThực hiện Nghị định số 105/2021/NĐ-CP ngày 04 tháng 12 "
        "năm 2021 của Chính phủ.\n\nI. MỤC ĐÍCH\n\n1. Phòng 5 chủ trì theo dõi.\n"
    )
    meta = parse_plan(text).meta
    assert (meta.place, meta.date, meta.year) == ("Hà Nội", None, 2026)


def test_website_field_lines_before_the_letterhead_fill_only_what_is_missing():
    text = (
        "Kế hoạch 88/KH-UBND năm 2025 kiểm tra công tác cải cách hành chính do tỉnh Phú Thọ ban hành, áp dụng cho các sở, ngành\n"
        "Chia sẻ | Tải về\nSố hiệu: 88/KH-UBND\nLoại văn bản: Kế hoạch\nNơi ban hành: Tỉnh Phú Thọ\n"
        "Ngày ban hành: 02/04/2025\nTình trạng: Còn hiệu lực\n\n"
        "ỦY BAN NHÂN DÂN TỈNH PHÚ THỌ\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n\n"
        "KẾ HOẠCH\nKiểm tra công tác cải cách hành chính năm 2025\n\n"
        "I. NỘI DUNG\n\n1. Sở Nội vụ chủ trì kiểm tra các xã, phường, hoàn thành trong quý III năm 2025."
    )
    plan = parse_plan(text)
    meta = plan.meta
    assert (meta.number, meta.kind, meta.issuer) == ("88/KH-UBND", "ke_hoach", "UBND tỉnh Phú Thọ")
    assert meta.date is not None and meta.date.isoformat() == "2025-04-02"
    assert meta.title == "Kế hoạch kiểm tra công tác cải cách hành chính năm 2025"
    assert not any("Số hiệu" in c.text or "Tải về" in c.text for c in plan.clauses)


@pytest.mark.parametrize(
    ("line", "issued", "year"),
    [
        ("TP. Hồ Chí Minh, ngày 03 tháng 02 năm 2025", "2025-02-03", 2025),
        ("Hà Nội, ngày …tháng…năm 2025", None, 2025),
        ("ngày    tháng    năm 2024", None, 2024),
    ],
)
def test_place_and_date_line(line, issued, year):
    text = f"BỘ Y TẾ\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSố: 12/KH-BYT\t{line}\n\nKẾ HOẠCH\nTiêm chủng mở rộng\n\nI. MỤC TIÊU\n\n1. Tiêm đủ liều."
    meta = parse_plan(text).meta
    assert (meta.date.isoformat() if meta.date else None, meta.year) == (issued, year)
    assert meta.issuer == "Bộ Y tế"


@pytest.mark.parametrize(
    ("letterhead", "issuer"),
    [
        ("ỦY B AN NHÂN D Â N\nT ỈNH L ÀO CAI", "UBND tỉnh Lào Cai"),  # broken apart by a transcription
        ("UBND TỈNH LÀO CAI\nSỞ TÀI CHÍNH", "Sở Tài chính tỉnh Lào Cai"),
        ("BỘ Y TẾ\nCỤC QUẢN LÝ DƯỢC", "Cục Quản lý dược - Bộ Y tế"),
        ("BAN CHỈ ĐẠO QUỐC GIA 1237", "Ban Chỉ đạo quốc gia 1237"),
        ("ỦY BAN NHÂN DÂN\nTỈNH LÀO CAI\nDỰ THẢO", "UBND tỉnh Lào Cai"),
        ("TỈNH ỦY LÀO CAI", "Tỉnh ủy Lào Cai"),
        ("BỘ VĂN HÓA, THỂ THAO VÀ DU LỊCH", "Bộ Văn hóa, Thể thao và Du lịch"),
        ("BỘ CÔNG AN\nTỔ CÔNG TÁC LIÊN NGÀNH TW", "Tổ công tác liên ngành TW - Bộ Công an"),
    ],
)
def test_letterhead_issuer(letterhead, issuer):
    text = (
        f"{letterhead}\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 5/KH-X\tLào Cai, ngày 1 tháng 3 năm 2025\n\n"
        "KẾ HOẠCH\nThực hiện công tác năm 2025\n\nỦy ban nhân dân tỉnh Lào Cai giao Sở Tài chính và Cục Quản lý dược thực hiện.\n\n"
        "I. NỘI DUNG\n\n1. Thực hiện tốt công tác."
    )
    meta = parse_plan(text).meta
    assert meta.issuer == issuer
    assert meta.title == "Kế hoạch thực hiện công tác năm 2025"


def test_title_is_never_the_motto_or_the_kind_word_alone():
    text = "ỦY BAN NHÂN DÂN TỈNH AN GIANG\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 7/KH-UBND\tAn Giang, ngày 2 tháng 1 năm 2025\n\nKẾ HOẠCH\n\nThực hiện chương trình chuyển đổi số năm 2025 trên địa bàn tỉnh, như sau:\n\nI. MỤC ĐÍCH\n\n1. Nâng cao chất lượng."
    title = parse_plan(text).meta.title
    assert "CỘNG HÒA" not in title.upper() and fold(title) != "ke hoach" and "Độc lập" not in title
