"""Several bot workers over one database (issue 19): what spans updates lives in the database, a
reindex through one process reaches the others, reminder rows are claimed by one worker.

"Worker A" and "worker B" are two applications built by `bot.app.build_application`, each with
its own `Store` and `KnowledgeBase` over the same database file and nothing else in common (B
starts after A has stopped: the emulator serves one poller per token).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from answering.knowledge_base import KnowledgeBase
from bot import storage as bot_storage
from bot.admin import PREVIEW_GONE, PendingUpload
from bot.chat import Choice
from indexer.indexing import index_paths, index_text
from indexer.settings import load_settings
from reminders import claims, storage
from reminders.jobs import RESENT_NOTE, ReminderService, clock_from
from reminders.model import everything
from reminders.pacing import Pacer
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import running_bot
from tests.generated_plans import plan_with_tasks
from tests.test_bot_e2e import ADMIN, NEW_PLAN, QUESTION, buttons, containing, make_app, reply_where

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path: Path) -> Path:
    store = Store(tmp_path / "planbot.db")
    index_paths(store, [ROOT / "sample_plans"], None)
    store.close()
    return tmp_path / "planbot.db"


def worker(db: Path) -> KnowledgeBase:
    return KnowledgeBase(Store(db), None)


# -- state that spans updates -----------------------------------------------------------------


@pytest.mark.e2e
async def test_a_button_pressed_on_worker_b_works_for_a_page_made_on_worker_a(
    emulator, bot_token, db
) -> None:
    lan = emulator.private_user(bot_token, first_name="Lan")
    async with running_bot(make_app(emulator, bot_token, worker(db))):
        await lan.send_text(QUESTION)
        [reply] = await lan.wait_for_replies(1)
        assert "(trang 1/2)" in reply["text"] and "▶" in buttons(reply)
    async with running_bot(make_app(emulator, bot_token, worker(db))):  # worker B
        await lan.press("▶", reply)
        [page2] = await lan.wait_for_replies(1)
        assert page2["_event"] == "edit" and page2["message_id"] == reply["message_id"]
        assert "(trang 2/2)" in page2["text"] and "[Phụ lục, TT 13]" in page2["text"]
        await lan.press("◀", page2)
        [page1] = await lan.wait_for_replies(1)
        assert "(trang 1/2)" in page1["text"]


@pytest.mark.e2e
async def test_an_upload_previewed_on_worker_a_is_imported_by_worker_b(
    emulator, bot_token, db
) -> None:
    admin = emulator.private_user(bot_token, first_name="Quản trị", user_id=ADMIN)
    async with running_bot(make_app(emulator, bot_token, worker(db))):
        await admin.send_document("kh_moi.txt", NEW_PLAN.encode(), "text/plain")
        preview = await reply_where(admin, containing("Xem trước:", "Bấm Nhập"))
    kb_b = worker(db)
    async with running_bot(make_app(emulator, bot_token, kb_b)):
        await admin.press("✅ Nhập", preview)
        await reply_where(admin, containing("✅ Đã nhập"), timeout=20)
        await admin.press("✅ Nhập", preview)  # pressed again: the upload was taken, once
        for _ in range(100):
            answers = emulator.state(bot_token)["callback_answers"]
            if any(PREVIEW_GONE in (a.get("text") or "") for a in answers):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"no '{PREVIEW_GONE}' for the second press: {answers}")
    assert [p["file"] for p in kb_b.plans()][-1] == "kh_moi.txt" and len(kb_b.plans()) == 6


@pytest.mark.e2e
async def test_an_upload_over_the_limit_is_refused_and_nothing_waits_for_it(
    emulator, bot_token, db
) -> None:
    admin = emulator.private_user(bot_token, first_name="Quản trị", user_id=ADMIN)
    kb = worker(db)
    async with running_bot(make_app(emulator, bot_token, kb, max_upload_bytes=500)):
        await admin.send_document("kh_moi.txt", NEW_PLAN.encode(), "text/plain")  # 949 bytes
        refused = await reply_where(admin, containing("quá lớn", "Chỉ mục không thay đổi"))
        assert buttons(refused) == []
    assert (
        kb.store.db.execute("SELECT count(*) FROM bot_state WHERE kind = 'uploads'").fetchone()[0]
        == 0
    )


def test_bot_state_is_bounded_per_chat_expires_and_is_taken_once(db: Path) -> None:
    a, b = Store(db), Store(db)
    keys = [
        bot_storage.put_state(a.db, 7, "uploads", PendingUpload(f"f{i}.txt", b"x" * i), keep=3)
        for i in range(5)
    ]
    assert [bot_storage.get_state(b.db, 7, "uploads", k) for k in keys[:2]] == [
        None,
        None,
    ]  # the oldest dropped
    kept = bot_storage.get_state(b.db, 7, "uploads", keys[4])
    assert kept == PendingUpload("f4.txt", b"xxxx")
    assert bot_storage.get_state(b.db, 8, "uploads", keys[4]) is None  # another chat's key: nothing
    assert bot_storage.get_state(b.db, 7, "uploads", keys[4], pop=True) == kept
    assert (
        bot_storage.get_state(a.db, 7, "uploads", keys[4], pop=True) is None
    )  # taken once, by one worker

    choice = Choice("ask", ["Sở Nội vụ", "Sở Y tế"], "ai lo việc này", "so")
    key = bot_storage.put_state(a.db, 7, "choices", choice, keep=50)
    assert bot_storage.get_state(b.db, 7, "choices", key) == choice
    later = datetime.now(UTC) + bot_storage.STATE_DEFAULT_TTL + timedelta(minutes=1)
    assert bot_storage.get_state(b.db, 7, "choices", key, now=later) is None  # expired
    assert bot_storage.sweep_state(b.db, now=later) >= 2  # swept: the choice and the uploads left
    assert b.db.execute("SELECT count(*) FROM bot_state").fetchone()[0] == 0


# -- a reindex through one process reaches the others ----------------------------------------


def test_a_plan_indexed_by_another_process_is_answered_without_a_restart(
    db: Path, tmp_path: Path
) -> None:
    kb = worker(db)
    assert (
        "Không thấy nhiệm vụ nào giao cho Sở Ngoại vụ"
        in kb.ask("Sở Ngoại vụ chịu trách nhiệm gì?").answer
    )
    folder = tmp_path / "moi"
    folder.mkdir()
    (folder / "kh_moi.txt").write_text(NEW_PLAN, encoding="utf-8")
    before = kb.store.data_version()
    subprocess.run(
        [sys.executable, "-m", "planbot.cli", "index", "--db", str(db), "--no-embed", str(folder)],
        check=True,
        capture_output=True,
        env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert kb.store.data_version() > before  # bumped in the commit that stored the plan
    answer = kb.ask("Sở Ngoại vụ chịu trách nhiệm gì?")  # no reload() call, no restart
    assert "Sở Ngoại vụ: 3 nội dung" in answer.answer
    assert len(kb.plans()) == 6 and kb._snapshots.current.version == kb.store.data_version()


# -- reminder rows claimed by one worker ------------------------------------------------------


def test_two_workers_never_claim_the_same_row_and_a_lapsed_claim_is_taken_over_marked(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.db"
    a, b = Store(db), Store(db)
    index_text(a, "thu-nghiem.txt", plan_with_tasks(12, date(2025, 6, 25)))
    now = datetime(2025, 6, 24, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    storage.save_subscription(a.db, everything(5, now - timedelta(days=2)), now)
    settings = load_settings({}, dotenv=False)
    svc_a = ReminderService(
        settings, a, clock_from(now), Pacer(400, 0.0), worker="a", lease=timedelta(seconds=60)
    )
    _, queued = svc_a.decide(storage.get_subscription(a.db, 5), now)
    assert queued  # decided by A, and held by A
    assert claims.claim(b.db, 5, "b") == []
    assert claims.start_send(a.db, queued[0].id, "a")  # A starts sending the first, then dies
    assert not claims.start_send(b.db, queued[0].id, "b")
    # A's lease lapses: B takes every row over; the one whose send had started is marked.
    a.db.execute("UPDATE reminder_outbox SET claimed_until = 0")
    a.db.conn.commit()
    taken = claims.claim(b.db, 5, "b")
    assert [o.id for o in taken] == [o.id for o in queued] and taken[0].attempts == 1
    assert claims.claim(a.db, 5, "a") == []  # A, back under its name, finds them held by B

    sent: list[str] = []

    async def send(chat_id: int, html: str, buttons) -> int:
        sent.append(html)
        return len(sent)

    svc_b = ReminderService(
        settings, b, clock_from(now), Pacer(400, 0.0), worker="b", lease=timedelta(seconds=60)
    )
    result = asyncio.run(svc_b.run_chat(send, 5, now))
    assert result.status == "sent" and len(sent) == len(queued)
    assert sent[0].startswith(RESENT_NOTE) and not any(s.startswith(RESENT_NOTE) for s in sent[1:])


# -- the probes with 3 worker processes (benchmarks/workers_probe.py) ---------------------------


def test_three_workers_kill_9_while_sending_lose_nothing_and_repeat_only_marked(
    tmp_path: Path,
) -> None:
    from benchmarks.workers_reminders import run_reminders

    summary = run_reminders(tmp_path / "r", workers=3, chats=80, tasks=20, kills=6, lease=1.0)
    print(summary)
    assert summary["kills"] == 6 and summary["messages_delivered"] >= 160
    assert summary["lost"] == 0 and summary["pending_left"] == 0
    assert summary["unmarked_repeats"] == 0
    assert summary["marked_resends"] <= summary["kills"]
    assert summary["exit_codes"] == [0, 0, 0]


def test_three_workers_answer_during_reindexing_without_errors_or_partial_answers(
    tmp_path: Path,
) -> None:
    from benchmarks.workers_probe import run_questions

    summary = run_questions(tmp_path / "q", workers=3, users=6, seconds=4)
    print(summary)
    assert summary["errors"] == 0 and summary["partial_answers"] == 0
    assert summary["reindex_runs"] >= 1 and summary["reindex_failed"] == 0
    assert summary["workers_behind_last_reindex"] == 0
    assert summary["duties_checked"] > 0 and not any(summary["exit_codes"])


# -- deployment -------------------------------------------------------------------------------


def test_the_compose_file_is_valid_yaml_with_postgres_workers_and_a_proxy() -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML: installed with transformers
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert "pgvector" in services["db"]["image"]
    workers = [name for name in services if name.startswith("planbot")]
    assert len(workers) >= 2
    ports = {services[w]["environment"]["PLANBOT_WEBHOOK_PORT"] for w in workers}
    assert len(ports) == len(workers)  # each worker on its own port
    proxy = services["proxy"]
    config = ROOT / "deploy" / Path(proxy["volumes"][0].split(":")[0]).name
    text = config.read_text(encoding="utf-8")
    assert all(f"{w}:{services[w]['environment']['PLANBOT_WEBHOOK_PORT']}" in text for w in workers)
