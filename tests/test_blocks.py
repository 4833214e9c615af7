"""Task blocks (a task heading and its labelled lines) and leads stated in prose.

The documents in tests/data/wild/blocks_* were written for these tests, in layouts the corpus
lacks, with their expected fields decided before the parser read them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.model import LEAD, RECIPIENT, SUPPORT, Clause
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.blocks import (
    DEADLINE_FIELD,
    LEAD_FIELD,
    ROLES_FIELD,
    SUPPORT_FIELD,
    label_at,
    split_fields,
    title_field,
)
from knowledge.parsing.duties import classify
from knowledge.parsing.parser import parse_plan

WILD = Path(__file__).resolve().parent / "data" / "wild"


def _plan(name: str):
    return parse_plan((WILD / name).read_text(encoding="utf-8"))


def _item(clauses: list[Clause], citation: str, start: str) -> Clause:
    found = [c for c in clauses if c.citation == citation and c.text.startswith(start)]
    assert len(found) == 1, [
        (c.citation, c.text[:60]) for c in clauses if c.section.startswith(citation.split(",")[0])
    ]
    return found[0]


def _names(clause: Clause, role: str) -> set[str]:
    return {a.agency.name for a in clause.assignments if a.role == role}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("- *Cơ quan chủ trì:* Sở Tư pháp.", LEAD_FIELD),
        ("Đơn vị chủ trì (tham mưu) thực hiện: Sở Tư pháp.", LEAD_FIELD),
        ("+ Cơ quan thực hiện: Sở Nội vụ chủ trì tham mưu …", LEAD_FIELD),
        ("- Đơn vị phối hợp: các sở, ban, ngành.", SUPPORT_FIELD),
        ("Cơ quan chủ trì, phối hợp: Sở Y tế chủ trì; Sở Tài chính phối hợp.", ROLES_FIELD),
        ("+ Thời hạn trình: trước ngày 30/6/2025.", DEADLINE_FIELD),
        ("Tiến độ thực hiện: Năm 2026.", DEADLINE_FIELD),
        ("Thời gian hoàn thành dự kiến: Quý IV/2025.", DEADLINE_FIELD),
    ],
)
def test_labels_by_general_vocabulary(line, kind):
    found = label_at(line)
    assert found is not None and found[0] == kind


@pytest.mark.parametrize(
    "line",
    [
        "Các cơ quan chủ trì có trách nhiệm báo cáo kết quả.",  # the words, but no label
        "Thời gian qua, công tác phòng chống dịch đạt kết quả.",
        "Sở Y tế chủ trì: tổ chức tập huấn.",  # an agency heading, not a label
    ],
)
def test_prose_is_no_label(line):
    assert label_at(line) is None


def test_headings_that_are_labels():
    assert title_field("Cơ quan chủ trì, phối hợp") == ROLES_FIELD
    assert title_field("Chủ trì thực hiện") == LEAD_FIELD
    assert title_field("THỜI GIAN THỰC HIỆN") == DEADLINE_FIELD
    assert title_field("Tổ chức thực hiện") is None
    assert title_field("Phát triển hạ tầng số") is None


def test_labels_after_the_task_on_the_same_line():
    task, fields = split_fields(
        "Xây dựng quy chế. Cơ quan chủ trì: Sở Tư pháp; cơ quan phối hợp: Sở Nội vụ; thời hạn: Quý IV/2025."
    )
    assert task == "Xây dựng quy chế."
    assert [(k, v) for k, _, v in fields] == [
        (LEAD_FIELD, "Sở Tư pháp;"),
        (SUPPORT_FIELD, "Sở Nội vụ;"),
        (DEADLINE_FIELD, "Quý IV/2025."),
    ]


def test_italic_labels_under_a_numbered_task_make_one_item():
    """ "1. Tổ chức quán triệt …" then "- *Cơ quan chủ trì:* …", "- *Thời gian hoàn thành:* …",
    "- *Sản phẩm:* …": one item cited at the heading, holding the heading and its lines."""
    clauses = _plan("blocks_kh_thi_hanh_luat.md").clauses
    item = _item(clauses, "II.1", "Tổ chức quán triệt, phổ biến Luật Dữ liệu")
    assert _names(item, LEAD) == {"Sở Khoa học và Công nghệ"}
    assert {"Sở Tư pháp", "Công an tỉnh"} <= _names(item, SUPPORT)
    assert item.deadline is not None and "Quý II năm 2025" in item.deadline.text
    assert (
        "Sản phẩm: Hội nghị quán triệt" in item.text
        and "Cơ quan chủ trì: Sở Khoa học và Công nghệ" in item.text
    )
    assert not [
        c
        for c in clauses
        if c.text.startswith(("Cơ quan chủ trì", "Thời gian hoàn thành", "Sản phẩm"))
    ]


def test_bold_labels_with_a_parenthesis():
    item = _item(
        _plan("blocks_kh_thi_hanh_luat.md").clauses, "II.2", "Rà soát văn bản quy phạm pháp luật"
    )
    assert _names(item, LEAD) == {"Sở Tư pháp"}
    assert _names(item, SUPPORT) == {"Các sở, ngành"}
    assert item.deadline is not None and item.deadline.text.startswith("trước ngày 30/6/2025")


def test_plus_fields_belong_to_the_dash_task_above_them():
    clauses = _plan("blocks_kh_thi_hanh_luat.md").clauses
    first = _item(clauses, "II.3, ý 1", "Xây dựng danh mục cơ sở dữ liệu dùng chung")
    assert _names(first, LEAD) == {"Sở Khoa học và Công nghệ"}
    assert _names(first, SUPPORT) == {"Văn phòng Ủy ban nhân dân tỉnh"}
    assert first.deadline is not None and first.deadline.text.startswith("Tháng 9/2025")
    second = _item(clauses, "II.3, ý 2", "Kết nối, chia sẻ dữ liệu với Trung tâm dữ liệu quốc gia")
    assert _names(second, LEAD) == {"Công an tỉnh"}
    assert _names(second, SUPPORT) == {"Sở Khoa học và Công nghệ"}
    assert second.deadline is not None and second.deadline.text.startswith("Năm 2026")
    assert "Kết quả: Dữ liệu của tỉnh được kết nối" in second.text


def test_fields_on_the_task_line():
    clauses = _plan("blocks_kh_thi_hanh_luat.md").clauses
    rule = _item(clauses, "II.4, ý 1", "Xây dựng quy chế quản lý, khai thác dữ liệu")
    assert _names(rule, LEAD) == {"Sở Tư pháp"} and _names(rule, SUPPORT) == {"Sở Nội vụ"}
    assert rule.deadline is not None and rule.deadline.text.startswith("Quý IV/2025")
    budget = _item(clauses, "II.4, ý 2", "Bố trí kinh phí thực hiện Kế hoạch")
    assert _names(budget, LEAD) == {"Sở Tài chính"}
    assert budget.deadline is not None and budget.deadline.text.startswith("hằng năm")


def test_a_group_of_tasks_with_its_fields_in_numbered_parts():
    """ "1.1. Nội dung thực hiện: a) … b) …", "1.2. Đơn vị chủ trì, phối hợp", "1.3. Thời hạn
    hoàn thành: …": every task of the group, and the group's own item, carry the fields."""
    clauses = _plan("blocks_kh_nhom_nhiem_vu.txt").clauses
    group = _item(clauses, "II.1", "Hoàn thiện thể chế, chính sách về nông nghiệp hữu cơ")
    tasks = [
        _item(clauses, "II.1.1.a", "Rà soát, sửa đổi tiêu chuẩn"),
        _item(clauses, "II.1.1.b", "Xây dựng chính sách hỗ trợ"),
    ]
    for item in (group, *tasks):
        assert _names(item, LEAD) == {"Cục Trồng trọt và Bảo vệ thực vật"}
        assert _names(item, SUPPORT) == {"Vụ Pháp chế", "Vụ Khoa học và Công nghệ"}
        assert item.deadline is not None and item.deadline.text.startswith("Năm 2026")
    assert "Đơn vị chủ trì: Cục Trồng trọt và Bảo vệ thực vật." in group.text
    second = _item(clauses, "II.2.1.b", "Hỗ trợ doanh nghiệp, hợp tác xã")
    assert "Ủy ban nhân dân tỉnh" in _names(second, LEAD) or any(
        "các tỉnh" in a.agency.raw for a in second.assignments
    )
    assert any(n.startswith("Cục Kinh tế hợp tác") for n in _names(second, LEAD))
    assert _names(second, SUPPORT) == {"Hiệp hội Nông nghiệp hữu cơ Việt Nam"}
    assert second.deadline is not None and second.deadline.text.startswith("Giai đoạn 2025 - 2030")


