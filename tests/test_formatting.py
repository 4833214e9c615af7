"""knowledge.telegram_text, bot.render.listings, bot.render.pages, bot.render.messages (and the pure /hanchot parser
bot.periods): HTML, splitting, pages, statuses.

Real data: the sample plans indexed into a temporary database (lexical search, no model).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from answering.knowledge_base import KnowledgeBase
from bot.periods import parse_period
from bot.render.listings import (
    Listing,
    answer_listing,
    deadline_html,
    duties_listing,
    group_by_status,
    item_html,
    parse_source_token,
    results_listing,
    source_token,
)
from bot.render.messages import preview_html, rewrite_question, source_messages, upload_problem
from bot.render.pages import choice_keyboard, page_keyboard, paginate, split_listing
from indexer.indexing import index_paths
from knowledge.dates.deadlines import ONGOING_STATUS as ONGOING
from knowledge.dates.deadlines import OPEN, OVERDUE, SOON, UNDATED, parse_deadline, status_of
from knowledge.model import Deadline
from knowledge.questions.answer import PlanRef, Result
from knowledge.telegram_text import (
    MAX_MESSAGE,
    esc_clip,
    split_html,
    split_messages,
    split_plain,
    to_plain,
    utf16_len,
)
from store.database import Store

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_TAGS = {"b", "i", "u"}
TODAY = date(2025, 6, 15)


@pytest.fixture(scope="module")
def plans_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    store = Store(tmp_path_factory.mktemp("fmt") / "planbot.db")
    index_paths(store, [ROOT / "sample_plans"], None)
    return KnowledgeBase(store, None)


def tags(html_text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"</?([a-zA-Z-]+)[^>]*>", html_text)}


def balanced(html_text: str) -> bool:
    stack: list[str] = []
    for m in re.finditer(r"<(/?)([a-z]+)>", html_text):
        if m.group(1):
            if not stack or stack.pop() != m.group(2):
                return False
        else:
            stack.append(m.group(2))
    return not stack


def plan(n: int = 1, number: str = "12/KH-UBND") -> PlanRef:
    return PlanRef(n, f"Kế hoạch thử {n}", number, "UBND tỉnh", "2025-01-02", f"{n}.txt")


def result(text: str = "Làm việc A", deadline: Deadline | None = None, **kw) -> Result:
    values = {
        "plan": plan(),
        "kind": "task",
        "section": "Phụ lục, TT 1",
        "text": text,
        "item_id": 7,
    }
    values.update(kw)
    return Result(deadline=deadline, **values)


# -- escaping -------------------------------------------------------------------------------


def test_everything_from_documents_is_escaped() -> None:
    hostile = result(
        "<script>alert('x')</script> & <b>in đậm</b>",
        Deadline("Trước <01/7/2025>", "date", None, date(2025, 7, 1), before=True),
        section="Phụ lục <1>",
        lead=["Sở <i>Nội vụ</i>"],
        support=["A & B"],
        plan=plan(number="1/<KH>"),
    )
    listing = results_listing("Câu hỏi: &lt;x&gt;", [hostile])
    [page] = paginate(listing)
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "Sở &lt;i&gt;Nội vụ&lt;/i&gt;" in page.text and "A &amp; B" in page.text
    assert "1/&lt;KH&gt;" in page.text
    assert tags(page.text) <= ALLOWED_TAGS and balanced(page.text)
    assert "<b>Trước &lt;01/7/2025&gt; (hạn cuối 30/06/2025)</b>" in page.text  # deadline in bold
    assert to_plain(page.text).count("<script>") == 1  # and readable again as plain text


def test_item_separates_lead_from_support_and_cites_its_row() -> None:
    html_text = item_html(result(lead=["Sở Y tế"], support=["Sở Nội vụ", "Sở Tài chính"]), 3)
    assert html_text.startswith("<b>3.</b> [<i>Phụ lục, TT 1</i>]")
    assert "Chủ trì: Sở Y tế" in html_text
    assert "Phối hợp: Sở Nội vụ, Sở Tài chính" in html_text
    assert "Thời hạn: <i>không nêu thời hạn</i>" in html_text


def test_esc_clip_bounds_the_escaped_length() -> None:
    clipped = esc_clip("&" * 5000, 300)
    assert len(clipped) <= 300 and clipped.endswith("…") and "&amp;" in clipped


# -- real answers ---------------------------------------------------------------------------


def test_agency_answer_lists_the_right_tasks_with_citations(plans_kb: KnowledgeBase) -> None:
    answer = plans_kb.ask("Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?", today=TODAY)
    listing = answer_listing(answer)
    text = "\n".join(page.text for page in paginate(listing))
    for citation in ("IV.4", "Phụ lục, TT 5", "Phụ lục, TT 6", "Phụ lục, TT 12", "Phụ lục, TT 13"):
        assert f"[<i>{citation}</i>]" in text
    assert text.index("<u>Chủ trì</u>") < text.index("<u>Phối hợp</u>")
    assert "<b>Trước 01/7/2025 (hạn cuối 30/06/2025)</b>" in text
    assert "📄 <b>" in text  # grouped under the plan it comes from


def test_answer_shows_what_the_text_answer_shows(plans_kb: KnowledgeBase) -> None:
    answer = plans_kb.ask("Ai là đơn vị chủ trì Dự án mở rộng Bệnh viện Sản Nhi?")
    listing = answer_listing(answer)
    assert not answer.answered
    assert "không nêu đơn vị chủ trì" in listing.header
    assert len(listing.blocks) == answer.answer.count("\n • ") == 1
    polite = answer_listing(plans_kb.ask("😀😀😀"))
    assert polite.blocks == () and "chưa hiểu" in polite.header


# -- splitting and pages ------------------------------------------------------------------


def test_long_listing_splits_under_4096_at_item_boundaries(plans_kb: KnowledgeBase) -> None:
    results = plans_kb.duties("Sở Y tế")
    listing = duties_listing("Sở Y tế", results, TODAY)
    messages = split_listing(listing)
    assert len(messages) > 1
    assert all(len(m) <= MAX_MESSAGE for m in messages)
    joined = "\n".join(messages)
    for block in listing.blocks:  # every item whole, in exactly one message
        assert sum(block.html in m for m in messages) == 1
    numbers = [int(n) for n in re.findall(r"^<b>(\d+)\.</b>", joined, flags=re.M)]
    assert numbers == list(range(1, len(results) + 1))
    for m in messages[1:]:  # a continuation repeats the headings it starts under
        lines = m.splitlines()
        assert lines[2].startswith("<b>") and lines[2].endswith(")")  # status
        assert lines[3].startswith("📄 <b>")  # plan
    assert all(tags(m) <= ALLOWED_TAGS and balanced(m) for m in messages)


def test_monster_items_still_fit_in_one_message() -> None:
    huge = [
        result(
            "&" * 20_000,
            lead=["<" * 3000],
            support=["&" * 3000],
            note="x" * 5000,
            item_id=i,
            section="§" * 900,
        )
        for i in range(12)
    ]
    listing = Listing("<b>" + "h" * 700 + "</b>", results_listing("", huge).blocks)
    for page in paginate(listing):
        assert len(page.text) <= MAX_MESSAGE and balanced(page.text)
    assert all(len(m) <= MAX_MESSAGE for m in split_listing(listing))


def test_pagination_pages_and_buttons(plans_kb: KnowledgeBase) -> None:
    listing = answer_listing(plans_kb.ask("Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"))
    pages = paginate(listing, per_page=5)
    assert [len(p.blocks) for p in pages] == [5, 3]
    assert "(trang 1/2)" in pages[0].text and "(trang 2/2)" in pages[1].text
    assert pages[1].text.splitlines()[2].startswith("📄 <b>")  # plan heading repeated on page 2

    first = page_keyboard("k1", pages[0], feedback=True).inline_keyboard
    last = page_keyboard("k1", pages[1], feedback=True).inline_keyboard
    data = [b.callback_data for row in first for b in row]
    assert [b.text for row in first for b in row][:5] == [
        f"Xem nguyên văn {n}" for n in range(1, 6)
    ]
    assert "p:k1:1" in data and not any(d.startswith("p:k1:-") for d in data)
    assert [b.text for b in first[-2]] == ["1/2", "▶"] and [b.text for b in last[-2]] == [
        "◀",
        "2/2",
    ]
    assert [b.callback_data for b in first[-1]] == ["f:k1:up", "f:k1:down"]
    assert all(len(d.encode()) <= 64 for row in first + last for b in row if (d := b.callback_data))
    block = pages[0].blocks[0]
    item_id, crc = parse_source_token(block.source)
    assert source_token(plans_kb.item(item_id)) == block.source and len(crc) == 8


def test_single_page_has_no_arrows_and_choice_buttons() -> None:
    [page] = paginate(results_listing("x", [result()]))
    rows = page_keyboard("k", page).inline_keyboard
    assert [[b.text for b in row] for row in rows] == [["Xem nguyên văn 1"]]
    assert page_keyboard("k", paginate(Listing("chỉ có tiêu đề"))[0]) is None
    choice = choice_keyboard("c", ["Sở Nội vụ", "Sở Ngoại vụ"]).inline_keyboard
    assert [(r[0].text, r[0].callback_data) for r in choice] == [
        ("Sở Nội vụ", "a:c:0"),
        ("Sở Ngoại vụ", "a:c:1"),
    ]


def test_source_text_is_complete_and_split(plans_kb: KnowledgeBase) -> None:
    long = result("Đoạn văn rất dài & đầy đủ. " * 600, lead=["Sở Y tế"])
    messages = source_messages(long)
    assert len(messages) > 1 and all(len(m) <= MAX_MESSAGE for m in messages)
    assert to_plain(" ".join(messages)).count("Đoạn văn rất dài & đầy đủ.") == 600
    [item] = [r for r in plans_kb.duties("Sở Nội vụ") if r.section == "IV.4"]
    [only] = source_messages(plans_kb.item(item.item_id))
    assert "📍 <i>IV.4</i>" in only and "Thẩm định, trình cấp có thẩm quyền" in only


def test_split_helpers() -> None:
    assert split_messages(["a" * 3000, "b" * 3000, "c"]) == ["a" * 3000, "b" * 3000 + "\n\nc"]
    chunks = split_plain("x&y " * 3000, 1000)
    assert all(len(c) <= 1000 for c in chunks) and "&amp;" in chunks[0]


def test_messages_fit_telegram_s_limit_in_utf16_units() -> None:
    """Telegram counts UTF-16 code units: "📄 " is 2 characters but 3 units, so 3,000 characters
    of it (4,500 units) do not fit one message."""
    part = "📄 " * 1500
    messages = split_messages([part])
    assert len(part) <= MAX_MESSAGE < utf16_len(part)
    assert len(messages) == 2 and all(utf16_len(m) <= MAX_MESSAGE for m in messages)
    assert "".join(messages).replace(" ", "") == part.replace(" ", "")
    pieces = split_html("<b>1.</b> " + "📄 " * 1500 + "\n<i>Hạn</i>", 1000)
    assert all(utf16_len(p) <= 1000 for p in pieces) and pieces[-1].endswith("<i>Hạn</i>")


# -- statuses -------------------------------------------------------------------------------


def test_status_relative_to_a_fixed_today() -> None:
    def on(day: date, before: bool = True) -> Deadline:
        return Deadline(day.isoformat(), "date", None, day, before=before)

    assert status_of(on(date(2025, 6, 14)), TODAY) == OVERDUE
    # "Trước 15/6" ends on 14/6: overdue on the 15th; "chậm nhất 15/6" still open that day.
    assert status_of(on(date(2025, 6, 15)), TODAY) == OVERDUE
    assert status_of(on(date(2025, 6, 15), before=False), TODAY) == SOON
    assert status_of(on(date(2025, 6, 16)), TODAY) == SOON
    assert status_of(on(date(2025, 7, 16)), TODAY) == SOON  # last day 15/7: 30 days ahead
    assert status_of(on(date(2025, 7, 17)), TODAY) == OPEN
    assert status_of(on(date(2025, 7, 16), before=False), TODAY) == OPEN
    assert (
        status_of(Deadline("Quý IV/2025", "quarter", date(2025, 10, 1), date(2025, 12, 31)), TODAY)
        == OPEN
    )
    assert status_of(Deadline("Nhiệm vụ thường xuyên", "ongoing"), TODAY) == ONGOING
    assert status_of(Deadline("hằng năm", "recurring", recurrence="FREQ=YEARLY"), TODAY) == ONGOING
    assert status_of(Deadline("Từ năm 2026", "from", date(2026, 1, 1)), TODAY) == ONGOING
    assert status_of(Deadline("Theo lộ trình", "conditional"), TODAY) == UNDATED
    assert status_of(None, TODAY) == UNDATED


@pytest.mark.parametrize(
    ("wording", "shown"),
    [
        ("Trước ngày 01/7/2025", "Trước ngày 01/7/2025 (hạn cuối 30/06/2025)"),
        ("chậm nhất ngày 15/7/2025", "chậm nhất ngày 15/7/2025 (hạn cuối 15/07/2025)"),
        ("Đến hết ngày 15/7/2025", "Đến hết ngày 15/7/2025 (hạn cuối 15/07/2025)"),
        ("Ngày 15/7/2025", "Ngày 15/7/2025 (ngày 15/07/2025)"),
        ("Tháng 6/2025", "Tháng 6/2025 (01/06/2025 – 30/06/2025)"),
        ("Trước tháng 6/2025", "Trước tháng 6/2025 (hạn cuối 31/05/2025)"),
        ("Quý III/2025", "Quý III/2025 (01/07/2025 – 30/09/2025)"),
        ("Trước quý III/2025", "Trước quý III/2025 (hạn cuối 30/06/2025)"),
        ("Năm 2025", "Năm 2025 (01/01/2025 – 31/12/2025)"),
        ("Trước năm 2030", "Trước năm 2030 (hạn cuối 31/12/2029)"),
        ("Hằng năm", "Hằng năm"),
        ("Thường xuyên", "Thường xuyên"),
    ],
)
def test_deadline_states_the_wording_and_its_last_day(wording: str, shown: str) -> None:
    deadline = parse_deadline(wording)
    assert deadline is not None
    assert deadline_html(deadline) == f"<b>{shown}</b>"


@pytest.mark.parametrize(
    "wording", ["Trước 01/7/2025", "chậm nhất ngày 30/6/2025", "đến hết ngày 30/6/2025"]
)
def test_the_last_day_shown_is_the_last_day_not_overdue(wording: str) -> None:
    """What the answer says agrees with /nhiemvu's groups and the reminders."""
    deadline = parse_deadline(wording)
    assert deadline is not None
    assert "(hạn cuối 30/06/2025)" in deadline_html(deadline)
    assert status_of(deadline, date(2025, 6, 30)) == SOON
    assert status_of(deadline, date(2025, 7, 1)) == OVERDUE


