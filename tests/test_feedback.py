"""Feedback for admins: votes kept with the question and the answer shown, read back by
`planbot feedback` and /gopy; a vote cast after a restart is still recorded."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from answering.knowledge_base import KnowledgeBase
from bot.app import build_application
from bot.settings import BotSettings
from indexer.feedback import DOWN, UP, feedback_report, record_vote, remember_answer
from planbot.cli import main
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import running_bot

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 424_242_012
DUTIES = "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"
DUE = "Những nhiệm vụ nào phải hoàn thành trước 01/7/2025?"


def _vote(store: Store, kb: KnowledgeBase, chat: int, key: str, question: str, vote: int, when: datetime) -> None:
    answer = kb.ask(question, limit=10, today=date(2025, 6, 1))
    remember_answer(store.db, chat, key, answer, now=when)
    assert record_vote(store.db, chat_id=chat, key=key, user_id=7, vote=vote, now=when)


def test_planbot_feedback_lists_votes_cast(sample_db_any):
    store = Store(sample_db_any)
    kb = KnowledgeBase(store, None)
    _vote(store, kb, 1, "aaaa0001", DUTIES, UP, datetime(2025, 5, 1, tzinfo=UTC))
    _vote(store, kb, 1, "aaaa0002", DUE, DOWN, datetime(2025, 6, 2, tzinfo=UTC))
    _vote(store, kb, 2, "aaaa0001", DUTIES, DOWN, datetime(2025, 6, 3, tzinfo=UTC))
    assert record_vote(store.db, chat_id=3, key="aaaa0001", user_id=7, vote=UP) is None  # not logged

    result = CliRunner().invoke(main, ["feedback", "--db", str(sample_db_any)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "3 lượt (👍 1 · 👎 2)" in out
    assert "agency_duties: 👍 1 · 👎 1" in out
    assert f"] {DUE} (" in out and f"] {DUTIES} (" in out
    assert "↳ Sở Nội vụ" in out  # the answer shown, under the question voted down

    report = json.loads(CliRunner().invoke(main, ["feedback", "--db", str(sample_db_any), "--json"]).output)
    assert report["up"] == 1 and report["down"] == 2
    plans = report["by_plan"]
    thanh_hoa = next(k for k in plans if "Chỉ thị số 25-CT/TW" in k)
    assert plans[thanh_hoa]["down"] == 2 and plans[thanh_hoa]["up"] == 1

    since = CliRunner().invoke(main, ["feedback", "--db", str(sample_db_any), "--since", "2025-06-03"]).output
    assert "1 lượt (👍 0 · 👎 1)" in since and DUE not in since

    rows = list(csv.reader(io.StringIO(CliRunner().invoke(main, ["feedback", "--db", str(sample_db_any), "--csv"]).output)))
    assert len(rows) == 4 and rows[2][1] == "👎" and rows[2][4] == DUE and rows[2][5]


def test_no_votes_yet(sample_db_any):
    result = CliRunner().invoke(main, ["feedback", "--db", str(sample_db_any)])
    assert result.exit_code == 0 and "Chưa có góp ý nào" in result.output
    assert feedback_report(Store(sample_db_any).db).votes == []


# -- through the bot ----------------------------------------------------------------------------


def _app(emulator, token: str, kb: KnowledgeBase, data_dir: Path):
    config = BotSettings(
        data_dir=data_dir,
        db_path=kb.store.path,
        plans_dir=ROOT / "sample_plans",
        model="",
        telegram_token=token,
        telegram_base_url=emulator.base_url,
        admin_ids=frozenset({ADMIN}),
    )
    return build_application(replace(config), kb, kb.store, None)


@pytest.mark.e2e
async def test_vote_after_a_restart_is_recorded_and_gopy_shows_it(emulator, bot_token, sample_db_any, tmp_path) -> None:
    kb = KnowledgeBase(Store(sample_db_any), None)
    lan = emulator.private_user(bot_token, first_name="Lan")
    async with running_bot(_app(emulator, bot_token, kb, tmp_path)):
        await lan.send_text(DUTIES)
        [reply] = await lan.wait_for_replies(1)
    # a new process: nothing of the first one's chat_data survives
    async with running_bot(_app(emulator, bot_token, kb, tmp_path)):
        await lan.press("👎", reply)
        # The vote is stored before the button is answered: wait for both.
        for _ in range(200):
            answers = emulator.state(bot_token)["callback_answers"]
            if feedback_report(kb.store.db).votes and answers:
                break
            await asyncio.sleep(0.05)
        assert not any("đã cũ" in (a.get("text") or "") for a in answers)
        assert any((a.get("text") or "").startswith("Cảm ơn góp ý") for a in answers)

        await lan.send_command("gopy")
        [refused] = await lan.wait_for_replies(1)
        assert "chỉ quản trị viên" in refused["text"]

        admin = emulator.private_user(bot_token, user_id=ADMIN, first_name="Admin")
        await admin.send_command("gopy")
        replies = await admin.wait_for_replies(2)
    text = "\n".join(r.get("text", "") for r in replies)
    assert "1 lượt (👍 0 · 👎 1)" in text and DUTIES in text
    assert any(r.get("document", {}).get("file_name") == "gop-y.csv" for r in replies)
    [vote] = feedback_report(kb.store.db).votes
    assert vote["question"] == DUTIES and vote["vote"] == DOWN and "Sở Nội vụ" in vote["answer"]