def test_an_agency_heading_owns_bullets_two_levels_deep():
    clauses = _plan("blocks_kh_phan_cong.txt").clauses
    deep = _item(clauses, "II.3.a, ý 2", "Bảo đảm đủ thuốc, vật tư")
    assert _names(deep, LEAD) == {"Sở Y tế"}
    assert deep.deadline is not None and "quý II/2025" in deep.deadline.text
    assert _names(_item(clauses, "II.3.a, ý 3", "Tập huấn phác đồ điều trị"), LEAD) == {"Sở Y tế"}


@pytest.mark.parametrize(
    ("citation", "start", "lead", "deadline"),
    [
        ("II.1", "Giao Sở Y tế chủ trì", {"Sở Y tế"}, "trước ngày 30/6/2025"),
        (
            "II.2",
            "Thành lập Tổ công tác liên ngành",
            {"Sở Y tế"},
            "tháng 4/2025",
        ),  # "do Sở Y tế làm thường trực"
        ("II.4", "Sở Tài chính có trách nhiệm", {"Sở Tài chính"}, "trước ngày 15/5/2025"),
        ("II.5", "Sở Giáo dục và Đào tạo tham mưu", {"Sở Giáo dục và Đào tạo"}, "hằng tháng"),
        (
            "II.6",
            "Sở Thông tin và Truyền thông là cơ quan đầu mối",
            {"Sở Thông tin và Truyền thông"},
            None,
        ),
        (
            "II.7",
            "Đề nghị Ủy ban Mặt trận Tổ quốc",
            {"Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"},
            None,
        ),
    ],
)
def test_leads_stated_in_prose(citation, start, lead, deadline):
    item = _item(_plan("blocks_kh_phan_cong.txt").clauses, citation, start)
    assert _names(item, LEAD) == lead
    if deadline:
        assert item.deadline is not None and deadline in item.deadline.text


