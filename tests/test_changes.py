"""Change report when a known plan is indexed again: duties added, removed, changed, matched
row to row even when the numbering shifts; replacements a plan declares are linked."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from indexer.changes import change_summary, report_lines
from indexer.indexing import index_paths, load, parse
from knowledge.changes import diff_plans
from knowledge.model import Deadline
from knowledge.parsing.parser import parse_plan
from store.database import Store
from store.writes import file_hash
from tests.emulator.fixtures import *  # noqa: F403

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parent.parent / "sample_plans"
ORIGINAL = next(SAMPLES.glob("003_*.txt"))
AMENDED = DATA / "amended" / ORIGINAL.name  # TT 3 added, TT 18 removed, TT 5 lead, TT 6 deadline
TABLE_DOCS = ["179-KH-UBND_f004d93b.txt", "2597-QD-TT_ec00bd6f.txt", "2629-QD-TT_2edf5927.txt", "980-KH-UBND_c5d930a5.txt"]


def _plan(path: Path):
    return parse_plan(path.read_text(encoding="utf-8"))


def test_amended_plan_changes_row_to_row_across_renumbering():
    changes = diff_plans(_plan(ORIGINAL), _plan(AMENDED))
    counts = changes.counts()
    assert (counts["added"], counts["removed"], counts["changed"]) == (1, 1, 2)
    assert counts["renumbered"] >= 10  # every row after the inserted one moved down
    [added] = changes.of("added")
    assert added.new.citation == "Phụ lục, TT 3" and added.new.text.startswith("Xây dựng cơ sở dữ liệu y tế")
    [removed] = changes.of("removed")
    assert removed.old.citation == "Phụ lục, TT 18" and "y học cổ truyền" in removed.old.text
    by_old = {c.old.citation: c for c in changes.of("changed")}
    lead, deadline = by_old["Phụ lục, TT 5"], by_old["Phụ lục, TT 6"]
    assert lead.new.citation == "Phụ lục, TT 6" and "lead" in lead.fields and "deadline" not in lead.fields
    assert deadline.fields == ["deadline"] and deadline.new.citation == "Phụ lục, TT 7"
    lines = changes.to_dict()["lines"]
    assert any("hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)" in line for line in lines)
    assert any("chủ trì mới: Sở Tư pháp (trước đây: Sở Y tế)" in line for line in lines)


@pytest.mark.parametrize("name", TABLE_DOCS)
def test_a_perturbed_corpus_plan_shows_exactly_the_perturbation(name):
    plan = _plan(DATA / "corpus" / name)
    assert len(plan.tasks) >= 4
    new = copy.deepcopy(plan)
    removed = new.tasks.pop(1)
    new.tasks[2].deadline = Deadline("Trước ngày 31/12/2031", "date")
    new.tasks[3].lead_text = "Sở Tư pháp"
    for i, task in enumerate(new.tasks):
        task.row = str(i + 10)  # every row renumbered
    changes = diff_plans(plan, new)
    assert [c.old.text for c in changes.of("removed")] == [" ".join(removed.text.split())]
    assert not changes.of("added")
    assert sorted(c.fields[0] for c in changes.of("changed")) == ["deadline", "lead"]


@pytest.mark.parametrize("name", ["179-KH-UBND_f004d93b.txt", "310-KH-UBND_31786b08.txt", "noNumber_c22591f1.txt"])
def test_reindexing_the_same_text_reports_no_change(tmp_path, name):
    """Against the stored version, even though other plans taught the registry new names."""
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(DATA / "corpus" / name, folder)
    store = Store(tmp_path / "planbot.db")
    index_paths(store, [SAMPLES, folder])
    path = folder / name
    plan, _ = parse(load(name, path.read_bytes()), store)
    summary = change_summary(store, name, plan)
    assert summary["changes"]["headline"].startswith("không có thay đổi về nhiệm vụ")
    assert change_summary(store, name, plan, digest=file_hash(path.read_bytes())) == {}  # same bytes: silent


@pytest.fixture
def indexed(tmp_path) -> tuple[Store, Path]:
    folder = tmp_path / "plans"
    folder.mkdir()
    for path in SAMPLES.glob("*.txt"):
        shutil.copy(path, folder)
    store = Store(tmp_path / "planbot.db")
    index_paths(store, [folder])
    return store, folder


def test_change_summary_of_an_amended_file(indexed):
    store, _ = indexed
    plan, _ = parse(load(AMENDED.name, AMENDED.read_bytes()), store)
    summary = change_summary(store, ORIGINAL.name, plan, digest=file_hash(AMENDED.read_bytes()))
    changes = summary["changes"]
    assert (changes["added"], changes["removed"], changes["changed"]) == (1, 1, 2)
    assert changes["against"]["reason"] == "same_file"
    deadline = next(i for i in changes["items"] if i.get("old_citation") == "Phụ lục, TT 6")
    assert deadline["deadline"] == {"before": "Trước ngày 01/7/2025", "after": "Trước ngày 01/10/2025"}
    assert report_lines(summary)[0].startswith("Thay đổi so với bản đã nạp: 1 thêm, 1 bỏ, 2 sửa")


def test_a_plan_declaring_it_replaces_an_indexed_one_is_linked(indexed):
    store, _ = indexed
    text = (AMENDED.read_text(encoding="utf-8")
            + "\n\nKế hoạch này thay thế Kế hoạch số 220/KH-UBND ngày 04/6/2018 của UBND tỉnh Bắc Ninh.\n")
    plan = parse_plan(text, store.registry())
    summary = change_summary(store, "ke-hoach-moi.txt", plan)
    [declared] = summary["declares"]
    assert declared["relation"] == "thay thế" and declared["document"] == "Kế hoạch số 220/KH-UBND"
    assert declared["indexed_file"] == "004_59a1719852ce6b3c.txt"
    assert summary["changes"]["against"]["reason"] == "declared"
    assert "Văn bản này thay thế Kế hoạch số 220/KH-UBND (đã nạp: Kế hoạch số 220/KH-UBND" in report_lines(summary)[0]


def test_notices_go_once_to_the_chats_the_changes_concern(indexed):
    from datetime import UTC, datetime

    from indexer.changes import change_notice
    from reminders.model import Subscription
    from reminders.notices import queue_notice
    from reminders.storage import pending_messages, save_subscription

    store, _ = indexed
    now = datetime(2025, 6, 1, 1, 0, tzinfo=UTC)
    for chat, agency, plan_file in [
        (-1001, "Sở Tư pháp", None),  # the new lead of TT 5
        (-1002, "Sở Giáo dục và Đào tạo", None),  # no changed row concerns it
        (-1003, None, ORIGINAL.name),  # every change of this plan
        (-1004, None, "004_59a1719852ce6b3c.txt"),  # another plan
    ]:
        save_subscription(store.db, Subscription(chat, now, "group", agency=agency, plan_file=plan_file), now)
    digest = file_hash(AMENDED.read_bytes())
    plan, _ = parse(load(AMENDED.name, AMENDED.read_bytes()), store)
    summary = change_summary(store, ORIGINAL.name, plan, digest=digest) | {"number": "", "title": plan.meta.title}
    notice = change_notice(ORIGINAL.name, summary, digest)
    assert queue_notice(store, notice, now) == [-1003, -1001]
    assert queue_notice(store, notice, now) == []  # the same file again: nothing
    messages = {m.chat_id: m.text for m in pending_messages(store.db)}
    assert set(messages) == {-1001, -1003}
    assert "được sửa" in messages[-1003] and "hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)" in messages[-1003]
    assert "chủ trì mới: Sở Tư pháp" in messages[-1001] and "01/10/2025" not in messages[-1001]


# -- through the bot: preview, import, notice once, reminders on the new deadline ----------------


@pytest.mark.e2e
async def test_admin_upload_of_an_amended_plan_previews_and_notifies_once(emulator, bot_token, indexed) -> None:
    import asyncio
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from answering.knowledge_base import KnowledgeBase
    from bot.app import build_application
    from bot.reminders.jobs import SERVICE_KEY, sender
    from bot.settings import BotSettings
    from reminders.cli import remind_dry_run
    from reminders.jobs import clock_from
    from reminders.model import Subscription
    from reminders.storage import save_subscription
    from tests.emulator.fixtures import running_bot

    store, folder = indexed
    admin_id = 424_242_777
    settings = BotSettings(
        data_dir=store.path.parent, db_path=store.path, plans_dir=folder, model="",
        telegram_token=bot_token, telegram_base_url=emulator.base_url, admin_ids=frozenset({admin_id}),
    )
    kb = KnowledgeBase(store, None)
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    group = emulator.group_chat(bot_token, title="Tổ công tác Sở Y tế")
    save_subscription(store.db, Subscription(group.id, datetime(2025, 6, 1, tzinfo=tz), "group", agency="Sở Y tế"),
                      datetime(2025, 6, 1, tzinfo=tz))
    # the bot's own clock before the morning's sending window: the import's delivery run defers
    # (with the real clock, a run after 07:30 Vietnam time also sent that day's real reminders)
    app = build_application(settings, kb, store, None, clock=clock_from(datetime(2025, 9, 3, 6, 0, tzinfo=tz)))
    async with running_bot(app):
        admin = emulator.private_user(bot_token, user_id=admin_id, first_name="Admin")
        await admin.send_document(ORIGINAL.name, AMENDED.read_bytes(), "text/plain")
        preview = (await admin.wait_for_replies(3))[-1]
        for _ in range(20):
            if "Nhập" in str(preview.get("reply_markup")):
                break
            preview = (await admin.wait_for_replies(1))[-1]
        text = preview["text"]
        assert "Thay đổi so với bản đã nạp: 1 thêm, 1 bỏ, 2 sửa" in text
        assert "hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)" in text
        await admin.press("✅ Nhập", preview)
        for _ in range(100):
            if store.db.execute("SELECT count(*) FROM reminder_outbox").fetchone()[0]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # the import's own delivery run (deferred: before the window)
        await app.bot_data[SERVICE_KEY].run_chat(sender(app.bot), group.id, now=datetime(2025, 9, 3, 9, 0, tzinfo=tz))
        notices = await group.wait_for_replies(1)
        # the same file again: identical, nothing more for the group
        await admin.send_document(ORIGINAL.name, AMENDED.read_bytes(), "text/plain")
        again = (await admin.wait_for_replies(3))[-1]
        for _ in range(20):
            if "Nhập" in str(again.get("reply_markup")):
                break
            again = (await admin.wait_for_replies(1))[-1]
        assert "Thay đổi" not in again["text"]
        await admin.press("✅ Nhập", again)
        await asyncio.sleep(1.5)
        await app.bot_data[SERVICE_KEY].run_chat(sender(app.bot), group.id, now=datetime(2025, 9, 3, 9, 5, tzinfo=tz))
        await group.assert_no_reply(1.0)
    [notice] = notices
    assert "được sửa" in notice["text"] and "hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)" in notice["text"]
    assert "y học cổ truyền" in notice["text"]  # TT 18, led by Sở Y tế, removed
    # reminders follow the new deadline: seven days before 01/10/2025, the row now numbered TT 7
    shown = remind_dry_run(settings, datetime(2025, 9, 24, 8, 0, tzinfo=tz), group.id)
    assert "Phụ lục, TT 7" in shown and "y học cổ truyền" not in shown


def test_planbot_index_reports_the_changes_of_an_edited_file(tmp_path):
    import json

    from click.testing import CliRunner

    from planbot.cli import main

    folder = tmp_path / "plans"
    folder.mkdir()
    target = folder / ORIGINAL.name
    shutil.copy(ORIGINAL, target)
    db = str(tmp_path / "planbot.db")
    first = CliRunner().invoke(main, ["index", "--db", db, "--no-embed", str(folder)])
    assert first.exit_code == 0 and "Thay đổi" not in first.output  # a new plan
    shutil.copy(AMENDED, target)
    edited = CliRunner().invoke(main, ["index", "--db", db, "--no-embed", str(folder)])
    assert "Thay đổi so với bản đã nạp: 1 thêm, 1 bỏ, 2 sửa" in edited.output
    assert "hạn cuối mới 30/09/2025 (trước đây: 30/06/2025)" in edited.output
    again = CliRunner().invoke(main, ["index", "--db", db, "--no-embed", "--json", str(folder)])
    [report] = [json.loads(line) for line in again.output.splitlines()]
    assert report["status"] == "unchanged" and "changes" not in report["summary"]
    shutil.copy(ORIGINAL, target)  # back to the first version, as JSON
    back = CliRunner().invoke(main, ["index", "--db", db, "--no-embed", "--json", str(folder)])
    [report] = [json.loads(line) for line in back.output.splitlines()]
    changes = report["summary"]["changes"]
    assert (changes["added"], changes["removed"], changes["changed"]) == (1, 1, 2)


def test_planbot_index_of_an_edited_plan_queues_its_notice_for_the_chats_it_concerns(tmp_path):
    """`planbot index` (the composition root wires the reminders' outbox into the pipeline)."""
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from planbot.cli import main
    from reminders.model import Subscription
    from reminders.storage import pending_messages, save_subscription

    folder = tmp_path / "plans"
    folder.mkdir()
    target = folder / ORIGINAL.name
    shutil.copy(ORIGINAL, target)
    db = tmp_path / "planbot.db"
    assert CliRunner().invoke(main, ["index", "--db", str(db), "--no-embed", str(folder)]).exit_code == 0
    store = Store(db)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    save_subscription(store.db, Subscription(-1001, now, "group", agency="Sở Tư pháp"), now)
    save_subscription(store.db, Subscription(-1002, now, "group", agency="Sở Giáo dục và Đào tạo"), now)
    shutil.copy(AMENDED, target)
    edited = CliRunner().invoke(main, ["index", "--db", str(db), "--no-embed", "--json", str(folder)])
    [report] = [json.loads(line) for line in edited.output.splitlines()]
    assert report["summary"]["notified"] == [-1001]
    [notice] = pending_messages(store.db)
    assert notice.chat_id == -1001 and "được sửa" in notice.text and "chủ trì mới: Sở Tư pháp" in notice.text
    again = CliRunner().invoke(main, ["index", "--db", str(db), "--no-embed", "--force", str(folder)])
    assert again.exit_code == 0 and len(pending_messages(store.db)) == 1  # the same content: once
    store.close()
