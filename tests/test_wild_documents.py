"""Documents that are not plans, or not plain ones, as offices really send them: a Báo cáo whose
narrative assigns nothing, a Thông báo kết luận copied from a website, a draft with no number, a
department's plan under its province's letterhead, a Quyết định issuing a plan with a title of
its own. Every metadata field and the duties are asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.model import LEAD, SUPPORT
from knowledge.parsing.parser import parse_plan
from knowledge.text import fold

WILD = Path(__file__).resolve().parent / "data" / "wild"


def plan_of(name: str):
    return parse_plan((WILD / name).read_text(encoding="utf-8"))


def leads(clause) -> list[str]:
    return [a.agency.name for a in clause.assignments if a.role == LEAD]


def clause_at(plan, section: str):
    found = [c for c in plan.clauses if c.section == section]
    assert found, (section, [c.section for c in plan.clauses])
    return found[0]


# file → (kind, number, date, year, issuer, title)
EXPECTED = {
    "meta_bao_cao_6_thang.txt": (
        "bao_cao",
        "215/BC-UBND",
        "2025-07-10",
        2025,
        "UBND tỉnh Điện Biên",
        "Báo cáo kết quả thực hiện Kế hoạch chuyển đổi số 6 tháng đầu năm 2025 và nhiệm vụ, giải pháp 6 tháng cuối năm 2025",
    ),
    "meta_thong_bao_ket_luan_web.txt": (
        "thong_bao",
        "45/TB-UBND",
        "2025-03-12",
        2025,
        "UBND tỉnh Gia Lai",
        "Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh tại cuộc họp về tiến độ giải ngân vốn đầu tư công năm 2025",
    ),
    "meta_du_thao_chua_so.txt": (
        "ke_hoach",
        "",
        None,
        2025,
        "UBND tỉnh Ninh Bình",
        "Kế hoạch phát triển du lịch nông thôn gắn với xây dựng nông thôn mới trên địa bàn tỉnh Ninh Bình năm 2026",
    ),
    "meta_so_y_te.txt": (
        "ke_hoach",
        "1234/KH-SYT",
        "2025-08-05",
        2025,
        "Sở Y tế tỉnh Quảng Trị",
        "Kế hoạch phòng, chống bệnh sốt xuất huyết trên địa bàn tỉnh năm 2025",
    ),
    "meta_qd_kem_ke_hoach.txt": (  # the decision's own title, not the attached plan's
        "quyet_dinh",
        "1502/QĐ-UBND",
        "2025-10-14",
        2025,
        "UBND tỉnh Đồng Tháp",
        "Quyết định về việc ban hành Kế hoạch thực hiện Chỉ thị số 20/CT-TTg của Thủ tướng Chính phủ",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_metadata_field(name):
    kind, number, issued, year, issuer, title = EXPECTED[name]
    meta = plan_of(name).meta
    got = (
        meta.kind,
        meta.number,
        meta.date.isoformat() if meta.date else None,
        meta.year,
        meta.issuer,
    )
    assert got == (kind, number, issued, year, issuer)
    assert fold(meta.title) == fold(title), meta.title
    assert meta.title[:1].isupper() and not meta.title[1:].isupper()


def test_a_draft_without_a_number_says_so():
    plan = plan_of("meta_du_thao_chua_so.txt")
    assert "Dự thảo: chưa có số" in plan.warnings
    assert not any("Dự thảo" in w for w in plan_of("meta_so_y_te.txt").warnings)
    duty = clause_at(plan, "II.1")
    assert leads(duty) == ["Sở Văn hóa, Thể thao và Du lịch"]


def test_report_narrative_assigns_nothing_and_its_proposals_do():
    plan = plan_of("meta_bao_cao_6_thang.txt")
    narrative = [c for c in plan.clauses if c.section.split(".")[0] in ("I", "II")]
    assert len(narrative) >= 4
    assert all(not c.assignments and c.deadline is None for c in narrative), [
        (c.section, c.assignments, c.deadline) for c in narrative if c.assignments or c.deadline
    ]
    # the narrative stays searchable
    assert any("46 trạm phát sóng" in c.text for c in narrative)
    first = clause_at(plan, "III.1")
    assert leads(first) == ["Sở Khoa học và Công nghệ"]
    assert [a.agency.name for a in first.assignments if a.role == SUPPORT] == ["Sở Tài chính"]
    assert first.deadline is not None and first.deadline.end.isoformat() <= "2025-09-30"
    second = clause_at(plan, "III.2")
    assert leads(second) == ["Sở Nội vụ"] and second.deadline.end.isoformat() == "2025-10-31"
    assert leads(clause_at(plan, "III.3"))
    proposal = clause_at(plan, "IV")
    assert leads(proposal) == ["Bộ Khoa học và Công nghệ"]


def test_conclusion_notice_behind_website_noise():
    plan = plan_of("meta_thong_bao_ket_luan_web.txt")
    text = " ".join(c.text for c in plan.clauses) + plan.meta.title
    for noise in ("THƯ VIỆN PHÁP LUẬT", "Số hiệu", "Tải về", "Loại văn bản"):
        assert noise not in text
    assert leads(clause_at(plan, "1")) == ["Sở Tài chính"]
    assert leads(clause_at(plan, "2")) == ["Sở Xây dựng"]
    third = [a.agency.raw for a in clause_at(plan, "3").assignments if a.role == LEAD]
    assert third and third[0].startswith(
        "Ban Quản lý"
    )  # the full name is the duties reader's concern
    assert leads(clause_at(plan, "4"))
    closing = [c for c in plan.clauses if "thông báo để các cơ quan" in c.text]
    assert closing and not leads(closing[0])  # the notice's closing formula is no duty of its sender
    assert clause_at(plan, "1").deadline.end.isoformat() <= "2025-03-25"


def test_department_under_its_province_letterhead():
    plan = plan_of("meta_so_y_te.txt")
    assert leads(clause_at(plan, "II.1")) == ["Trung tâm Kiểm soát bệnh tật tỉnh"]


def test_decision_issuing_a_plan_keeps_its_title_and_the_plan_its_duties():
    plan = plan_of("meta_qd_kem_ke_hoach.txt")
    police = [c for c in plan.clauses if c.text.startswith("Công an tỉnh chủ trì")]
    assert police and leads(police[0]) == ["Công an tỉnh"]
    assert police[0].deadline.end.isoformat() == "2025-12-31"
    trade = [c for c in plan.clauses if c.text.startswith("Sở Công Thương chủ trì")]
    assert trade and leads(trade[0]) == ["Sở Công Thương"]


@pytest.mark.parametrize("numbered", [True, False])
def test_report_parts_by_their_headings_numbered_or_not(numbered):
    text = (WILD / "meta_bao_cao_tong_ket.txt").read_text(encoding="utf-8")
    if not numbered:  # the same report with its parts as bare heading lines, no "Phần thứ …"
        text = text.replace("Phần thứ nhất\n", "").replace("Phần thứ hai\n", "")
    plan = parse_plan(text)
    meta = plan.meta
    assert (meta.kind, meta.number, meta.issuer) == (
        "bao_cao",
        "40/BC-SGDĐT",
        "Sở Giáo dục và Đào tạo tỉnh Cao Bằng",
    )
    assert meta.title == "Báo cáo tổng kết công tác phổ cập giáo dục năm 2025"
    done = [c for c in plan.clauses if " đã " in c.text]
    assert len(done) == 2 and all(not c.assignments and c.deadline is None for c in done)
    schools = next(c for c in plan.clauses if c.text.startswith("Các trường trung học phổ thông"))
    assert schools.deadline is not None and schools.deadline.end.isoformat() <= "2026-03-15"
    funds = next(c for c in plan.clauses if c.text.startswith("Sở Giáo dục và Đào tạo phối hợp"))
    assert funds.assignments and funds.deadline.end.isoformat() == "2026-06-30"
