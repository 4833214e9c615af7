"""The parser on the real sample plans: tables row by row, sections, assignments, metadata."""

from __future__ import annotations

import pytest

from knowledge.parsing.parser import parse_plan

# Plan 003 appendix: row → (lead, support, deadline text). Rows 5, 11 and 17 are split across
# page breaks (continuation lines with an empty TT carry the rest of each cell).
PLAN_003 = {
    "1": (["Các sở, ngành", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Các cơ quan, đơn vị liên quan"], "Quý II, III năm 2024"),
    "2": (["Người đứng đầu các cấp chính quyền, ngành y tế"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "3": (["Các sở, ngành", "Đài Phát thanh và Truyền hình tỉnh", "Báo Thanh Hóa", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "4": (["Các sở, ngành", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Sở Y tế", "Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "5": (["Sở Y tế"], ["Sở Nội vụ", "Sở Tài chính", "Ủy ban nhân dân các huyện, thị xã, thành phố"], "Trước 01/7/2025"),
    "6": (["Sở Y tế"], ["Sở Nội vụ", "Sở Tài chính", "Ủy ban nhân dân các huyện, thị xã, thành phố"], "Trước ngày 01/7/2025"),
    "7": (["Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Sở Y tế", "Các sở, ngành"], "Từ năm 2026"),
    "8": (["Sở Y tế"], ["Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "9": (["Sở Y tế"], ["Các sở, ngành"], "Theo hướng dẫn của Bộ Y tế (từ năm 2026)"),
    "10": (["Sở Y tế"], ["Các sở, ngành"], "Theo lộ trình do Chính phủ quy định"),
    "11": (["Bảo hiểm xã hội tỉnh", "Sở Y tế"], ["Sở Tài chính", "Các sở, ngành"], "Theo tiến độ thực hiện Luật bảo hiểm y tế"),
    "12": (["Sở Y tế", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Sở Nội vụ", "Sở Tài chính", "Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "13": (["Các đơn vị sự nghiệp y tế"], ["Sở Nội vụ", "Sở Y tế", "Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "14": (["Sở Y tế", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "15": (["Sở Y tế", "Ủy ban nhân dân các huyện, thị xã, thành phố"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "16": (["Sở Y tế"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "17": (["Sở Y tế"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "18": (["Sở Y tế"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
    "19": (["Sở Y tế"], ["Các sở, ngành"], "Nhiệm vụ thường xuyên"),
}
OTHERS = ["Các sở, ngành"]
BAN = ["Ban QLDA&TXD CTDD và CN"]
BAN2 = ["Ban QLDAĐT XD CTDD và CN"]
PLAN_004 = {
    "1": (["Sở Kế hoạch và Đầu tư"], OTHERS, "Hàng năm", ""),
    "2": (["Sở Y tế"], ["Các sở, ngành"], "2018", ""),
    "3": (["Sở Y tế"], ["Các sở, ngành"], "2018", ""),
    "4": (["Sở Y tế"], ["Các sở, ngành"], "Hàng năm", ""),
    "5": (["Sở Y tế"], ["Sở Thông tin và Truyền thông"], "2019", ""),
    "6": (["Sở Y tế"], ["Các sở, ngành"], "2018", ""),
    "7": ([], [], None, "Đã phê duyệt chủ trương đầu tư"),
    "8": ([], [], None, "Đã phê duyệt chủ trương đầu tư"),
    "9": ([], [], None, "Đã phê duyệt chủ trương đầu tư"),
    "10": ([], [], None, "Đã phê duyệt chủ trương đầu tư"),
    "11": (["Sở Y tế"], BAN, "2018-2020", ""),
    "12": (["Sở Y tế"], BAN, "2020-2023", ""),
    "13": (["Sở Y tế"], BAN2, "2021-2023", ""),
    "14": (["Sở Y tế"], BAN2, "2022-2025", ""),
    "15": (["Sở Y tế"], BAN2, "2020-2021", ""),
    "16": (["Sở Nội vụ", "Sở Y tế"], OTHERS, "2027", ""),
    "17": (["Sở Nội vụ", "Sở Y tế"], OTHERS, "2028", ""),
}


def test_plan_003_has_exactly_19_rows_with_their_cells(plan_text):
    plan = parse_plan(plan_text("003"))
    assert [t.row for t in plan.tasks] == [str(i) for i in range(1, 20)]
    for task in plan.tasks:
        lead, support, deadline = PLAN_003[task.row]
        assert [a.name for a in task.lead] == lead, task.row
        assert [a.name for a in task.support] == support, task.row
        assert task.deadline is not None and task.deadline.text == deadline, task.row
        assert task.citation == f"Phụ lục, TT {task.row}"


def test_plan_003_rows_split_across_pages_are_rejoined(plan_text):
    rows = {t.row: t for t in parse_plan(plan_text("003")).tasks}
    assert rows["5"].text.endswith("bảo đảm y tế cơ sở giữ vai trò tuyến đầu trong bảo vệ, chăm sóc và nâng cao sức khỏe Nhân dân.")
    assert rows["5"].support_text == "Sở Nội vụ, Sở Tài chính, UBND các huyện, thị xã, thành phố"
    assert rows["11"].lead_text == "Bảo hiểm xã hội tỉnh, Sở Y tế"
    assert rows["11"].text.startswith("Nghiên cứu tiếp tục tăng mức đóng bảo hiểm y tế theo lộ trình phù hợp với ngân sách")
    assert "môn trong khám bệnh, chữa bệnh" in rows["17"].text


def test_plan_004_has_exactly_17_rows_and_notes_leave_agency_columns(plan_text):
    plan = parse_plan(plan_text("004"))
    assert [t.row for t in plan.tasks] == [str(i) for i in range(1, 18)]
    for task in plan.tasks:
        lead, support, deadline, note = PLAN_004[task.row]
        assert [a.name for a in task.lead] == lead, task.row
        assert [a.name for a in task.support] == support, task.row
        assert (task.deadline.text if task.deadline else None) == deadline, task.row
        assert task.note == note, task.row
        assert task.citation == f"Danh mục, TT {task.row}"


def test_metadata(plan_text):
    p004 = parse_plan(plan_text("004")).meta
    assert p004.number == "220/KH-UBND"  # only in the appendix caption
    assert p004.date.isoformat() == "2018-06-04"
    assert p004.issuer == "UBND tỉnh Bắc Ninh"
    assert "Nghị quyết số 20-NQ/TW ngày 25/10/2017" in p004.implements
    p002 = parse_plan(plan_text("002")).meta
    assert (p002.number, p002.date.isoformat(), p002.issuer) == ("1750/KH-SYT", "2021-05-31", "Sở Y tế tỉnh Hà Tĩnh")
    p003 = parse_plan(plan_text("003")).meta
    assert p003.number == ""  # "Số: /KH-UBND" left blank in the original
    assert p003.title.startswith("Kế hoạch triển khai thực hiện Chỉ thị số 25")
    assert p003.implements[0] == "Chỉ thị số 25-CT/TW ngày 25/10/2023"
    assert parse_plan(plan_text("001")).meta.issuer == "UBND huyện Sơn Hà"


def clauses_of(plan, section):
    return [c for c in plan.clauses if c.section == section]


def test_implementation_part_assigns_duties_with_roles(plan_text):
    plan = parse_plan(plan_text("003"))
    (iv4,) = clauses_of(plan, "IV.4")
    assert iv4.text.startswith("Thẩm định, trình cấp có thẩm quyền")
    assert [(a.agency.name, a.role) for a in iv4.assignments] == [("Sở Nội vụ", "lead")]
    iv1 = clauses_of(plan, "IV.1")
    roles = {(a.agency.name, a.role) for a in iv1[1].assignments}
    assert {("Sở Y tế", "lead"), ("Sở Nội vụ", "support")} <= roles
    (iv6,) = clauses_of(plan, "IV.6")  # "Phối hợp với Sở Y tế …": cooperating, not lead
    assert ("Sở Thông tin và Truyền thông", "support") in {(a.agency.name, a.role) for a in iv6.assignments}
    iv3 = clauses_of(plan, "IV.3")
    assert [(a.agency.name, a.role) for a in iv3[0].assignments] == [("Sở Kế hoạch và Đầu tư", "lead")]


def test_headings_per_agency_and_misformatted_numbers(plan_text):
    plan = parse_plan(plan_text("001"))
    bhxh = clauses_of(plan, "IV.6")
    assert len(bhxh) == 2 and all(c.assignments[0].agency.name == "Bảo hiểm xã hội huyện" for c in bhxh)
    assert all(c.assignments[0].role == "support" for c in bhxh)
    xa = clauses_of(plan, "IV.7")  # heading written "## **7." like a top-level one
    assert len(xa) == 4 and xa[0].assignments[0].agency.name == "Ủy ban nhân dân cấp xã"


def test_duties_inside_sentences_and_page_break_joins(plan_text):
    plan = parse_plan(plan_text("000"))
    khtc = next(c for c in plan.clauses if "Giao Phòng KHTC chủ trì" in c.text)
    assert khtc.section == "II.5"
    assert "chi nhánh tại Thanh Hóa" in khtc.text  # rejoined across the page break
    assert ("Phòng Kế hoạch - Tài chính", "lead") in {(a.agency.name, a.role) for a in khtc.assignments}
    assert khtc.deadline.kind == "quarter" and khtc.deadline.end.isoformat() == "2021-12-31"
    tccb = next(c for c in plan.clauses if "Phòng TCCB tham mưu" in c.text)
    assert tccb.section == "II.3" and tccb.deadline.text == "Trong quý II năm 2021"
    item = next(c for c in plan.clauses if c.section == "V.2.3")
    assert ("Sở Y tế", "recipient") in {(a.agency.name, a.role) for a in item.assignments}


def test_reporting_rules(plan_text):
    rules = parse_plan(plan_text("000")).reporting_rules
    quarterly = next(r for r in rules if r.section == "IV.3")
    assert quarterly.due_day == 10
    assert quarterly.periods == ["quarter", "half_year", "nine_months", "year"]
    assert quarterly.deadline.recurrence == "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=10"
    assert [a.name for a in quarterly.reporters] == ["Các đơn vị trực thuộc"]
    assert [a.name for a in quarterly.recipients] == ["Văn phòng Sở Y tế"]  # "tiếp nhận báo cáo" (IV.4)
    r004 = parse_plan(plan_text("004")).reporting_rules
    assert {r.frequency for r in r004} == {"Định kỳ hằng năm", "định kỳ hằng quý"}


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_sample_plan_parses_without_unparsed_deadlines(plan_text, prefix):
    summary = parse_plan(plan_text(prefix)).summary()
    assert summary["sections"] > 10 and summary["clauses"] > 40
    assert summary["deadlines_unparsed"] == 0, summary["unparsed"]
    assert summary["reporting_rules"] >= 1


def test_signature_block_is_not_content(plan_text):
    plan = parse_plan(plan_text("003"))
    assert not any("để báo cáo" in c.text for c in plan.clauses)
    assert not any(c.text.startswith("Bộ Y tế") for c in plan.clauses)


def test_other_layout_groups_subrows_two_line_headers_and_extra_columns():
    """A plan from elsewhere: STT/NHIỆM VỤ headers on two lines, group rows, numbering restarting
    per group, sub-rows with merged (empty) cells, Sản phẩm/Kinh phí columns, page-break header."""
    from tests.conftest import ROOT

    plan = parse_plan((ROOT / "tests" / "data" / "plan_other_layout.txt").read_text(encoding="utf-8"))
    assert (plan.meta.number, plan.meta.issuer, plan.meta.date.isoformat()) == ("415/KH-UBND", "UBND tỉnh Nghệ An", "2025-03-12")
    cites = [t.citation for t in plan.tasks]
    assert cites == [
        "Phụ lục I, Nhóm I, TT 1", "Phụ lục I, Nhóm I, TT 1.1", "Phụ lục I, Nhóm I, TT 1.2", "Phụ lục I, Nhóm I, TT 2",
        "Phụ lục I, Nhóm II, TT 1", "Phụ lục I, Nhóm II, TT 2", "Phụ lục I, Nhóm II, TT 3",
    ]
    rows = {t.citation: t for t in plan.tasks}
    sub = rows["Phụ lục I, Nhóm I, TT 1.1"]  # merged lead cell left empty: inherited from row 1
    assert [a.name for a in sub.lead] == ["Sở Giáo dục và Đào tạo"] and sub.deadline.text == "6/2025"
    assert [a.name for a in rows["Phụ lục I, Nhóm I, TT 1.2"].lead] == ["Các trường THPT"]
    second = rows["Phụ lục I, Nhóm II, TT 2"]  # after the repeated two-line header
    assert [a.name for a in second.lead] == ["Sở Giáo dục và Đào tạo"] and [a.name for a in second.support] == ["Công an tỉnh"]
    assert rows["Phụ lục I, Nhóm I, TT 1"].extra == {"SẢN PHẨM": "Hệ thống đường truyền", "KINH PHÍ": "Ngân sách tỉnh"}
    assert [a.name for a in rows["Phụ lục I, Nhóm II, TT 1"].lead] == ["Ủy ban nhân dân các huyện, thị xã, thành phố"]
    rules = {r.section: r for r in plan.reporting_rules}
    monthly = rules["III.1, ý 1"]
    assert (monthly.due_day, monthly.periods, [a.name for a in monthly.recipients]) == (20, ["month"], ["Ủy ban nhân dân tỉnh"])
    half = rules["III.3, ý 1"]  # due in the last month of each half-year
    assert half.deadline.recurrence == "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=15"
    assert [a.name for a in half.reporters] == ["Ủy ban nhân dân các huyện, thị xã, thành phố"]


@pytest.mark.parametrize(
    ("prefix", "year"),
    [("000", 2021), ("001", 2025), ("002", 2025), ("003", 2030), ("004", None)],
)
def test_plan_horizon(plan_text, prefix, year):
    """Last year a plan covers: its title ("đến năm 2025", "giai đoạn 2021 - 2025"), else its
    headings ("… đến năm 2030", "… năm 2021" in several), else open-ended."""
    assert parse_plan(plan_text(prefix)).meta.valid_until == year


# --- Documents in the wild: every kind accepted, the attached plan kept, duties at any depth ---

from pathlib import Path  # noqa: E402

from knowledge.document import DOCX, Document, Paragraph, Table  # noqa: E402
from knowledge.errors import PlanbotError  # noqa: E402
from knowledge.model import DOCUMENT_KINDS  # noqa: E402
from knowledge.parsing.parser import parse_document  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def roles(clause):
    return [(a.agency.name, a.role) for a in clause.assignments]


@pytest.mark.parametrize("path", sorted(p.name for p in (DATA / "corpus").glob("*.txt")) + ["own"])
def test_no_document_with_text_is_turned_away(path):
    files = sorted((DATA / "own_plans").glob("*.txt")) if path == "own" else [DATA / "corpus" / path]
    for file in files:
        plan = parse_plan(file.read_text(encoding="utf-8"))
        assert plan.clauses or plan.tasks, file.name
        assert plan.meta.kind in DOCUMENT_KINDS and plan.meta.title, file.name


def test_only_a_file_without_text_is_an_error():
    for empty in ("  \n\n \t \n", "\x00\x01\x02", "-- \t --\t --"):
        with pytest.raises(PlanbotError):
            parse_plan(empty)
    prose = parse_plan("Đề nghị các đơn vị khẩn trương rà soát số liệu.\n\nSở Y tế tổng hợp, báo cáo trước ngày 15/5/2026.")
    assert [c.citation for c in prose.clauses] == ["đoạn 1", "đoạn 2"]
    assert any("từng đoạn" in w for w in prose.warnings)
    assert roles(prose.clauses[1]) == [("Sở Y tế", "lead")]


def test_decision_keeps_its_attached_plan():
    """1627/QĐ-UBND: Điều 1–2, Nơi nhận, signature, then the KẾ HOẠCH; agency sub-headings at
    depth 3 under "NHIỆM VỤ CỤ THỂ" own their bullets."""
    plan = parse_plan((DATA / "corpus" / "1627-QD-UBND_4e39af96.txt").read_text(encoding="utf-8"))
    paths = {s.path for s in plan.sections}
    assert {"Điều 1", "Điều 2", "I", "IV", "IV.1.2"} <= paths
    under = [c for c in plan.clauses if c.section == "IV.1.2" and c.bullet]
    assert len(under) >= 5 and all(("Sở Tài chính", "lead") in roles(c) or ("Sở Tài chính", "support") in roles(c) for c in under)
    assert not any(c.text.startswith(("- Như Điều 2", "Nơi nhận")) for c in plan.clauses)
    # "Thời gian thực hiện: …" on its own line (five times in the plan) dates the duty above it.
    first = under[0]
    assert first.text.endswith("Thời gian thực hiện: Từ tháng 11/2025 đến khi kết thúc Tổng kiểm kê.")
    assert first.deadline.start.isoformat() == "2025-11-01"


def test_own_resolution_with_chapters_articles_clauses_and_points():
    plan = parse_plan((DATA / "own_plans" / "nghi_quyet_chuong_dieu.txt").read_text(encoding="utf-8"))
    titles = {s.path: s.title for s in plan.sections}
    assert titles["Chương III"] == "TỔ CHỨC THỰC HIỆN"  # title on the line after "Chương III"
    assert titles["Điều 5"] == "Trách nhiệm thi hành"
    by_section = {c.section: c for c in plan.clauses}
    assert roles(by_section["Điều 5.2.a"]) == [("Sở Nông nghiệp và Môi trường", "lead")]  # khoản heading owns its điểm
    assert roles(by_section["Điều 5.1"]) == [("Ủy ban nhân dân tỉnh", "lead")]
    assert by_section["Điều 5.1"].deadline.end.isoformat() in ("2026-06-29", "2026-06-30")
    assert ("Ủy ban nhân dân các xã, phường", "lead") in roles(by_section["Điều 5.4.b"]) or roles(by_section["Điều 5.4.b"])
    # "5. Công an tỉnh thường xuyên kiểm tra …" has no final period but is a duty, not a heading.
    assert roles(by_section["Điều 5.5"]) == [("Công an tỉnh", "lead")]
    assert plan.meta.valid_until == 2030


def test_own_decision_with_attached_plan_in_parts_and_prose_duties():
    plan = parse_plan((DATA / "own_plans" / "qd_kem_ke_hoach_phan.txt").read_text(encoding="utf-8"))
    assert {"Điều 1", "Phần I", "Phần II", "Phần II.b"} <= {s.path for s in plan.sections}
    text = " ".join(c.text for c in plan.clauses)
    assert "Bản quyền" not in text and "Bùi Văn Khánh" not in text and "Như Điều 3" not in text
    vaccine = next(c for c in plan.clauses if c.text.startswith("Chủ trì tổ chức tiêm phòng"))
    assert roles(vaccine) == [("Sở Nông nghiệp và Môi trường", "lead")]  # unnumbered agency subheading
    funds = next(c for c in plan.clauses if c.text.startswith("Tham mưu bố trí kinh phí"))
    assert roles(funds) == [("Sở Tài chính", "lead")]  # "Giao Sở Tài chính:"
    office = next(c for c in plan.clauses if c.text.startswith("Theo dõi, đôn đốc"))
    assert office.section == "Phần II.b" and roles(office)[0] == ("Văn phòng Ủy ban nhân dân tỉnh", "lead")


def test_own_letter_with_duties_in_prose():
    plan = parse_plan((DATA / "own_plans" / "cong_van_giao.txt").read_text(encoding="utf-8"))
    assert not plan.sections
    lead = next(c for c in plan.clauses if c.text.startswith("Giao Sở Công Thương"))
    assert lead.citation.startswith("đoạn ") and ("Sở Công Thương", "lead") in roles(lead)
    assert lead.deadline.end.isoformat() in ("2026-05-09", "2026-05-10")
    assert not any("Nguyễn Thế Phước" in c.text for c in plan.clauses)


def test_word_document_numbering_comes_from_the_container():
    doc = Document(
        [
            Paragraph("KẾ HOẠCH", centered=True, bold=True),
            Paragraph("Kiểm tra an toàn thực phẩm năm 2026"),
            Paragraph("TỔ CHỨC THỰC HIỆN", label="I."),
            Paragraph("Sở Y tế", label="1."),
            Paragraph("Chủ trì kiểm tra các bếp ăn tập thể trong quý II năm 2026.", label="a)"),
            Paragraph("3. Nội dung này được đánh số trong chữ nhưng Word gán nhãn khác", label="b)"),
            Table.from_grid([["TT", "Nội dung", "Chủ trì", "Thời gian"], ["1", "Kiểm tra", "Sở Y tế", "Quý II/2026"]]),
        ],
        source=DOCX,
    )
    plan = parse_document(doc)
    assert [s.path for s in plan.sections] == ["I", "I.1", "I.1.a", "I.1.b"]
    first = next(c for c in plan.clauses if c.section == "I.1.a")
    assert roles(first) == [("Sở Y tế", "lead")] and first.deadline.kind == "quarter"
    assert plan.meta.title == "Kế hoạch kiểm tra an toàn thực phẩm năm 2026"


def test_prose_appendix_after_the_signature_is_kept():
    text = (
        "KẾ HOẠCH\n\nKiểm tra an toàn thực phẩm năm 2026\n\nI. NHIỆM VỤ\n\n"
        "1. Sở Y tế chủ trì kiểm tra các bếp ăn tập thể trong quý II năm 2026.\n\n"
        "Nơi nhận:\n- Như trên;\n- Lưu: VT.\n\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n\nNguyễn Văn An\n\n"
        "PHỤ LỤC\n\nHƯỚNG DẪN CHẾ ĐỘ BÁO CÁO\n\n(Kèm theo Kế hoạch số 12/KH-UBND ngày 05/01/2026)\n\n"
        "Các đơn vị gửi báo cáo kết quả kiểm tra về Sở Y tế trước ngày 15 hằng tháng để tổng hợp."
    )
    plan = parse_plan(text)
    (report,) = [c for c in plan.clauses if c.text.startswith("Các đơn vị gửi báo cáo")]
    assert report.citation.startswith("đoạn ") and ("Sở Y tế", "recipient") in roles(report)
    assert not any("Nguyễn Văn An" in c.text or c.text.startswith("(Kèm theo") for c in plan.clauses)
