"""Fields that a reader joins without thinking, in layouts the corpus has little of: a name that
runs on past "các" or to its verb, a collective of generic doers as the subject, an organisation
named by its shape in a table's lead column, and a period stated once for many duties."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.model import LEAD, RECIPIENT, SUPPORT
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.duties import classify
from knowledge.parsing.parser import parse_plan

WILD = Path(__file__).resolve().parent / "data" / "wild"


@pytest.fixture(scope="module")
def plan():
    return parse_plan((WILD / "fields2_kh_chuyen_doi_so.txt").read_text(encoding="utf-8"))


def _clause(plan, section: str):
    found = [c for c in plan.clauses if c.section == section]
    assert len(found) == 1, [(c.section, c.text[:40]) for c in plan.clauses]
    return found[0]


def _role(clause, role: str) -> list[str]:
    return [a.agency.name for a in clause.assignments if a.role == role]


def test_a_name_runs_on_after_cac_and_up_to_its_verb(plan):
    item = _clause(plan, "II.2")
    assert _role(item, LEAD) == ["Ban Quản lý các Khu công nghiệp và kinh tế cửa khẩu Tỉnh"]
    assert _role(item, SUPPORT) == ["Sở Công Thương"]
    assert _role(_clause(plan, "II.3"), LEAD) == ["Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"]


def test_collectives_of_generic_doers_are_subjects(plan):
    item = _clause(plan, "II.4")
    assert _role(item, LEAD) == ["Các cơ quan, đơn vị liên quan"]
    assert _role(item, RECIPIENT) == ["Sở Khoa học và Công nghệ"]
    assert item.deadline.text == "Định kỳ 06 tháng"
    assert _role(_clause(plan, "II.5"), LEAD) == ["Các nhà đầu tư trong khu công nghiệp"]


def test_table_lead_cells_named_by_their_shape(plan):
    rows = {t.row: t for t in plan.tasks}
    assert [r.name for r in rows["1"].lead] == ["Hiệp hội Doanh nghiệp tỉnh"]
    assert [r.name for r in rows["2"].lead] == ["Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh"]
    assert [r.name for r in rows["2"].support] == ["Sở Khoa học và Công nghệ"]


def test_a_lead_in_period_belongs_to_the_items_under_it(plan):
    assert _clause(plan, "II.1").deadline.text == "trước ngày 30/10/2025"  # its own time wins
    for section in ("II.2", "II.3", "II.5"):
        deadline = _clause(plan, section).deadline
        assert deadline is not None and deadline.text == "Từ nay đến hết năm 2027"
        assert deadline.end.isoformat() == "2027-12-31"


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        (
            "Ban Quản lý các Khu chế xuất và công nghiệp Thành phố chủ trì, phối hợp với các sở, ban, ngành tổ chức tập huấn.",
            ["Ban Quản lý các Khu chế xuất và công nghiệp Thành phố"],
        ),
        (
            "Triển khai thực hiện tốt Kế hoạch này. Định kỳ 06 tháng các cơ quan có liên quan báo cáo kết quả về Sở Nội vụ.",
            ["Các cơ quan, đơn vị liên quan"],
        ),
        (
            "Đối với ứng dụng IoT trong khu công nghiệp: Do các nhà đầu tư chủ động tự bảo đảm kinh phí.",
            ["các nhà đầu tư"],
        ),
        ("Các doanh nghiệp được hỗ trợ kinh phí theo quy định hiện hành.", []),
        ("Do các địa phương chưa quan tâm nên kết quả còn hạn chế.", []),
        (
            "Sở Y tế và các đơn vị liên quan chủ trì tổ chức kiểm tra.",
            ["Sở Y tế", "Các cơ quan, đơn vị liên quan"],
        ),
    ],
)
def test_subjects_in_prose(text, lead):
    found = classify(text, AgencyRegistry())
    assert [a.agency.name for a in found if a.role == LEAD] == lead


def test_the_plan_period_is_the_time_of_duties_stating_none():
    plan = parse_plan((WILD / "fields2_kh_thoi_gian_chung.txt").read_text(encoding="utf-8"))
    by_text = {c.text[:30]: c for c in plan.clauses if c.in_implementation}
    first = next(c for t, c in by_text.items() if t.startswith("Chủ trì xây dựng tài liệu"))
    assert _role(first, LEAD) == ["Sở Y tế"]
    assert first.deadline.text.lower() == "từ tháng 6 năm 2025 đến hết năm 2026"
    assert first.deadline.end.isoformat() == "2026-12-31"
    own = next(c for t, c in by_text.items() if t.startswith("Tổng hợp kết quả thực hiện"))
    assert own.deadline.recurrence  # its own time (each year), not the plan's
    ongoing = next(c for t, c in by_text.items() if t.startswith("Sở Văn hóa"))
    # work said to go on regularly is not due at the end of the plan's period
    assert ongoing.deadline is None or "2026" not in ongoing.deadline.text
    local = next(c for t, c in by_text.items() if t.startswith("Ủy ban nhân dân các huyện"))
    assert local.deadline.text.lower() == "từ tháng 6 năm 2025 đến hết năm 2026"
    # the purpose part states no duty: it gets no time
    assert all(c.deadline is None for c in plan.clauses if c.section.startswith("I."))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Từ tháng 6 năm 2025 đến hết năm 2026", "2025-06-01", "2026-12-31"),
        ("từ tháng 6/2025 đến hết năm 2026", "2025-06-01", "2026-12-31"),
        ("Từ năm 2025 đến hết năm 2026", "2025-01-01", "2026-12-31"),
    ],
)
def test_a_span_to_the_end_of_a_year(text, start, end):
    from knowledge.dates.deadlines import parse_deadline

    found = parse_deadline(text)
    assert (found.start.isoformat(), found.end.isoformat()) == (start, end)


# (task start, lead, support, deadline) of each "-" item whose fields are "-" lines below it
FLAT = [
    ("Tổ chức tập huấn", ["Sở Khoa học và Công nghệ"], ["Sở Tư pháp", "Sở Nội vụ"], "Quý II/2025"),
    ("Rà soát, xây dựng", ["Sở Tài chính"], [], "trước ngày 30/11/2025"),
    ("Bố trí kinh phí", ["Sở Tài chính"], ["Các sở, ngành"], "Năm 2025 và các năm tiếp theo"),
]


def _check_flat(clauses) -> None:
    items = [c for c in clauses if c.section == "II"]
    assert len(items) == 3, [(c.citation, c.text[:40]) for c in clauses]
    for clause, (start, lead, support, deadline) in zip(items, FLAT, strict=True):
        assert clause.text.startswith(start)
        assert _role(clause, LEAD) == lead
        assert _role(clause, SUPPORT) == support
        assert clause.deadline is not None and clause.deadline.text == deadline


def test_fields_on_the_same_list_level_as_their_task():
    _check_flat(
        parse_plan((WILD / "fields2_kh_gach_dau_dong.txt").read_text(encoding="utf-8")).clauses
    )


def test_a_word_list_with_fields_as_list_items():
    """The same plan as a real .docx: tasks in "List Bullet", fields in "List Bullet 2" (Word
    gives that style a list of its own, at level 0: the depth is no guide)."""
    import io

    from docx import Document as WordDocument

    from indexer.loaders import read_plan_bytes
    from knowledge.parsing.parser import parse_document

    text = (WILD / "fields2_kh_gach_dau_dong.txt").read_text(encoding="utf-8")
    doc = WordDocument()
    for line in text.splitlines():
        if line.startswith("- Cơ quan") or line.startswith("- Thời hạn"):
            doc.add_paragraph(line[2:], style="List Bullet 2")
        elif line.startswith("- ") and "Nơi nhận" not in text.split(line)[0][-200:]:
            doc.add_paragraph(line[2:], style="List Bullet")
        elif line.strip():
            doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    _check_flat(parse_document(read_plan_bytes("kh.docx", buf.getvalue())).clauses)


def test_a_known_collective_after_a_periodic_phrase_is_the_subject():
    registry = AgencyRegistry()
    registry.add_name("các cơ quan có liên quan", collective=True)  # met in another plan
    text = "Định kỳ 06 tháng các cơ quan có liên quan báo cáo kết quả thực hiện gửi về Sở Nội vụ."
    found = classify(text, registry)
    assert [a.agency.name for a in found if a.role == LEAD] == ["các cơ quan có liên quan"]
    assert [a.agency.name for a in found if a.role == RECIPIENT] == ["Sở Nội vụ"]


def test_a_body_the_plan_sets_up_is_named_in_full_later():
    plan = parse_plan((WILD / "fields2_kh_to_cong_tac.txt").read_text(encoding="utf-8"))
    setup, survey = _clause(plan, "II.1"), _clause(plan, "II.2")
    assert _role(setup, LEAD) == ["Ủy ban nhân dân cấp xã"] or _role(setup, LEAD)[0].startswith(
        "Ủy ban nhân dân"
    )
    assert setup.deadline.text == "trước ngày 28/02/2025"
    assert _role(survey, LEAD) == ["Tổ công tác xóa nhà tạm, nhà dột nát cấp xã"]
    assert survey.deadline.text == "trước ngày 31/3/2025"