def test_duties_grouped_by_status(plans_kb: KnowledgeBase) -> None:
    results = plans_kb.duties("Sở Nội vụ")
    by_status = group_by_status(results, TODAY)
    sections = {s: sorted(r.section for r in items) for s, items in by_status.items()}
    assert sections[SOON] == ["Phụ lục, TT 5", "Phụ lục, TT 6"]  # Trước 01/7/2025
    assert "Phụ lục, TT 12" in sections[ONGOING] and "IV.4" in sections[UNDATED]
    assert list(by_status) == [s for s in (OVERDUE, SOON, OPEN, ONGOING, UNDATED) if s in by_status]
    later = group_by_status(results, date(2025, 7, 2))
    assert sorted(r.section for r in later[OVERDUE])[:2] == ["Phụ lục, TT 5", "Phụ lục, TT 6"]
    text = "\n".join(
        p.text for p in paginate(duties_listing("Sở Nội vụ", results, TODAY), per_page=50)
    )
    assert text.index("⏰ Sắp đến hạn") < text.index("🟢 Còn hạn") < text.index("🔁 Thường xuyên")
    assert "tính đến 15/06/2025" in text


# -- other messages -------------------------------------------------------------------------


def test_upload_problems() -> None:
    mb = 1024 * 1024
    assert "chỉ hỗ trợ" in upload_problem("anh.jpg", 10, 20 * mb)
    assert "quá lớn (21 MB); giới hạn là 20 MB" in upload_problem("kh.pdf", 21 * mb, 20 * mb)
    assert "(5,5 KB); giới hạn là 4 KB" in upload_problem("kh.md", 5632, 4096)
    assert "rỗng" in upload_problem("kh.txt", 0, 20 * mb)
    assert upload_problem("KH.DOCX", 5 * mb, 20 * mb) is None
    assert "&lt;x&gt;" in upload_problem("<x>.exe", 1, 20 * mb)


