"""Deadline grammar: every deadline string of the sample plans, plus the forms officials write."""

from __future__ import annotations

from datetime import date

import pytest

from knowledge.deadlines import find_deadline, parse_deadline
from knowledge.parser import parse_plan

D = date
CASES = [
    # exact dates
    ("01/7/2025", "date", D(2025, 7, 1), D(2025, 7, 1), None),
    ("Trước 01/7/2025", "date", None, D(2025, 7, 1), None),
    ("Trước ngày 01/7/2025", "date", None, D(2025, 7, 1), None),
    ("truoc ngay 01/7/2025", "date", None, D(2025, 7, 1), None),
    ("ngày 27 tháng 6 năm 2014", "date", D(2014, 6, 27), D(2014, 6, 27), None),
    ("chậm nhất ngày 15/01/2021", "date", None, D(2021, 1, 15), None),
    # months and quarters
    ("6/2025", "month", D(2025, 6, 1), D(2025, 6, 30), None),
    ("tháng 01 năm 2021", "month", D(2021, 1, 1), D(2021, 1, 31), None),
    ("Quý II, III năm 2024", "quarter", D(2024, 4, 1), D(2024, 9, 30), None),
    ("trong quý IV năm 2021", "quarter", D(2021, 10, 1), D(2021, 12, 31), None),
    ("Quý I/2025", "quarter", D(2025, 1, 1), D(2025, 3, 31), None),
    ("6 tháng đầu năm 2025", "month", D(2025, 1, 1), D(2025, 6, 30), None),
    # years and ranges
    ("2018", "year", D(2018, 1, 1), D(2018, 12, 31), None),
    ("2027", "year", D(2027, 1, 1), D(2027, 12, 31), None),
    ("2018-2020", "range", D(2018, 1, 1), D(2020, 12, 31), None),
    ("2020 - 2023", "range", D(2020, 1, 1), D(2023, 12, 31), None),
    ("Từ năm 2026", "from", D(2026, 1, 1), None, None),
    ("2025 và những năm tiếp theo", "from", D(2025, 1, 1), None, None),
    # recurring
    ("Hàng năm", "recurring", None, None, "FREQ=YEARLY"),
    ("hằng quý", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=3"),
    ("định kỳ 6 tháng", "recurring", None, None, "FREQ=MONTHLY;INTERVAL=6"),
    ("chậm nhất là ngày 10 của tháng kế tiếp liền kề", "recurring", None, None, "FREQ=MONTHLY;BYMONTHDAY=10"),
    (
        "hàng Quý, 6 tháng, 9 tháng và cả năm (chậm nhất là ngày 10 của tháng kế tiếp liền kề)",
        "recurring", None, None, "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=10",
    ),
    # ongoing and conditional
    ("Nhiệm vụ thường xuyên", "ongoing", None, None, None),
    ("Theo lộ trình do Chính phủ quy định", "conditional", None, None, None),
    ("Theo hướng dẫn của Bộ Y tế (từ năm 2026)", "conditional", D(2026, 1, 1), None, None),
    ("Theo tiến độ thực hiện Luật bảo hiểm y tế", "conditional", None, None, None),
]


@pytest.mark.parametrize(("text", "kind", "start", "end", "rrule"), CASES)
def test_deadline_forms(text, kind, start, end, rrule):
    deadline = parse_deadline(text)
    assert deadline is not None
    assert (deadline.kind, deadline.start, deadline.end, deadline.recurrence) == (kind, start, end, rrule)
    assert deadline.text == text  # the raw wording is never lost


def test_unreadable_deadline_is_kept_and_counted():
    deadline = parse_deadline("khi có chỉ đạo mới")  # conditional wording
    assert deadline.kind == "conditional"
    odd = parse_deadline("xem phụ lục đính kèm")
    assert odd.kind == "unparsed" and odd.text == "xem phụ lục đính kèm"
    assert parse_deadline("") is None


def test_prose_ignores_document_reference_dates():
    assert find_deadline("Thực hiện Quyết định số 01/QĐ-UBND ngày 01/01//2021 của UBND tỉnh") is None
    assert find_deadline("Nghị quyết số 20-NQ/TW ngày 25/10/2017 của Ban Chấp hành") is None
    found = find_deadline("gửi về Văn phòng Sở Y tế trước ngày 15/01/2020 để tổng hợp")
    assert (found.kind, found.end, found.text) == ("date", D(2020, 1, 15), "trước ngày 15/01/2020")


def test_every_deadline_string_in_the_sample_corpus_parses(plan_text):
    """Table cells and prose phrases of all five plans: report how many parse (all must)."""
    strings = []
    for prefix in ("000", "001", "002", "003", "004"):
        strings += [d.text for d in parse_plan(plan_text(prefix)).deadlines()]
    unparsed = [s for s in strings if parse_deadline(s).kind == "unparsed"]
    print(f"\n{len(strings) - len(unparsed)}/{len(strings)} deadline strings parse")
    # ("ngân sách hằng năm", "Kế hoạch hàng năm" are adjectives, not deadlines: 54 phrases.)
    assert len(strings) >= 50
    assert unparsed == []
