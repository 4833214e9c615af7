"""The plan a question means and the chat's plan in focus, through the bot's own handlers: the
console chat (`planbot chat`, scripted) and a group through the Bot API emulator.

The sample plans are indexed (lexical search, no model); each test writes into its own copy of
the index, since a chat's plan is kept in the database.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from answering.duties import in_appendix
from answering.knowledge_base import KnowledgeBase
from answering.paths import NOT_IN_PLANS
from bot.app import build_application
from bot.console import console_chat
from bot.settings import BotSettings
from bot.storage import chat_plans, note_last_plan, pin_plan
from indexer.settings import load_settings
from knowledge.questions.plan_resolver import ChatPlan
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import running_bot

ROOT = Path(__file__).resolve().parent.parent
PLAN_220 = "Kế hoạch số 220/KH-UBND"
REPORTS = "Kế hoạch này yêu cầu báo cáo gì, hạn khi nào?"


@pytest.fixture
def own_kb(sample_db_any: Path | str) -> KnowledgeBase:
    """On SQLite and on PostgreSQL (the chat's plan is kept in the database)."""
    return KnowledgeBase(Store(sample_db_any), embedder=None)


def settings_for(kb: KnowledgeBase, **extra) -> BotSettings:
    base = {
        "data_dir": Path(tempfile.gettempdir()),  # unused by the bot
        "db_path": kb.store.path,
        "plans_dir": ROOT / "sample_plans",
        "model": "",
    }
    return BotSettings(**(base | extra))


def chat(kb: KnowledgeBase, capsys, *lines: str) -> list[str]:
    """A scripted console chat; the bot's replies to each line, in order (one text per line)."""
    asyncio.run(console_chat(settings_for(kb), kb, list(lines)))
    out = capsys.readouterr().out
    turns = re.split(r"^Bạn: .*$", out, flags=re.M)[1:]
    assert len(turns) == len(lines), out
    return turns


def plan_headings(reply: str) -> set[str]:
    return {line.strip() for line in reply.splitlines() if line.startswith("📄")}


# -- the plan a question names ------------------------------------------------------------------


def test_a_plan_named_by_number_keeps_the_answer_to_it(own_kb):
    answer = own_kb.ask("Kế hoạch 220 quy định báo cáo kết quả thực hiện thế nào?")
    assert answer.answered and {r.plan.number for r in answer.results} == {"220/KH-UBND"}


def test_a_plan_named_but_not_indexed_is_declined(own_kb):
    for question, named in [
        ("Kế hoạch 141/KH-UBND giao Sở Nội vụ làm gì?", "Kế hoạch 141/KH-UBND"),
        ("Kế hoạch CCHC năm 2026 giao Sở Nội vụ những việc gì?", "Kế hoạch CCHC năm 2026"),
    ]:
        answer = own_kb.ask(question)
        assert (
            not answer.answered
            and answer.answer.startswith(NOT_IN_PLANS)
            and named in answer.answer
        )


def test_without_a_chat_this_plan_is_found_by_retrieval(own_kb):
    """`planbot ask` has no chat: "kế hoạch này" is answered from all plans, as before."""
    answer = own_kb.ask(REPORTS)
    assert answer.answered and len({r.plan.id for r in answer.results}) > 1


# -- the chat's plan: console chat ----------------------------------------------------------------


def test_duties_in_several_plans_list_first_the_plan_the_question_is_about(own_kb):
    answer = own_kb.ask("Sở Nội vụ phải làm gì về các đề án thành lập bệnh viện?")
    assert answer.shown_results[0].plan.number == "220/KH-UBND"
    assert [p.number for p in answer.plan_options][:1] == ["220/KH-UBND"] and len(
        answer.plan_options
    ) == 2


def test_an_appendix_the_question_names_is_listed_first(own_kb):
    assert in_appendix("VPCP chủ trì nhiệm vụ nào trong Phụ lục II?", "Phụ lục II, Nhóm V, TT 95")
    assert not in_appendix("VPCP chủ trì nhiệm vụ nào trong Phụ lục II?", "Phụ lục I, TT 3")
    assert in_appendix("… trong Phụ lục II?", "Phụ lục I, TT 3", numbered=False)
    assert not in_appendix("Sở Y tế làm gì trong Phụ lục?", "IV.2")
    assert in_appendix("Sở Y tế làm gì?", "IV.2")  # no appendix asked: every item
    answer = own_kb.ask("Sở Nội vụ phối hợp làm gì trong Phụ lục?")
    assert answer.shown_results[0].section.startswith("Phụ lục")


def test_this_plan_is_the_plan_of_the_last_answer(own_kb, capsys):
    named, reports = chat(own_kb, capsys, "Kế hoạch 220 giao Sở Y tế làm gì?", REPORTS)
    assert "Sở Y tế:" in named and plan_headings(named) == {
        f"📄 {PLAN_220} (UBND tỉnh Bắc Ninh, 2018)"
    }
    assert "định kỳ hằng quý" in reports  # the plan's own reporting rule
    assert plan_headings(reports) == {
        f"📄 {PLAN_220} (UBND tỉnh Bắc Ninh, 2018)"
    }  # and nothing else


def test_duties_in_several_plans_are_grouped_with_a_button_per_plan(own_kb, capsys):
    listed, picked, reports = chat(
        own_kb, capsys, "Sở Nội vụ chịu trách nhiệm gì?", "> 📄 220/KH-UBND", REPORTS
    )
    assert "Sở Nội vụ: 8 nội dung trong 2 kế hoạch" in listed
    buttons = re.findall(r"\[(📄[^\]]*)\]", listed)
    assert len(buttons) == 2 and buttons[0].startswith(
        "📄 Kế hoạch triển khai thực hiện Chỉ thị"
    )  # newest first
    assert "Bấm 📄 một kế hoạch" in listed
    assert "Sở Nội vụ: 2 nội dung trong 1 kế hoạch" in picked and PLAN_220 in picked
    assert (
        "📄 " not in picked.split("Bot:", 1)[1].split("[")[-1]
    )  # no plan buttons on the picked answer
    assert plan_headings(reports) == {f"📄 {PLAN_220} (UBND tỉnh Bắc Ninh, 2018)"}


def test_a_pinned_plan_answers_until_unpinned(own_kb, capsys):
    pinned, asked, shown, other, unpinned, free = chat(
        own_kb,
        capsys,
        "/kehoach y tế cơ sở Thanh Hóa",
        "Ai chủ trì tuyên truyền, vận động Nhân dân?",
        "/kehoach",
        "Kế hoạch 220 giao Sở Y tế làm gì?",  # names another plan: that one
        "/kehoach bỏ",
        "/kehoach",
    )
    assert "📌 Đã ghim" in pinned and "Chỉ thị số 25-CT/TW" in pinned
    assert {h[:60] for h in plan_headings(asked)} == {
        "📄 Kế hoạch triển khai thực hiện Chỉ thị số 25-CT/TW ngày 25/"
    }
    assert "Kế hoạch đang ghim" in shown
    assert plan_headings(other) == {f"📄 {PLAN_220} (UBND tỉnh Bắc Ninh, 2018)"}
    assert "Đã bỏ ghim" in unpinned and "Chưa ghim kế hoạch nào" in free


def test_pinning_a_plan_that_is_not_indexed_says_so(own_kb, capsys):
    [reply] = chat(own_kb, capsys, "/kehoach 141/KH-UBND")
    assert NOT_IN_PLANS in reply and "141/KH-UBND" in reply


def test_a_follow_up_the_last_plan_cannot_answer_is_answered_from_all_plans(own_kb):
    plan_220 = next(p["id"] for p in own_kb.plans() if p["number"] == "220/KH-UBND")
    question = "Ai chủ trì thu hút bác sĩ về làm việc?"  # said in another plan better
    answer = own_kb.ask_in_chat(question, chat=ChatPlan(plan_220))
    assert answer.answered and answer.results[0].plan.id != plan_220
    kept = own_kb.ask_in_chat(question, chat=ChatPlan(plan_220, pinned=True))  # a pin is kept to
    assert {r.plan.id for r in kept.results} == {plan_220}
    same = own_kb.ask_in_chat(
        "Sở Y tế phải làm gì?", chat=ChatPlan(plan_220)
    )  # the last plan answers it
    assert {r.plan.id for r in same.shown_results} == {plan_220}


# -- the chat's plan: storage and settings ----------------------------------------------------


def test_the_last_plan_expires_and_the_pin_stays(tmp_path):
    store = Store(tmp_path / "planbot.db")
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    note_last_plan(store.db, 7, "a.txt", now - timedelta(minutes=90))
    pin_plan(store.db, 8, "b.txt")
    assert chat_plans(store.db, 7, now, timedelta(minutes=120)) == (None, "a.txt")
    assert chat_plans(store.db, 7, now, timedelta(minutes=60)) == (None, None)
    assert chat_plans(store.db, 8, now + timedelta(days=30), timedelta(minutes=60)) == (
        "b.txt",
        None,
    )
    pin_plan(store.db, 8, None)
    assert chat_plans(store.db, 8, now, timedelta(minutes=60)) == (None, None)
    assert (
        load_settings({"PLANBOT_CHAT_FOCUS_MINUTES": "30"}, dotenv=False).chat_focus_minutes == 30
    )
    assert load_settings({}, dotenv=False).chat_focus_minutes == 120


# -- a group pins its plan: through the Bot API emulator ----------------------------------------


@pytest.mark.e2e
async def test_a_group_pins_its_plan(emulator, bot_token, own_kb) -> None:
    app = build_application(
        settings_for(own_kb, telegram_token=bot_token, telegram_base_url=emulator.base_url),
        own_kb,
        own_kb.store,
        None,
    )
    async with running_bot(app):
        group = emulator.group_chat(bot_token, title="Tổ công tác y tế")
        chi, dung = group.member(first_name="Chi"), group.member(first_name="Dũng")
        await chi.send_command("/kehoach", "220/KH-UBND", at_bot=True)
        [pinned] = await group.wait_for_replies(1)
        assert "📌 Đã ghim" in pinned["text"] and "220/KH-UBND" in pinned["text"]
        await dung.send_mention("Sở Nội vụ chịu trách nhiệm gì?")  # another member: the group's pin
        [answer] = await group.wait_for_replies(1)
        assert "Sở Nội vụ: 2 nội dung trong 1 kế hoạch" in answer["text"]
        await chi.send_command("/kehoach", "bỏ", at_bot=True)
        [unpinned] = await group.wait_for_replies(1)
        assert "Đã bỏ ghim" in unpinned["text"]
        await dung.send_mention("Sở Nội vụ chịu trách nhiệm gì?")
        [everywhere] = await group.wait_for_replies(1)
        assert "Sở Nội vụ: 8 nội dung trong 2 kế hoạch" in everywhere["text"]
