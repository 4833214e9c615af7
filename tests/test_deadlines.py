"""Deadline grammar: every deadline string of the sample plans, plus the forms officials write."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from knowledge.dates.deadlines import ends_within, find_deadline, last_day, parse_deadline
from knowledge.parsing.parser import parse_plan

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


# -- issue 8: forms the corpus holds, and the last day -------------------------------------------
ISSUED = D(2025, 3, 10)
MORE = [
    # silver table cells of the development corpus (dev_tables.jsonl)
    ("Quý IV/2025- Quý II/2026", "quarter", D(2025, 10, 1), D(2026, 6, 30), None),
    ("Quý IV/2025 - Quý II/2026", "quarter", D(2025, 10, 1), D(2026, 6, 30), None),
    ("Tháng 3/2026", "month", D(2026, 3, 1), D(2026, 3, 31), None),
    ("Tháng 12 hằng năm", "recurring", None, None, "FREQ=YEARLY;BYMONTH=12"),
    ("Quý III Năm 2026", "quarter", D(2026, 7, 1), D(2026, 9, 30), None),
    ("Năm 2025-2030", "range", D(2025, 1, 1), D(2030, 12, 31), None),
    ("Bắt đầu triển khai từ năm 2026", "from", D(2026, 1, 1), None, None),
    ("Sau khi có Quy chế của TW", "conditional", None, None, None),
    # yearly due days are kept
    ("trước ngày 15/12 hằng năm", "recurring", None, None, "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=15"),
    ("Trước ngày 31/01 năm liền kề", "recurring", None, None, "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31"),
    ("6 tháng (trước ngày 15/6) và cả năm (trước ngày 15/12)", "recurring", None, None, "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=15"),
    ("Định kỳ hằng năm (trước ngày 30 tháng 11)", "recurring", None, None, "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=30"),
    # computed from the plan's date
    ("Sau 03 tháng kể từ ngày Kế hoạch được ban hành", "date", None, D(2025, 6, 10), None),
    ("trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành", "date", None, D(2025, 4, 9), None),
    ("Trong thời hạn 5 ngày làm việc kể từ ngày Quyết định này có hiệu lực", "date", None, D(2025, 3, 17), None),
    ("Từ khi ban hành đến hết năm 2030", "range", ISSUED, D(2030, 12, 31), None),
    # after another event: a condition, not a date
    ("Trong vòng 15 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ", "conditional", None, None, None),
    # dates broken across lines
    # month spans, open ends from a month
    ("Từ tháng 10/2025 đến tháng 12/2025", "month", D(2025, 10, 1), D(2025, 12, 31), None),
    ("Tháng 11 - 12/2025", "month", D(2025, 11, 1), D(2025, 12, 31), None),
    ("Từ tháng 12/2025 đến khi kết thúc Tổng kiểm kê", "from", D(2025, 12, 1), None, None),
    ("31/12/\n2025", "date", D(2025, 12, 31), D(2025, 12, 31), None),
    ("tháng 12 năm\n2025", "month", D(2025, 12, 1), D(2025, 12, 31), None),
]


@pytest.mark.parametrize(("text", "kind", "start", "end", "rrule"), MORE)
def test_more_deadline_forms(text, kind, start, end, rrule):
    deadline = parse_deadline(text, issued=ISSUED)
    assert (deadline.kind, deadline.start, deadline.end, deadline.recurrence) == (kind, start, end, rrule)


def test_without_the_plan_date_a_relative_deadline_is_a_condition():
    assert parse_deadline("trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành").kind == "conditional"
    assert parse_deadline("Từ khi ban hành đến hết năm 2030").end == D(2030, 12, 31)


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("chậm nhất ngày 15/01/2021", D(2021, 1, 15)),
        ("Chậm nhất là ngày 15/01/2021", D(2021, 1, 15)),
        ("đến hết ngày 30/6/2025", D(2025, 6, 30)),
        ("trong ngày 05/3/2025", D(2025, 3, 5)),
        ("hạn 20/5/2025", D(2025, 5, 20)),
        ("trước ngày 01/7/2025", D(2025, 6, 30)),
        ("Trước 01/7/2025", D(2025, 6, 30)),
        ("trước tháng 6/2025", D(2025, 5, 31)),
        ("trước quý III năm 2025", D(2025, 6, 30)),
        ("trước năm 2030", D(2029, 12, 31)),
        ("đến năm 2025", D(2025, 12, 31)),
        ("Quý IV/2025", D(2025, 12, 31)),
    ],
)
def test_last_day_the_work_may_still_be_done(text, last):
    """Issue 10 item 5: "chậm nhất ngày X" includes X (a task is not overdue on its own last day)."""
    deadline = parse_deadline(text)
    assert last_day(deadline) == last
    # Consumers that read `end` with `before` (reminders) agree with `last_day`.
    exclusive = deadline.before and deadline.kind in ("date", "month", "quarter")
    assert deadline.end - timedelta(days=1 if exclusive else 0) == last


def test_ends_within_uses_the_last_day():
    before_july = parse_deadline("Trước ngày 01/7/2025")
    assert ends_within(before_july, D(2025, 6, 1), D(2025, 6, 30))
    assert not ends_within(before_july, D(2025, 7, 1), D(2025, 7, 31))


def test_a_year_from_context():
    """A table header "Thời gian (Năm 2026)" over cells "Quý I", "Tháng 3", "Trước ngày 15/6"."""
    assert (parse_deadline("Quý I", default_year=2026).start, parse_deadline("Quý I", default_year=2026).end) == (
        D(2026, 1, 1), D(2026, 3, 31))
    assert parse_deadline("Tháng 3", default_year=2026).end == D(2026, 3, 31)
    assert last_day(parse_deadline("Trước ngày 15/6", default_year=2026)) == D(2026, 6, 14)
    assert parse_deadline("Quý I").kind == "unparsed"  # no year: kept, counted, not guessed


@pytest.mark.parametrize(
    "text",
    ["Trồng cây hàng năm", "Đất trồng cây hằng năm khác"],
)
def test_form_text_is_no_recurrence(text):
    assert parse_deadline(text).kind == "unparsed"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # corpus sentences
        ("Kinh phí bảo đảm thực hiện Kế hoạch này được bố trí từ nguồn ngân sách nhà nước hằng năm của các cơ quan, đơn vị.", None),
        ("Chủ động xây dựng và tổ chức thực hiện các Kế hoạch hàng năm về bảo vệ, chăm sóc và nâng cao sức khỏe nhân dân.", None),
        ("Định kỳ hằng năm (trước ngày 15 tháng 12) báo cáo kết quả về Ủy ban nhân dân thành phố (qua Công an thành phố) để tổng hợp chung.",
         ("recurring", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=15", "Định kỳ hằng năm (trước ngày 15 tháng 12)")),
        ("trước ngày 15 tháng 8 hàng năm đối với kế hoạch khắc phục hậu quả bom mìn vật nổ cấp tỉnh",
         ("recurring", "FREQ=YEARLY;BYMONTH=8;BYMONTHDAY=15", "trước ngày 15 tháng 8 hàng năm")),
        ("Thông tư có hiệu lực kể từ ngày 28 tháng 10 năm 2025.", None),
        ("gửi kế hoạch về Ủy ban nhân dân thành phố (qua Công an thành phố) trong thời hạn 10 ngày kể từ ngày nhận Kế hoạch này.",
         ("conditional", None, "trong thời hạn 10 ngày kể từ ngày nhận Kế hoạch này")),
        ("kiểm tra sức khỏe ít nhất mỗi năm một lần", ("recurring", "FREQ=YEARLY", "mỗi năm")),
        # corpus (1627-QD-UBND, 2813-QD-UBND): labelled fields read like a table cell
        ("Tổng hợp kết quả kiểm kê, báo cáo kết quả kiểm kê gửi Bộ Tài chính. Thời gian hoàn thành: Trước ngày 31/5/2026.",
         ("date", None, "Trước ngày 31/5/2026")),
        ("Thời gian thực hiện: Từ tháng 12/2025 đến khi kết thúc Tổng kiểm kê.",
         ("from", None, "Từ tháng 12/2025 đến khi kết thúc Tổng kiểm kê")),
        ("Lộ trình thực hiện: *Năm 2025 - 2026.", ("range", None, "Năm 2025 - 2026")),
        ("Chậm nhất 90 ngày trước ngày hết thời hạn bổ nhiệm, cấp có thẩm quyền phải ra thông báo",
         ("conditional", None, "Chậm nhất 90 ngày trước ngày hết thời hạn bổ nhiệm")),
        # written forms
        ("Các đơn vị xây dựng kế hoạch, gửi về Sở Y tế trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành.",
         ("date", None, "trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành")),
        ("báo cáo định kỳ 6 tháng (trước ngày 15/6) và cả năm (trước ngày 15/12) về Sở Nội vụ.",
         ("recurring", "FREQ=YEARLY;BYMONTH=6,12;BYMONTHDAY=15", "định kỳ 6 tháng (trước ngày 15/6) và cả năm (trước ngày 15/12)")),
    ],
)
def test_deadline_phrases_in_prose(sentence, expected):
    found = find_deadline(sentence, ISSUED)
    assert (found and (found.kind, found.recurrence, found.text)) == expected


def test_prose_date_broken_across_lines():
    found = find_deadline("Sở Y tế trình UBND tỉnh trước ngày 31/12/\n2025.")
    assert (found.end, found.before, last_day(found)) == (D(2025, 12, 31), True, D(2025, 12, 30))
