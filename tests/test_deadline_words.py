"""Deadlines in words (issue 16, item 2): the wordings officials write, in a cell, a labelled
line or anywhere in a sentence, and which phrase governs a duty when a sentence holds several."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.dates.deadlines import find_deadline, last_day, parse_deadline, status_of

D = date
ISSUED = D(2025, 3, 10)  # the plan's date, for "kể từ ngày ban hành"
YEAR = 2025  # a year given by context (a table header, the plan's year)

# (wording, kind, start, end, recurrence)
CELLS = [
    # open ends
    ("năm 2025 và các năm tiếp theo", "from", D(2025, 1, 1), None, None),
    ("Từ năm 2013 đến năm 2020 và tiếp theo", "from", D(2013, 1, 1), None, None),
    ("Từ tháng 6/2025", "from", D(2025, 6, 1), None, None),
    ("Kể từ ngày 01 tháng 7 năm 2026", "from", D(2026, 7, 1), None, None),
    # quarters, with the spellings and noise met in documents
    ("Quý IV/2026", "quarter", D(2026, 10, 1), D(2026, 12, 31), None),
    ("Quí IV-2025", "quarter", D(2025, 10, 1), D(2025, 12, 31), None),
    ("qúy IV/2025", "quarter", D(2025, 10, 1), D(2025, 12, 31), None),
    ("Quý IV - 2025", "quarter", D(2025, 10, 1), D(2025, 12, 31), None),
    ("IV/2025", "quarter", D(2025, 10, 1), D(2025, 12, 31), None),
    ("Quý 4/2025", "quarter", D(2025, 10, 1), D(2025, 12, 31), None),
    ("quý I và quý II năm 2026", "quarter", D(2026, 1, 1), D(2026, 6, 30), None),
    ("Quý III và Quý IV/2025", "quarter", D(2025, 7, 1), D(2025, 12, 31), None),
    # months
    ("trong tháng 01/2026", "month", D(2026, 1, 1), D(2026, 1, 31), None),
    ("12/2025", "month", D(2025, 12, 1), D(2025, 12, 31), None),
    ("tháng 8 hoặc tháng 9/2025", "month", D(2025, 8, 1), D(2025, 9, 30), None),
    ("Tháng 11, 12/2013 và kiện toàn thường xuyên", "month", D(2013, 11, 1), D(2013, 12, 31), None),
    ("tháng 10, 11/2025", "month", D(2025, 10, 1), D(2025, 11, 30), None),
    ("từ tháng 10 năm 2025 đến hết tháng 3 năm 2026", "month", D(2025, 10, 1), D(2026, 3, 31), None),
    ("6 tháng cuối năm 2025", "month", D(2025, 7, 1), D(2025, 12, 31), None),
    # years and spans of years
    ("năm2025", "year", D(2025, 1, 1), D(2025, 12, 31), None),
    ("đến hết năm 2019", "year", None, D(2019, 12, 31), None),
    ("giai đoạn 2025 - 2030", "range", D(2025, 1, 1), D(2030, 12, 31), None),
    ("Năm 2025 - 2026", "range", D(2025, 1, 1), D(2026, 12, 31), None),
    ("Năm 2025, 2026", "range", D(2025, 1, 1), D(2026, 12, 31), None),
    ("từ khi ban hành đến hết năm 2030", "range", ISSUED, D(2030, 12, 31), None),
    ("Từ nay đến hết năm 2025", "range", ISSUED, D(2025, 12, 31), None),
    ("Kể từ ngày 01 tháng 7 năm 2026 đến hết ngày 31 tháng 12 năm 2027", "range", D(2026, 7, 1), D(2027, 12, 31), None),
    # days
    ("trước ngày 27 tháng 6 năm 2014", "date", None, D(2014, 6, 27), None),
    ("trong vòng 30 ngày kể từ ngày ban hành", "date", None, D(2025, 4, 9), None),
    ("trước 15 tháng 6 năm 2025", "date", None, D(2025, 6, 15), None),
    # recurring, with their due days
    ("trước ngày 05 của tháng liền kề", "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=5"),
    ("trước ngày 10 hằng tháng", "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=10"),
    ("Ngày 15 hằng tháng", "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("Định kỳ hằng tháng (trước ngày 20)", "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=20"),
    ("Trước 25/12 hằng năm", "recurring", None, None, "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"),
    ("trước ngày 05 tháng cuối quý", "recurring", None, None, "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=5"),
    ("định kỳ hằng quý, trước ngày 20 tháng cuối quý", "recurring", None, None, "FREQ=YEARLY;BYMONTH=3,6,9,12;BYMONTHDAY=20"),
    ("chậm nhất ngày 15/12 hằng năm", "recurring", None, None, "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=15"),
    ("trước ngày 30 tháng 01 của năm tiếp theo", "recurring", None, None, "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=30"),
    ("hằng năm, tại kỳ họp cuối năm", "recurring", None, None, "FREQ=YEARLY"),
    ("3 tháng một lần", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=3"),
    ("6 tháng 1 lần", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("2 lần/năm", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("Theo kế hoạch công tác hàng năm", "recurring", None, None, "FREQ=YEARLY"),
    ("Quý IV hằng năm", "recurring", None, None, "FREQ=YEARLY"),
    # two calendar days a year, each kept: 15/6 and 01/12 (not 15/12)
    (
        "định kỳ 6 tháng, trước ngày 15 tháng 6 và trước ngày 01 tháng 12",
        "recurring", None, None, "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=1,15;BYSETPOS=2,3",
    ),
    # ongoing; on an event (no date is invented)
    ("Thường xuyên", "ongoing", None, None, None),
    ("Ngay", "conditional", None, None, None),
    ("Ngay sau khi Kế hoạch được ban hành", "conditional", None, None, None),
    ("sau khi Nghị định hướng dẫn được ban hành", "conditional", None, None, None),
    ("Trong thời hạn 15 ngày làm việc", "conditional", None, None, None),
    ("Trước ngày 15 tháng 8 năm cuối của chương trình", "conditional", None, None, None),
    # from the plan's date to an event: open end
    ("Từ ngày ban hành Kế hoạch đến khi tổ chức thành công Đại hội", "from", ISSUED, None, None),
]


@pytest.mark.parametrize(("text", "kind", "start", "end", "rrule"), CELLS)
def test_cell_wordings(text, kind, start, end, rrule):
    deadline = parse_deadline(text, issued=ISSUED)
    assert (deadline.kind, deadline.start, deadline.end, deadline.recurrence) == (kind, start, end, rrule)
    assert deadline.text == text


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("6 tháng đầu năm", "month", D(YEAR, 1, 1), D(YEAR, 6, 30)),
        ("6 tháng cuối năm", "month", D(YEAR, 7, 1), D(YEAR, 12, 31)),
        ("Trước 30/6", "date", None, D(YEAR, 6, 30)),
        ("15/12", "date", D(YEAR, 12, 15), D(YEAR, 12, 15)),
        ("Quý IV", "quarter", D(YEAR, 10, 1), D(YEAR, 12, 31)),
    ],
)
def test_cells_take_the_year_from_context(text, kind, start, end):
    deadline = parse_deadline(text, default_year=YEAR)
    assert (deadline.kind, deadline.start, deadline.end) == (kind, start, end)


def test_before_a_day_without_year_ends_the_day_before():
    assert last_day(parse_deadline("Trước 30/6", default_year=YEAR)) == D(YEAR, 6, 29)


def test_to_an_event_without_the_plan_date_is_a_condition():
    deadline = parse_deadline("Từ ngày ban hành Kế hoạch đến khi tổ chức thành công Đại hội")
    assert (deadline.kind, deadline.start, deadline.end) == ("conditional", None, None)


def test_an_event_deadline_has_no_date_and_no_status_date():
    deadline = parse_deadline("sau khi được Ủy ban nhân dân Thành phố phê duyệt Đề án", issued=ISSUED)
    assert (deadline.kind, deadline.start, deadline.end) == ("conditional", None, None)
    assert status_of(deadline, D(2030, 1, 1)) == "undated"  # never overdue: it waits for the event


# (sentence, kind, start, end, recurrence, text)
SENTENCES = [
    # a document reference's date or year is not the deadline
    (
        "Triển khai Nghị quyết số 03/NQ-CP ngày 15/01/2025 của Chính phủ, Sở Tư pháp chủ trì xây dựng dự thảo, "
        "trình Ủy ban nhân dân tỉnh trong quý II năm 2025.",
        "quarter", D(2025, 4, 1), D(2025, 6, 30), None, "trong quý II năm 2025",
    ),
    (
        "Sở Nội vụ tham mưu Ủy ban nhân dân tỉnh ban hành Kế hoạch tuyển dụng năm 2026, hoàn thành trong tháng 01/2026.",
        "month", D(2026, 1, 1), D(2026, 1, 31), None, "hoàn thành trong tháng 01/2026",
    ),
    (
        "Các sở, ngành căn cứ Kế hoạch số 120/KH-UBND ngày 20/5/2025 của UBND tỉnh báo cáo kết quả về Sở Nội vụ "
        "trước ngày 15/11/2025.",
        "date", None, D(2025, 11, 15), None, "trước ngày 15/11/2025",
    ),
    (
        "Tổ chức tuyên truyền, phổ biến Luật Dữ liệu năm 2024 đến cán bộ, công chức. Thời hạn: Quý IV/2025.",
        "quarter", D(2025, 10, 1), D(2025, 12, 31), None, "Quý IV/2025",
    ),
    (
        "Thời gian thực hiện: năm 2025 và các năm tiếp theo.",
        "from", D(2025, 1, 1), None, None, "năm 2025 và các năm tiếp theo",
    ),
    (
        "Căn cứ Kế hoạch này để bố trí vốn cho Ủy ban nhân dân cấp huyện trong dự toán ngân sách của Thành phố "
        "trong năm 2014 và các năm tiếp theo, báo cáo Ủy ban nhân dân Thành phố.",
        "from", D(2014, 1, 1), None, None, "năm 2014 và các năm tiếp theo",
    ),
    # the year of a bullet "Năm 2018: …"
    (
        "Năm 2018: Hoàn thành việc rà soát, sửa đổi Quy chế làm việc theo Quyết định số 45/2018/QĐ-TTg.",
        "year", D(2018, 1, 1), D(2018, 12, 31), None, "Năm 2018",
    ),
    (
        "- Năm 2019 - 2020: Tổng kết, đánh giá việc thực hiện Đề án.",
        "range", D(2019, 1, 1), D(2020, 12, 31), None, "Năm 2019 - 2020",
    ),
    (
        "Năm 2026: Hoàn thành việc số hóa hồ sơ trước ngày 30/6.",
        "date", None, D(2026, 6, 30), None, "trước ngày 30/6",
    ),
    (
        "Sở Xây dựng hoàn thành việc rà soát quy hoạch đến hết năm 2019.",
        "year", None, D(2019, 12, 31), None, "đến hết năm 2019",
    ),
    # events: kept in words, no date
    (
        "Niêm yết công khai danh sách tại trụ sở Ủy ban nhân dân xã sau khi được Ủy ban nhân dân Thành phố phê duyệt Đề án.",
        "conditional", None, None, None, "sau khi được Ủy ban nhân dân Thành phố phê duyệt Đề án",
    ),
    (
        "Chủ tịch Ủy ban nhân dân cấp xã báo cáo ngay khi xảy ra sự cố mất an toàn thông tin.",
        "conditional", None, None, None, "ngay khi xảy ra sự cố mất an toàn thông tin",
    ),
    (
        "Cơ quan lấy ý kiến gửi văn bản ít nhất 03 ngày làm việc trước thời hạn quy định.",
        "conditional", None, None, None, "ít nhất 03 ngày làm việc trước thời hạn quy định",
    ),
    (
        "11 ngày làm việc kể từ ngày nhận đầy đủ hồ sơ.",
        "conditional", None, None, None, "11 ngày làm việc kể từ ngày nhận đầy đủ hồ sơ",
    ),
    # periodic reports
    (
        "Định kỳ hằng năm, tại kỳ họp cuối năm, Ủy ban nhân dân tỉnh báo cáo Hội đồng nhân dân tỉnh kết quả thực hiện "
        "Nghị quyết số 15/2023/NQ-HĐND.",
        "recurring", None, None, "FREQ=YEARLY", "Định kỳ hằng năm, tại kỳ họp cuối năm",
    ),
    (
        "Báo cáo tình hình và tiến độ thực hiện việc hỗ trợ về nhà ở 3 tháng một lần về Bộ Xây dựng.",
        "recurring", None, None, "FREQ=MONTHLY;INTERVAL=3", "3 tháng một lần",
    ),
    (
        "Định kỳ hằng tháng, Ủy ban nhân dân cấp xã báo cáo kết quả về Sở Nông nghiệp và Môi trường trước ngày 05 "
        "của tháng liền kề.",
        "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=5", None,
    ),
    (
        "Các bộ, cơ quan định kỳ 6 tháng báo cáo kết quả thực hiện về Bộ Khoa học và Công nghệ trước ngày 15 tháng 6 "
        "và trước ngày 01 tháng 12 để tổng hợp, báo cáo Chính phủ.",
        "recurring", None, None, "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=1,15;BYSETPOS=2,3", None,
    ),
    # a dated duty beats a loose "theo định kỳ" in the next sentence
    (
        "Các sở, ngành xây dựng kế hoạch triển khai thực hiện (hoàn thành trong tháng 11/2025) gửi về Công an tỉnh. "
        "Thực hiện chế độ thông tin, báo cáo theo định kỳ của Chương trình.",
        "month", D(2025, 11, 1), D(2025, 11, 30), None, "hoàn thành trong tháng 11/2025",
    ),
    # the duty's span, not the later summing-up
    (
        "Phong trào thi đua được triển khai thực hiện từ tháng 10 năm 2025 đến hết tháng 3 năm 2026. "
        "Tổng kết vào tháng 4 năm 2026.",
        "month", D(2025, 10, 1), D(2026, 3, 31), None, "từ tháng 10 năm 2025 đến hết tháng 3 năm 2026",
    ),
    # a duty done inside the yearly budget or plan cycle recurs yearly
    (
        "Sở Tài chính bố trí kinh phí thực hiện Kế hoạch trong dự toán ngân sách hằng năm của các cơ quan, đơn vị.",
        "recurring", None, None, "FREQ=YEARLY", "hằng năm",
    ),
    (
        "Các phòng lồng ghép kết quả tuyên truyền trong báo cáo công tác cải cách hành chính hằng năm của đơn vị.",
        "recurring", None, None, "FREQ=YEARLY", "hằng năm",
    ),
    (
        "Văn phòng lập dự toán kinh phí hằng năm để bảo đảm hoạt động của hệ thống.",
        "recurring", None, None, "FREQ=YEARLY", "hằng năm",
    ),
    ("Kinh phí thực hiện được bảo đảm từ nguồn ngân sách nhà nước hằng năm của tỉnh.", None, None, None, None, None),
    # the time in parentheses that closes a duty; not a document's label or an anniversary
    (
        "Rà soát, cải cách thủ tục hành chính trong lĩnh vực quy hoạch, cung cấp dịch vụ công trực tuyến (2027 - 2030).",
        "range", D(2027, 1, 1), D(2030, 12, 31), None, "2027 - 2030",
    ),
    ("Xây dựng Đề án phát triển nguồn nhân lực số của tỉnh (Quý IV/2025).", "quarter", D(2025, 10, 1), D(2025, 12, 31), None, None),
    ("Thi đua hoàn thành Kế hoạch 5 năm (2021 - 2025) theo Nghị quyết Đại hội Đảng bộ tỉnh.", None, None, None, None, None),
    ("Tổ chức các hoạt động kỷ niệm 80 năm Ngày Tổng tuyển cử đầu tiên (06/01/1946 - 06/01/2026).", None, None, None, None, None),
    # starts, spans and labelled lines in prose
    ("Từ tháng 6/2025, các xã triển khai thu phí qua tài khoản.", "from", D(2025, 6, 1), None, None, "Từ tháng 6/2025"),
    ("Báo cáo tình hình thu phí từ tháng 1/2025 đến nay.", None, None, None, None, None),
    (
        "Sở Giáo dục và Đào tạo triển khai Chương trình trong giai đoạn 2025 - 2030.",
        "range", D(2025, 1, 1), D(2030, 12, 31), None, "trong giai đoạn 2025 - 2030",
    ),
    (
        "Ủy ban nhân dân quận lập danh sách đối tượng. Thời gian hoàn tất: trước ngày 27 tháng 6 năm 2014.",
        "date", None, D(2014, 6, 27), None, "trước ngày 27 tháng 6 năm 2014",
    ),
    # no deadline at all: what was done, a document's year
    ("Trong năm 2024, toàn tỉnh đã tổ chức 50 lớp tập huấn cho cán bộ cơ sở.", None, None, None, None, None),
    ("Thực hiện Luật Đất đai năm 2024, rà soát các thủ tục hành chính thuộc thẩm quyền.", None, None, None, None, None),
    ("Xây dựng Kế hoạch chuyển đổi số năm 2026 của tỉnh.", None, None, None, None, None),
    ("Các cơ quan triển khai ngay tại cơ sở các mô hình hiệu quả.", None, None, None, None, None),
]


@pytest.mark.parametrize(("sentence", "kind", "start", "end", "rrule", "text"), SENTENCES)
def test_the_governing_phrase_of_a_sentence(sentence, kind, start, end, rrule, text):
    found = find_deadline(sentence, issued=ISSUED, default_year=2025)
    if kind is None:
        assert found is None
        return
    assert (found.kind, found.start, found.end, found.recurrence) == (kind, start, end, rrule)
    if text is not None:
        assert found.text == text
    assert found.text in sentence  # the wording as written


def test_both_days_of_a_half_yearly_report_are_kept():
    found = find_deadline(
        "định kỳ 6 tháng báo cáo kết quả thực hiện về Bộ Khoa học và Công nghệ trước ngày 15 tháng 6 và trước ngày "
        "01 tháng 12 để tổng hợp."
    )
    assert "15 tháng 6" in found.text and "01 tháng 12" in found.text
