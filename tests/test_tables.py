"""Tables understood by meaning: real corpus tables (copies in tests/data/corpus), the sample
plans' tables unchanged, and layouts the corpus lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.document import Cell, Table, from_text
from knowledge.model import Task
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.tabular.tables import TableResult, parse_table
from knowledge.text import fold, nfc

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
SAMPLES = Path(__file__).parent.parent / "sample_plans"


def tables_of(path: Path) -> list[TableResult]:
    registry = AgencyRegistry()
    document = from_text(nfc(path.read_text(encoding="utf-8")))
    results, count = [], 0
    for table in document.tables:
        result = parse_table(table, "Phụ lục", registry, first_ordinal=count + 1)
        count += len(result.tasks)
        results.append(result)
    return results


def tasks_of(path: Path) -> list[Task]:
    return [t for r in tables_of(path) for t in r.tasks]


def silver() -> tuple[dict[str, list[dict]], set[str]]:
    rows: dict[str, list[dict]] = {}
    non_task: set[str] = set()
    for line in (DATA / "silver" / "table_rows.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if "tt" in item:
            rows.setdefault(item["doc"], []).append(item)
        elif item.get("not_task_table"):
            non_task.add(item["doc"])
    return rows, non_task


SILVER, NON_TASK = silver()


@pytest.mark.parametrize("doc", sorted(SILVER))
def test_silver_rows_found_with_their_cells(doc: str) -> None:
    tasks = tasks_of(CORPUS / doc)
    used: set[int] = set()
    found = exact = 0
    for row in SILVER[doc]:
        prefix = fold(row["task"])
        i = next(
            (i for i, t in enumerate(tasks) if i not in used and fold(t.text).startswith(prefix)),
            None,
        )
        if i is None:
            continue
        used.add(i)
        found += 1
        t = tasks[i]
        cells = (t.row, t.lead_text, t.support_text, t.deadline.text if t.deadline else "")
        exact += all(
            fold(a) == fold(b)
            for a, b in zip(
                cells, (row["tt"], row["lead"], row["support"], row["deadline"]), strict=True
            )
        )
    assert found == len(SILVER[doc])
    assert exact == len(SILVER[doc])
    invented = [t.text[:60] for i, t in enumerate(tasks) if i not in used]
    assert invented == []


@pytest.mark.parametrize("doc", sorted(NON_TASK - set(SILVER)))
def test_non_task_tables_give_no_task_but_stay_searchable(doc: str) -> None:
    results = tables_of(CORPUS / doc)
    assert [t.text for r in results for t in r.tasks] == []
    assert all(r.rows_text for r in results)  # (a two-column list in plain text is not a table)


def test_procedure_list_rows_keep_their_column_labels() -> None:
    rows = [t for r in tables_of(CORPUS / "2608-QD-UBND_9d0926aa.txt") for t in r.rows_text]
    assert any(
        "Tên thủ tục hành chính: Cấp Giấy chứng nhận đăng ký tổ chức khoa học" in t for t in rows
    )
    kinds = {k for r in tables_of(CORPUS / "2608-QD-UBND_9d0926aa.txt") for k in r.kinds}
    assert "procedures" in kinds


def test_indicator_appendix_then_task_appendix_whose_header_was_lost() -> None:
    results = tables_of(CORPUS / "2629-QD-TT_2edf5927.txt")
    kinds = [k for r in results for k in r.kinds]
    assert "indicators" in kinds and "tasks" in kinds
    text = " ".join(t for r in results for t in r.rows_text)
    assert "Chỉ tiêu: Tỉ lệ dịch vụ công trực tuyến toàn trình" in text
    tasks = [t for r in results for t in r.tasks]
    law = next(t for t in tasks if t.text.startswith("Xây dựng Luật An ninh dữ liệu"))
    assert (law.lead_text, law.deadline.text if law.deadline else None) == (
        "Bộ Công an",
        "Tháng 12/2026",
    )
    assert law.group == "Nhóm I"
    # The crawler's footer after the last row is not part of the last task.
    assert "Địa chỉ" not in tasks[-1].text and "Địa chỉ" not in " ".join(tasks[-1].extra.values())


def test_rows_shifted_by_a_leading_empty_cell_and_headers_without_number_cell() -> None:
    tasks = tasks_of(CORPUS / "179-KH-UBND_f004d93b.txt")
    first = tasks[0]
    assert (first.row, first.lead_text, first.group) == ("1.1", "Sở Tư pháp", "Nhóm A.I")
    assert first.text.startswith("Rà soát, xây dựng, sửa đổi")
    # Part B numbers its groups again from I: groups stay apart.
    b = next(
        t
        for t in tasks
        if t.text.startswith(
            "Xây dựng và tổ chức triển khai Kế hoạch phát triển kinh tế số và xã hội số trong lĩnh vực nông"
        )
    )
    assert (b.row, b.group, b.lead_text) == ("1.1", "Nhóm B.I", "Sở Nông nghiệp và Môi trường")
    # "5.1" on its own line, then its title on the next: a group, not a task without text.
    assert all(t.text for t in tasks)
    trade = next(t for t in tasks if t.row == "5.1.1")
    assert trade.group == "Nhóm 5.1" and trade.lead_text == "Sở Công Thương"


def test_two_rows_glued_into_one_line_are_split() -> None:
    tasks = tasks_of(CORPUS / "980-KH-UBND_c5d930a5.txt")
    rules = [t for t in tasks if t.text.startswith("Ban hành Quy chế Phối hợp tìm kiếm, cứu nạn")]
    assert [(t.row, t.lead_text) for t in rules] == [("7", "Sở Xây dựng"), ("8", "Sở Xây dựng")]
    fund = next(t for t in tasks if t.text.startswith("Thành lập bộ máy quản lý Quỹ"))
    assert (fund.row, fund.lead_text, fund.deadline.text) == ("2", "Sở Tài chính", "2025")
    assert not any("…" in t.text or "...." in t.text for t in tasks)


def test_sample_plans_tables_unchanged() -> None:
    snapshot = json.loads((DATA / "sample_tables_snapshot.json").read_text(encoding="utf-8"))
    for name, expected in snapshot.items():
        tasks = tasks_of(SAMPLES / name)
        got = [
            {
                "row": t.row,
                "group": t.group,
                "text": t.text,
                "lead": [r.name for r in t.lead],
                "support": [r.name for r in t.support],
                "lead_text": t.lead_text,
                "support_text": t.support_text,
                "deadline": t.deadline.text if t.deadline else "",
                "deadline_kind": t.deadline.kind if t.deadline else "",
                "deadline_end": str(t.deadline.end) if t.deadline and t.deadline.end else None,
                "note": t.note,
                "extra": t.extra,
            }
            for t in tasks
        ]
        assert len(got) == {"003_c46a33fedfcb2327.txt": 19, "004_59a1719852ce6b3c.txt": 17}[name]
        assert got == expected


# -- layouts the corpus lacks ------------------------------------------------------------------
REGISTRY = AgencyRegistry()


def test_columns_in_another_order_with_the_year_in_the_header() -> None:
    rows = [
        ["Thời gian (Năm 2026)", "Cơ quan chủ trì", "Nội dung công việc", "TT"],
        ["Quý I", "Sở Y tế", "Rà soát cơ sở dữ liệu tiêm chủng", "1"],
        ["Tháng 6", "Sở Nội vụ", "Kiện toàn tổ chức bộ máy y tế cơ sở", "2"],
        ["Quý IV/2027", "Sở Tài chính", "Tổng kết, đánh giá", "3"],
    ]
    tasks = parse_table(rows, "Phụ lục", REGISTRY).tasks
    assert [(t.row, t.text, t.lead_text) for t in tasks] == [
        ("1", "Rà soát cơ sở dữ liệu tiêm chủng", "Sở Y tế"),
        ("2", "Kiện toàn tổ chức bộ máy y tế cơ sở", "Sở Nội vụ"),
        ("3", "Tổng kết, đánh giá", "Sở Tài chính"),
    ]
    ends = [str(t.deadline.end) for t in tasks if t.deadline]
    assert ends == ["2026-03-31", "2026-06-30", "2027-12-31"]


def test_plan_year_completes_a_deadline_without_year() -> None:
    rows = [
        ["STT", "Nhiệm vụ", "Chủ trì", "Thời hạn"],
        ["1", "Báo cáo sơ kết", "Sở Nội vụ", "Tháng 6"],
    ]
    assert parse_table(rows, "", REGISTRY).tasks[0].deadline.kind == "unparsed"
    deadline = parse_table(rows, "", REGISTRY, plan_year=2026).tasks[0].deadline
    assert deadline is not None and str(deadline.end) == "2026-06-30"


def test_group_header_over_lead_and_support_columns() -> None:
    rows = [
        ["STT", "Nhiệm vụ", "Cơ quan", "", "Thời hạn"],
        ["", "", "Chủ trì", "Phối hợp", ""],
        [
            "1",
            "Xây dựng kế hoạch truyền thông",
            "Sở Văn hóa, Thể thao và Du lịch",
            "Sở Tài chính",
            "Quý II/2026",
        ],
    ]
    # The same header as a crawler writes it, having dropped the cells its rowspans covered.
    dropped = [rows[0][:3] + rows[0][4:], ["Chủ trì", "Phối hợp"], rows[2]]
    for table in (rows, dropped):
        (task,) = parse_table(table, "", REGISTRY).tasks
        assert (task.lead_text, task.support_text, task.deadline.text) == (
            "Sở Văn hóa, Thể thao và Du lịch",
            "Sở Tài chính",
            "Quý II/2026",
        )


def test_word_table_with_merged_cells_and_a_group_row_across_the_table() -> None:
    table = Table(
        rows=[
            [Cell("TT"), Cell("Nội dung"), Cell("Đơn vị chủ trì"), Cell("Thời gian hoàn thành")],
            [Cell("I. Nhóm nhiệm vụ về thể chế", col_span=4)],
            [
                Cell("1"),
                Cell("Xây dựng quy chế phối hợp"),
                Cell("Sở Tư pháp", row_span=2),
                Cell("Tháng 3/2026", row_span=2),
            ],
            [
                Cell("2"),
                Cell("Rà soát văn bản quy phạm"),
                Cell("", merged_from_above=True),
                Cell("", merged_from_above=True),
            ],
            [Cell("3"), Cell("Tổng kết"), Cell("Văn phòng UBND tỉnh"), Cell("Tháng 12/2026")],
        ]
    )
    tasks = parse_table(table, "Phụ lục", REGISTRY).tasks
    assert [(t.row, t.group, t.lead_text, t.deadline.text) for t in tasks] == [
        ("1", "Nhóm I", "Sở Tư pháp", "Tháng 3/2026"),
        ("2", "Nhóm I", "Sở Tư pháp", "Tháng 3/2026"),
        ("3", "Nhóm I", "Văn phòng UBND tỉnh", "Tháng 12/2026"),
    ]
    # Without a merge, an empty agency cell stays empty (no guessing from the row above).
    plain = [
        ["TT", "Nội dung", "Đơn vị chủ trì", "Thời hạn"],
        ["1", "Việc một", "Sở Tư pháp", "2026"],
        ["2", "Việc hai", "", "2026"],
    ]
    assert parse_table(plain, "", REGISTRY).tasks[1].lead_text == ""


def test_one_responsibility_column_naming_both_roles() -> None:
    rows = [
        ["TT", "Nhiệm vụ", "Trách nhiệm thực hiện", "Thời gian"],
        ["1", "Tuyên truyền pháp luật", "Sở Tư pháp chủ trì, phối hợp với Sở Nội vụ", "Năm 2026"],
        [
            "2",
            "Bố trí kinh phí",
            "Chủ trì: Sở Tài chính; phối hợp: Sở Y tế, Bảo hiểm xã hội tỉnh",
            "Hằng năm",
        ],
        ["3", "Kiểm tra việc thực hiện", "Văn phòng UBND tỉnh", "Quý IV/2026"],
    ]
    tasks = parse_table(rows, "", REGISTRY).tasks
    assert [(t.lead_text, t.support_text) for t in tasks] == [
        ("Sở Tư pháp", "Sở Nội vụ"),
        ("Sở Tài chính", "Sở Y tế, Bảo hiểm xã hội tỉnh"),
        ("Văn phòng UBND tỉnh", ""),
    ]


def test_number_inside_the_task_cell_and_sub_rows() -> None:
    rows = [
        ["Nhiệm vụ", "Chủ trì", "Phối hợp", "Thời hạn"],
        ["1. Nhóm nhiệm vụ chuyển đổi số", "", "", ""],
        ["1.1. Số hóa hồ sơ hành chính", "Sở Nội vụ", "Các sở, ngành", "2026"],
        ["a) Số hóa hồ sơ cấp xã", "", "", ""],
        ["1.2. Cập nhật cơ sở dữ liệu", "", "", "Quý I/2027"],
    ]
    tasks = parse_table(rows, "", REGISTRY).tasks
    assert [(t.row, t.text, t.lead_text, t.deadline.text) for t in tasks] == [
        ("1.1", "Số hóa hồ sơ hành chính", "Sở Nội vụ", "2026"),
        (
            "a",
            "Số hóa hồ sơ cấp xã",
            "Sở Nội vụ",
            "2026",
        ),  # a sub-row: its parent's agencies and deadline
        ("1.2", "Cập nhật cơ sở dữ liệu", "", "Quý I/2027"),  # a sibling: nothing inherited
    ]
    assert {t.group for t in tasks} == {"Nhóm 1"}


@pytest.mark.parametrize(
    "rows",
    [
        [
            ["TT", "Đơn vị được kiểm tra", "Thời gian"],
            ["1", "UBND xã An Phú", "Ngày 10/3/2026"],
            ["2", "UBND xã Bình Hòa", "Ngày 12/3/2026"],
        ],
        [
            ["STT", "Nội dung", "Thời gian phát sóng"],
            ["1", "Phóng sự về chuyển đổi số", "Tháng 3/2026"],
            ["2", "Tọa đàm trực tuyến", "Tháng 4/2026"],
        ],
    ],
)
def test_schedules_are_dated_rows_not_tasks(rows: list[list[str]]) -> None:
    result = parse_table(rows, "", REGISTRY)
    assert result.tasks == [] and result.kinds == ["schedule"]
    assert result.rows_text[0].endswith(f"{rows[0][2]}: {rows[1][2]}")


@pytest.mark.parametrize(
    "rows",
    [
        [
            ["TT", "Chỉ tiêu", "Đơn vị tính", "Năm 2025", "Năm 2026"],
            ["1", "Tỷ lệ hồ sơ trực tuyến", "%", "80", "90"],
        ],
        [
            ["TT", "Nội dung", "Kinh phí (triệu đồng)", "Nguồn vốn"],
            ["1", "Mua sắm thiết bị", "500", "Ngân sách tỉnh"],
        ],
        [
            ["ỦY BAN NHÂN DÂN TỈNH X", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
            ["Số: 12/KH-UBND", "X, ngày 1 tháng 2 năm 2026"],
        ],
    ],
)
def test_indicator_budget_and_letterhead_tables_give_no_task(rows: list[list[str]]) -> None:
    result = parse_table(rows, "", REGISTRY)
    assert result.tasks == []
    assert result.rows_text


def test_meeting_programme_is_a_schedule() -> None:
    """The programme table of Công điện 2003/CĐ-VPCP (formats/real_2003-CD-VPCP.docx): hours of
    the day and who presents, not duties with deadlines."""
    rows = [
        ["Thời gian", "Nội dung", "Chủ trì"],
        ["07h45 - 8h00", "Tiếp đón đại biểu", "Bộ Công an"],
        ["08h00 - 08h10", "Tuyên bố lý do, giới thiệu đại biểu", "Văn phòng Chính phủ"],
        ["08h10 - 08h20", "Phát biểu khai mạc Hội nghị", "Đồng chí Lê Thành Long, Phó Thủ tướng"],
        ["10h30", "Thủ tướng Chính phủ phát biểu chỉ đạo", ""],
    ]
    result = parse_table(Table.from_grid(rows), "", REGISTRY)
    assert result.tasks == [] and result.kinds == ["schedule"]
    assert (
        "Thời gian: 07h45 - 8h00; Nội dung: Tiếp đón đại biểu; Chủ trì: Bộ Công an"
        in result.rows_text
    )


def test_cells_a_conversion_dropped_under_a_rowspan_mean_same_as_above() -> None:
    rows = [
        ["TT", "Nội dung", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian"],
        [
            "1",
            "Xây dựng kế hoạch truyền thông năm",
            "Sở Văn hóa, Thể thao và Du lịch",
            "Sở Tài chính",
            "Quý I/2026",
        ],
        [
            "2",
            "Tổ chức hội nghị quán triệt kế hoạch",
            "Sở Nội vụ",
            "Quý II/2026",
        ],  # lead cell dropped
        [
            "3",
            "Tổng hợp báo cáo kết quả thực hiện",
            "Sở Tư pháp",
            "Sở Nội vụ",
        ],  # ambiguous: kept as written
    ]
    tasks = parse_table(rows, "", REGISTRY).tasks
    assert [
        (t.lead_text, t.support_text, t.deadline.text if t.deadline else "") for t in tasks
    ] == [
        ("Sở Văn hóa, Thể thao và Du lịch", "Sở Tài chính", "Quý I/2026"),
        ("Sở Văn hóa, Thể thao và Du lịch", "Sở Nội vụ", "Quý II/2026"),
        ("Sở Tư pháp", "Sở Nội vụ", ""),
    ]


def test_group_rows_across_the_table_and_monitoring_budget_columns() -> None:
    rows = [
        [
            "STT",
            "Tên nhiệm vụ",
            "Kinh phí (triệu đồng)",
            "Cơ quan theo dõi, đôn đốc",
            "Đơn vị thực hiện",
            "Tiến độ",
        ],
        ["1. Nhóm nhiệm vụ về thể chế", "", "", "", "", ""],
        [
            "1",
            "Ban hành quy chế quản lý dữ liệu",
            "200",
            "Văn phòng UBND tỉnh",
            "Sở Khoa học và Công nghệ",
            "Quý III/2026",
        ],
        [
            "2",
            "Rà soát thủ tục hành chính nội bộ",
            "",
            "Văn phòng UBND tỉnh",
            "Sở Nội vụ",
            "Năm 2026",
        ],
        ["2. Nhóm nhiệm vụ về hạ tầng", "", "", "", "", ""],
        [
            "1",
            "Nâng cấp trung tâm dữ liệu tỉnh",
            "5.000",
            "Sở Tài chính",
            "Sở Khoa học và Công nghệ",
            "2026-2027",
        ],
    ]
    tasks = parse_table(rows, "", REGISTRY).tasks
    assert [(t.group, t.row, t.lead_text, t.deadline.text) for t in tasks] == [
        ("Nhóm 1", "1", "Sở Khoa học và Công nghệ", "Quý III/2026"),
        ("Nhóm 1", "2", "Sở Nội vụ", "Năm 2026"),
        ("Nhóm 2", "1", "Sở Khoa học và Công nghệ", "2026-2027"),
    ]
    assert tasks[0].extra == {
        "Kinh phí (triệu đồng)": "200",
        "Cơ quan theo dõi, đôn đốc": "Văn phòng UBND tỉnh",
    }


def test_agency_cells_with_role_words_bullets_and_bracketed_numbers() -> None:
    rows = [
        ["TT", "Nội dung", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"],
        [
            "(1)",
            "Xây dựng cơ sở dữ liệu ngành",
            "Chủ trì: Sở Y tế",
            "- Sở Tài chính - Công an tỉnh",
            "Quý II/2026",
        ],
        ["(2)", "Đào tạo cán bộ", "Sở Nội vụ", "Phối hợp với: Sở Y tế", "Quý IV/2026"],
    ]
    tasks = parse_table(rows, "", REGISTRY).tasks
    assert [(t.row, t.lead_text, t.support_text) for t in tasks] == [
        ("1", "Sở Y tế", "Sở Tài chính; Công an tỉnh"),
        ("2", "Sở Nội vụ", "Sở Y tế"),
    ]
    assert [r.name for r in tasks[0].support] == ["Sở Tài chính", "Công an tỉnh"]


def test_two_line_header_with_repeated_group_words_and_page_break() -> None:
    """tests/data/plan_other_layout.txt: "CƠ QUAN | CƠ QUAN" over "CHỦ TRÌ | PHỐI HỢP", the
    header repeated after a page break, a sub-row whose merged lead cell was left empty."""
    (result,) = tables_of(DATA / "plan_other_layout.txt")
    rows = {(t.group, t.row): t for t in result.tasks}
    assert len(result.tasks) == 7
    assert rows[("Nhóm I", "1")].extra == {
        "SẢN PHẨM": "Hệ thống đường truyền",
        "KINH PHÍ": "Ngân sách tỉnh",
    }
    assert rows[("Nhóm I", "1.1")].lead_text == "Sở Giáo dục và Đào tạo"  # from its parent row 1
    assert (rows[("Nhóm II", "2")].lead_text, rows[("Nhóm II", "2")].support_text) == (
        "Sở Giáo dục và Đào tạo",
        "Công an tỉnh",
    )
    assert rows[("Nhóm II", "3")].deadline.text == "Quý IV năm 2025"


def test_next_page_table_without_header_continues_the_table_before() -> None:
    """A PDF gives one table per page; Word repeats no header; a row is cut by the page break."""
    page1 = Table.from_grid(
        [
            [
                "TT",
                "Nội dung nhiệm vụ",
                "Cơ quan chủ trì",
                "Cơ quan phối hợp",
                "Thời gian hoàn thành",
            ],
            [
                "1",
                "Rà soát, sửa đổi quy chế làm việc của Ủy ban nhân dân tỉnh",
                "Văn phòng UBND tỉnh",
                "Sở Tư pháp",
                "Quý I/2026",
            ],
            [
                "2",
                "Xây dựng cơ sở dữ liệu về cán bộ, công chức, viên chức",
                "Sở Nội vụ",
                "Sở Khoa học",
                "Trước",
            ],
        ]
    )
    page2 = Table.from_grid(
        [
            [
                "",
                "và người lao động trong các cơ quan nhà nước",
                "",
                "và Công nghệ",
                "ngày 01/7/2026",
            ],
            [
                "3",
                "Tổng kết, đánh giá việc thực hiện kế hoạch",
                "Sở Nội vụ",
                "Các sở, ngành",
                "Tháng 12/2026",
            ],
        ]
    )
    first = parse_table(page1, "Phụ lục", REGISTRY)
    second = parse_table(page2, "Phụ lục", REGISTRY, first_ordinal=3, continues=first)
    cut = first.tasks[-1]
    assert (
        cut.text
        == "Xây dựng cơ sở dữ liệu về cán bộ, công chức, viên chức và người lao động trong các cơ quan nhà nước"
    )
    assert (cut.support_text, cut.deadline.text, cut.deadline.kind) == (
        "Sở Khoa học và Công nghệ",
        "Trước ngày 01/7/2026",
        "date",
    )
    assert [(t.ordinal, t.row, t.lead_text) for t in second.tasks] == [(3, "3", "Sở Nội vụ")]
    # Alone, the second page cannot know its columns from one numbered row: no task is invented.
    assert parse_table(page2, "Phụ lục", REGISTRY).tasks == []


def test_start_and_end_columns_make_one_span() -> None:
    rows = [
        ["STT", "Nội dung", "Đơn vị thực hiện", "Thời gian bắt đầu", "Thời gian hoàn thành"],
        ["1", "Khảo sát nhu cầu đào tạo", "Sở Nội vụ", "Tháng 3/2026", "Tháng 6/2026"],
    ]
    (task,) = parse_table(rows, "", REGISTRY).tasks
    assert (
        task.deadline.text == "Tháng 3/2026 - Tháng 6/2026"
    )  # (the span's dates: knowledge.dates.deadlines)


def test_a_signature_table_after_a_task_table_does_not_continue_it() -> None:
    page1 = [
        ["TT", "Nội dung", "Chủ trì", "Phối hợp", "Thời hạn"],
        ["1", "Tổng kết năm", "Sở Nội vụ", "Các sở", "Tháng 12/2026"],
    ]
    first = parse_table(page1, "", REGISTRY)
    signature = [
        ["Nơi nhận: - Như trên; - Lưu: VT.", "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH"]
    ]
    result = parse_table(signature, "", REGISTRY, continues=first)
    assert result.tasks == [] and first.tasks[0].text == "Tổng kết năm" and result.rows_text


def test_rows_without_numbers_are_cited_by_their_place() -> None:
    rows = [
        ["Nhiệm vụ", "Cơ quan chủ trì", "Thời gian"],
        ["Nhóm giải pháp về truyền thông", "", ""],
        [
            "Xây dựng chuyên mục trên cổng thông tin",
            "Sở Văn hóa, Thể thao và Du lịch",
            "Quý II/2026",
        ],
        [
            "Tổ chức tọa đàm trên sóng phát thanh",
            "Đài Phát thanh và Truyền hình tỉnh",
            "Quý III/2026",
        ],
    ]
    tasks = parse_table(rows, "Phụ lục", REGISTRY).tasks
    assert [t.citation for t in tasks] == [
        "Phụ lục, Nhóm giải pháp về truyền thông, TT 1",
        "Phụ lục, Nhóm giải pháp về truyền thông, TT 2",
    ]
    assert [t.lead_text for t in tasks] == [
        "Sở Văn hóa, Thể thao và Du lịch",
        "Đài Phát thanh và Truyền hình tỉnh",
    ]