def test_the_requester_is_not_the_doer_and_recipients_stay_apart():
    clauses = _plan("blocks_kh_phan_cong.txt").clauses
    asked = _item(clauses, "II.8", "Ủy ban nhân dân tỉnh yêu cầu")
    assert "Ủy ban nhân dân tỉnh" not in _names(asked, LEAD) and _names(asked, LEAD)
    assert _names(asked, RECIPIENT) == {"Sở Y tế"}
    advised = _item(clauses, "II.5", "Sở Giáo dục và Đào tạo tham mưu")
    assert "Ủy ban nhân dân tỉnh" not in _names(advised, LEAD) and _names(advised, RECIPIENT) == {
        "Sở Y tế"
    }
    reports = _item(clauses, "II.10", "Các sở, ban, ngành báo cáo")
    assert _names(reports, RECIPIENT) == {"Sở Y tế", "Ủy ban nhân dân tỉnh"}
    assert not _names(reports, LEAD) & _names(reports, RECIPIENT)


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("+ Sở Công Thương: hướng dẫn các chợ thực hiện kiểm kê tài sản.", {"Sở Công Thương"}),
        (
            "Bước 2: Ủy ban nhân dân các xã, phường (sau đây gọi chung là Ủy ban nhân dân cấp xã) tổ chức "
            "niêm yết danh sách, gửi hồ sơ về Ủy ban nhân dân tỉnh.",
            {"Ủy ban nhân dân cấp xã"},
        ),
        (
            "Sau khi niêm yết, Ủy ban nhân dân xã, phường, thị trấn lập biên bản gửi Ủy ban nhân dân huyện.",
            {"Ủy ban nhân dân cấp xã"},
        ),
        (
            "Trên cơ sở đề xuất của Ủy ban nhân dân các huyện, thị xã, Sở Nông nghiệp và Môi trường chủ trì, "
            "phối hợp với Sở Tài chính lập phương án hỗ trợ.",
            {"Sở Nông nghiệp và Môi trường"},
        ),
        ("Kiện toàn Hội đồng thẩm định do Sở Xây dựng làm cơ quan thường trực.", {"Sở Xây dựng"}),
        ("Quy chế hoạt động của Tổ công tác do Sở Nội vụ hướng dẫn thực hiện.", {"Sở Nội vụ"}),
        (
            "Thực hiện theo mẫu do Bộ Tài chính ban hành.",
            set(),
        ),  # the issuer of a form does no task
    ],
)
def test_leads_in_steps_and_prose(text, lead):
    found = {a.agency.name for a in classify(text, AgencyRegistry(), []) if a.role == LEAD}
    assert found == lead