def test_preview_mentions_counts_and_unparsed() -> None:
    summary = {
        "file": "kh<1>.txt",
        "title": "Kế hoạch A",
        "tasks": 3,
        "assignments": 5,
        "sections": 4,
        "deadlines_parsed": 2,
        "deadlines_unparsed": 1,
        "unparsed": ["khi nào xong"],
        "replaces": True,
    }
    text = preview_html(summary)
    assert "kh&lt;1&gt;.txt" in text and "Nhiệm vụ trong bảng: 3" in text and "Phân công: 5" in text
    assert "“khi nào xong”" in text and "thay thế" in text and balanced(text)


def test_rewrite_question_puts_the_picked_agency_in_place() -> None:
    assert rewrite_question("Sở Ngọi vụ làm gì?", "so ngoi vu", "Sở Nội vụ") == "Sở Nội vụ làm gì?"
    assert (
        rewrite_question("nhiệm vụ của so noai vu", "so noai vu", "Sở Ngoại vụ")
        == "nhiệm vụ của Sở Ngoại vụ"
    )
    assert rewrite_question("làm gì?", "so x", "Sở Y tế") == "Sở Y tế: làm gì?"


# -- /hanchot periods (bot.periods, pure) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("", date(2025, 6, 15), date(2025, 7, 15)),
        ("6/2025", date(2025, 6, 1), date(2025, 6, 30)),
        ("tháng 2/2024", date(2024, 2, 1), date(2024, 2, 29)),
        ("thang 12 nam 2025", date(2025, 12, 1), date(2025, 12, 31)),
        ("quý III/2024", date(2024, 7, 1), date(2024, 9, 30)),
        ("quy 4 nam 2025", date(2025, 10, 1), date(2025, 12, 31)),
        ("Q1/2026", date(2026, 1, 1), date(2026, 3, 31)),
        ("01/7/2025", date(2025, 7, 1), date(2025, 7, 1)),
        ("tháng này", date(2025, 6, 1), date(2025, 6, 30)),
        ("tháng sau", date(2025, 7, 1), date(2025, 7, 31)),
        ("quý này", date(2025, 4, 1), date(2025, 6, 30)),
        ("năm 2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2027", date(2027, 1, 1), date(2027, 12, 31)),
        ("7 ngày", date(2025, 6, 15), date(2025, 6, 22)),
    ],
)
def test_parse_period(text: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["abc", "13/2025", "31/02/2025", "quý 5/2025", "9999 ngày"])
def test_parse_period_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_period(text, TODAY)


def test_period_labels() -> None:
    assert parse_period("quý III/2024", TODAY).label == "quý III/2024"
    assert parse_period("", TODAY).span == "15/06/2025 – 15/07/2025"
    assert parse_period("tháng sau", date(2025, 12, 5)).label == "tháng 1/2026"


def test_duties_listing_groups_tasks_this_chat_marked_done(kb):
    from bot.render.listings import duties_listing
    from knowledge.telegram_text import to_plain

    results = kb.duties("Sở Nội vụ")
    done_row = next(r for r in results if r.section == "Phụ lục, TT 5")
    listing = duties_listing("Sở Nội vụ", results, date(2025, 6, 20), done={done_row.item_id})
    assert "đã xong 1" in to_plain(listing.header)
    done_blocks = [b for b in listing.blocks if "Đã xong" in b.groups[0]]
    assert len(done_blocks) == 1 and "TT 5" in to_plain(done_blocks[0].html)
    assert done_blocks[0] is listing.blocks[-1]  # done items come last
