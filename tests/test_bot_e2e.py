"""End to end: the real bot (bot.app.build_application) against the Bot API emulator.

Users talk through the emulator's client endpoints; the bot long-polls it over loopback HTTP.
The sample plans are indexed into a temporary database (lexical search, no model). Skipped
when Node.js is missing (see tests/emulator/README.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from answering.knowledge_base import KnowledgeBase
from bot.app import ADMIN_COMMANDS, USER_COMMANDS, build_application
from bot.render.messages import REFUSAL
from bot.settings import BotSettings
from encoders.embedder import HashingEmbedder
from indexer.feedback import feedback_rows
from indexer.indexing import index_paths
from indexer.settings import load_settings
from store.database import Store
from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import EmulatorServer, TelegramUser, running_bot
from tests.emulator.harness import ReplyTimeout

pytestmark = [pytest.mark.e2e]

ROOT = Path(__file__).resolve().parent.parent
ADMIN = 424_242_001
QUESTION = "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?"
NEW_PLAN = """ỦY BAN NHÂN DÂN TỈNH THANH HÓA

Số: 99/KH-UBND

KẾ HOẠCH

Hợp tác quốc tế về y tế dự phòng năm 2026

I. MỤC ĐÍCH, YÊU CẦU

- Tăng cường hợp tác quốc tế trong lĩnh vực y tế dự phòng.

II. TỔ CHỨC THỰC HIỆN

1. Sở Ngoại vụ: Chủ trì, phối hợp với Sở Y tế đón tiếp các đoàn chuyên gia quốc tế về tiêm chủng.

2. Sở Y tế: Định kỳ hằng quý báo cáo kết quả thực hiện về Ủy ban nhân dân tỉnh.

Phụ lục
NHIỆM VỤ CỤ THỂ

TT\tNội dung nhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành
1\tKý kết thỏa thuận hợp tác về tiêm chủng mở rộng với tổ chức quốc tế\tSở Ngoại vụ\tSở Y tế\tTrước 30/9/2026
2\tTổ chức hội thảo quốc tế về phòng chống dịch bệnh truyền nhiễm\tSở Y tế\tSở Ngoại vụ, Sở Tài chính\tQuý IV năm 2026
"""


# -- fixtures and helpers ---------------------------------------------------------------------


def _indexed_store(folder: Path) -> Store:
    store = Store(folder / "planbot.db")
    index_paths(store, [ROOT / "sample_plans"], None)
    return store


@pytest.fixture(scope="module")
def shared_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The sample plans, indexed once, for tests that do not change the index."""
    return KnowledgeBase(_indexed_store(tmp_path_factory.mktemp("e2e")), None)


@pytest.fixture
def own_kb(tmp_path: Path) -> KnowledgeBase:
    """A private copy of the index, for tests that import plans."""
    return KnowledgeBase(_indexed_store(tmp_path), None)


def make_app(emulator: EmulatorServer, token: str, kb: KnowledgeBase, embedder=None, **settings):
    config = BotSettings(
        data_dir=kb.store.path.parent,
        db_path=kb.store.path,
        plans_dir=ROOT / "sample_plans",
        model="",
        telegram_token=token,
        telegram_base_url=emulator.base_url,
        admin_ids=frozenset({ADMIN}),
    )
    return build_application(replace(config, **settings), kb, kb.store, embedder)


async def reply_where(
    user: TelegramUser, predicate: Callable[[dict], bool], timeout: float = 10.0
) -> dict:
    """Read the bot's messages/edits in the user's chat until one satisfies `predicate`."""
    deadline = time.monotonic() + timeout
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            [message] = await user.wait_for_replies(1, timeout=left)
        except ReplyTimeout:
            break
        if predicate(message):
            return message
        seen.append(message.get("text", "")[:200])
    raise AssertionError(f"no matching reply within {timeout}s; saw: {seen}")


def containing(*parts: str) -> Callable[[dict], bool]:
    return lambda m: all(p in m.get("text", "") for p in parts)


def bold(message: dict) -> list[str]:
    """Texts of the bold entities (offsets are UTF-16 code units)."""
    raw = message["text"].encode("utf-16-le")
    return [
        raw[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == "bold"
    ]


def buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["text"] for row in rows for b in row]


# -- private chat: questions, pages, source text, feedback -----------------------------------


async def test_question_pages_source_and_feedback(emulator, bot_token, shared_kb) -> None:
    app = make_app(emulator, bot_token, shared_kb)
    async with running_bot(app):
        lan = emulator.private_user(bot_token, first_name="Lan")
        await lan.send_text(QUESTION)
        [reply] = await lan.wait_for_replies(1)
        text = reply["text"]
        assert "Sở Nội vụ: 8 nội dung" in text and "(trang 1/2)" in text
        for citation in ("[IV.4]", "[Phụ lục, TT 5]", "[Phụ lục, TT 6]", "[Phụ lục, TT 12]"):
            assert citation in text
        assert text.index("Chủ trì\n") < text.index("Phối hợp\n")
        assert "Trước 01/7/2025 (hạn cuối 30/06/2025)" in bold(reply)  # the last day
        assert reply["_request"]["parse_mode"] == "HTML"
        assert {"Xem nguyên văn 1", "▶", "1/2", "👍", "👎"} <= set(buttons(reply))

        await lan.press("▶", reply)
        [page2] = await lan.wait_for_replies(1)
        assert page2["_event"] == "edit" and page2["message_id"] == reply["message_id"]
        assert "(trang 2/2)" in page2["text"] and "[Phụ lục, TT 13]" in page2["text"]
        assert "◀" in buttons(page2) and "▶" not in buttons(page2)
        await lan.press("◀", page2)
        [page1] = await lan.wait_for_replies(1)
        assert "(trang 1/2)" in page1["text"]

        await lan.press("Xem nguyên văn 1", page1)
        [source] = await lan.wait_for_replies(1)
        assert "IV.4" in source["text"] and "Chủ trì: Sở Nội vụ" in source["text"]
        assert "Thẩm định, trình cấp có thẩm quyền xem xét" in source["text"]

        await lan.press("👍", page1)
        await lan.press("👎", page1)
        for _ in range(50):
            if len(feedback_rows(shared_kb.store.db)) >= 2:
                break
            await asyncio.sleep(0.05)
    votes = [
        (r["question"], r["vote"], r["answer_intent"]) for r in feedback_rows(shared_kb.store.db)
    ]
    assert (QUESTION, 1, "agency_duties") in votes and (QUESTION, -1, "agency_duties") in votes
    answers = emulator.state(bot_token)["callback_answers"]
    assert any((a.get("text") or "").startswith("Cảm ơn góp ý") for a in answers)


async def test_no_diacritics_unanswerable_and_malformed(emulator, bot_token, shared_kb) -> None:
    app = make_app(emulator, bot_token, shared_kb)
    async with running_bot(app):  # raises if any handler raised
        an = emulator.private_user(bot_token, first_name="An")
        await an.send_text("so noi vu chiu trach nhiem gi, han khi nao")
        [reply] = await an.wait_for_replies(1)
        assert "Sở Nội vụ: 8 nội dung" in reply["text"] and "[IV.4]" in reply["text"]

        await an.send_text("Ai là đơn vị chủ trì Dự án mở rộng Bệnh viện Sản Nhi?")
        [declined] = await an.wait_for_replies(1)
        assert "Kế hoạch không nêu đơn vị chủ trì" in declined["text"]
        assert "[Danh mục, TT 8]" in declined["text"]

        for text, expected in [
            ("😀😀😀", "chưa hiểu câu hỏi"),
            ("Where is the hospital budget for next year?", "chỉ trả lời câu hỏi bằng tiếng Việt"),
            ("a" * 4000, "quá dài"),
            ("/khongco", "Lệnh không rõ"),
        ]:
            await (an.send_command(text) if text.startswith("/") else an.send_text(text))
            [polite] = await an.wait_for_replies(1)
            assert expected in polite["text"], polite["text"]

        await an.send_text("Sở Ngọi vụ làm gì?")  # typo between Sở Nội vụ and Sở Ngoại vụ
        [ask] = await an.wait_for_replies(1)
        assert ask["text"].startswith("Ý bạn là:") and set(buttons(ask)) == {
            "Sở Nội vụ",
            "Sở Ngoại vụ",
        }
        await an.press("Sở Nội vụ", ask)
        [picked] = await an.wait_for_replies(1)
        assert picked["_event"] == "edit" and "Sở Nội vụ: 8 nội dung" in picked["text"]


# -- commands ---------------------------------------------------------------------------------


async def test_commands(emulator, bot_token, shared_kb) -> None:
    app = make_app(emulator, bot_token, shared_kb)
    assert isinstance(app.bot.rate_limiter, AIORateLimiter)  # honours RetryAfter
    assert app.bot.defaults.parse_mode == "HTML"
    assert str(app.bot.defaults.tzinfo) == "Asia/Ho_Chi_Minh"
    async with running_bot(app):
        await app.post_init(app)  # what run_polling does after initialize()
        state = emulator.state(bot_token)["commands"]
        scopes = {(c["scope"]["type"], c["scope"].get("chat_id")): c["commands"] for c in state}
        assert [c["command"] for c in scopes[("default", None)]] == [
            c.command for c in USER_COMMANDS
        ]
        assert "reindex" not in {c["command"] for c in scopes[("default", None)]}
        admin = (
            scopes[("chat", ADMIN)] if ("chat", ADMIN) in scopes else scopes[("chat", str(ADMIN))]
        )
        assert [c["command"] for c in admin] == [c.command for c in ADMIN_COMMANDS]

        binh = emulator.private_user(bot_token, first_name="Bình")
        await binh.send_command("/start")
        help_parts = await binh.wait_for_replies(1)
        assert "Sở Nội vụ chịu trách nhiệm gì" in help_parts[0]["text"]
        assert "Các kế hoạch đã nạp (5)" in help_parts[0]["text"]
        assert "/reindex" not in help_parts[0]["text"]

        await binh.send_command("/nhiemvu", "Sở Nội vụ")
        [duties] = await binh.wait_for_replies(1)
        assert duties["text"].startswith("Sở Nội vụ: 8 nội dung trong 2 kế hoạch (tính đến")
        assert any(h in duties["text"] for h in ("Quá hạn (", "Sắp đến hạn", "Còn hạn ("))
        assert "Thường xuyên (" in duties["text"] + (await _last_page(binh, duties))["text"]

        await binh.send_command("/nhiemvu", "so ngoai vu")  # exact (folded): no question asked
        [none] = await binh.wait_for_replies(1)
        assert "Không thấy nhiệm vụ nào giao cho Sở Ngoại vụ" in none["text"]
        await binh.send_command("/nhiemvu")
        [usage] = await binh.wait_for_replies(1)
        assert "Cách dùng: /nhiemvu" in usage["text"]

        await binh.send_command("/hanchot", "quý III/2024")
        [due] = await binh.wait_for_replies(1)
        assert "Có 1 nhiệm vụ đến hạn trong quý III/2024" in due["text"]
        assert "[Phụ lục, TT 1]" in due["text"] and "Quý II, III năm 2024" in due["text"]
        await binh.send_command("/hanchot", "01/7/2025")
        [day] = await binh.wait_for_replies(1)
        assert "[Phụ lục, TT 5]" in day["text"] and "[Phụ lục, TT 6]" in day["text"]
        await binh.send_command("/hanchot")
        [default] = await binh.wait_for_replies(1)
        assert "30 ngày tới" in default["text"]
        await binh.send_command("/hanchot", "tháng mười ba")
        [bad] = await binh.wait_for_replies(1)
        assert "Cách dùng: /hanchot" in bad["text"]

        await binh.send_command("/baocao")
        [rules] = await binh.wait_for_replies(1)
        assert rules["text"].startswith("Quy định báo cáo định kỳ (10)")
        assert "Hạn gửi: chậm nhất ngày 10 của tháng kế tiếp" in rules["text"]
        assert "Đơn vị báo cáo: Các đơn vị trực thuộc" in rules["text"]

        await binh.send_command("/huynhac")  # the reminders' commands are wired in too
        [reminders] = await binh.wait_for_replies(1)
        assert "chưa bật nhắc việc" in reminders["text"]

        await binh.send_command("/plans")
        [plans] = await binh.wait_for_replies(1)
        assert (
            "Kế hoạch số 220/KH-UBND" in plans["text"]
            and "003_c46a33fedfcb2327.txt" in plans["text"]
        )


async def _last_page(user: TelegramUser, message: dict) -> dict:
    while "▶" in buttons(message):
        await user.press("▶", message)
        [message] = await user.wait_for_replies(1)
    return message


# -- groups -----------------------------------------------------------------------------------


async def test_group_answers_mentions_and_replies_only(emulator, bot_token, shared_kb) -> None:
    app = make_app(emulator, bot_token, shared_kb)
    async with running_bot(app):
        group = emulator.group_chat(bot_token, title="Tổ công tác y tế")
        chi = group.member(first_name="Chi")
        await chi.send_text("Chào cả nhà, Sở Nội vụ chịu trách nhiệm gì nhỉ?")
        await group.assert_no_reply(within=1.0)

        await chi.send_mention(QUESTION)
        [answer] = await group.wait_for_replies(1)
        assert "Sở Nội vụ: 8 nội dung" in answer["text"]
        assert answer["chat"]["type"] == "group"
        assert answer["_request"].get("reply_parameters")  # quotes the asker in a group

        await chi.reply_to(answer, "Còn Sở Tài chính thì sao, chịu trách nhiệm gì?")
        [follow] = await group.wait_for_replies(1)
        assert follow["text"].startswith("Sở Tài chính:")

        await chi.send_command("/nhiemvu", "Sở Nội vụ", at_bot=True)
        [command] = await group.wait_for_replies(1)
        assert command["text"].startswith("Sở Nội vụ: 8 nội dung")
        await chi.send_text("cảm ơn nhé")
        await group.assert_no_reply(within=0.5)


# -- admin actions ----------------------------------------------------------------------------


async def test_non_admin_is_refused(emulator, bot_token, own_kb) -> None:
    app = make_app(emulator, bot_token, own_kb)
    before = own_kb.plans()
    async with running_bot(app):
        dung = emulator.private_user(bot_token, first_name="Dũng")
        await dung.send_command("/reindex")
        [refused] = await dung.wait_for_replies(1)
        assert refused["text"] == REFUSAL
        await dung.send_document("kh_moi.txt", NEW_PLAN.encode(), "text/plain")
        [refused] = await dung.wait_for_replies(1)
        assert refused["text"] == REFUSAL
        await dung.send_text("Sở Ngoại vụ chịu trách nhiệm gì?")
        [unchanged] = await dung.wait_for_replies(1)
        assert "Không thấy nhiệm vụ nào giao cho Sở Ngoại vụ" in unchanged["text"]
    assert own_kb.plans() == before
    log = list(own_kb.store.db.query("SELECT status, detail FROM upload_log"))
    assert log == [{"status": "refused", "detail": "not an admin"}]


class SlowEmbedder(HashingEmbedder):
    """A deterministic toy model that takes its time, so indexing overlaps other questions."""

    def encode_documents(self, texts: list[str]):
        time.sleep(1.5)
        return super().encode_documents(texts)


async def test_admin_upload_preview_import_and_answers_meanwhile(
    emulator, bot_token, own_kb
) -> None:
    app = make_app(emulator, bot_token, own_kb, embedder=SlowEmbedder())
    async with running_bot(app):
        admin = emulator.private_user(bot_token, first_name="Quản trị", user_id=ADMIN)
        other = emulator.private_user(bot_token, first_name="Hà")

        await admin.send_document("kh_moi.txt", NEW_PLAN.encode(), "text/plain")
        preview = await reply_where(admin, containing("Xem trước:", "Bấm Nhập"))
        assert "Số: 99/KH-UBND" in preview["text"] and "Nhiệm vụ trong bảng: 2" in preview["text"]
        assert buttons(preview) == ["✅ Nhập", "✖️ Huỷ"]
        assert len(own_kb.plans()) == 5  # a preview changes nothing

        await admin.press("✅ Nhập", preview)
        await reply_where(admin, containing("⏳ Đang nhập"))  # indexing (≥ 1.5 s) has begun
        # While the plan is being indexed, others are answered from the old index.
        await other.send_text("Sở Ngoại vụ chịu trách nhiệm gì?")
        [meanwhile] = await other.wait_for_replies(1)
        assert "Không thấy nhiệm vụ nào giao cho Sở Ngoại vụ" in meanwhile["text"]
        done = await reply_where(admin, containing("✅ Đã nhập"), timeout=20)
        assert done["message_id"] == preview["message_id"]  # progress = edits of one message
        assert meanwhile["_seq"] < done["_seq"]  # (the emulator numbers all bot output in order)

        await other.send_text("Sở Ngoại vụ chịu trách nhiệm gì?")
        [after] = await other.wait_for_replies(1)
        assert "Sở Ngoại vụ: 3 nội dung" in after["text"]
        assert "Ký kết thỏa thuận hợp tác về tiêm chủng mở rộng" in after["text"]
        assert "[Phụ lục, TT 1]" in after["text"] and "Trước 30/9/2026 (hạn cuối 29/09/2026)" in bold(
            after
        )
        assert "Kế hoạch số 99/KH-UBND" in after["text"]

        await admin.send_document(
            "kh_huy.txt", NEW_PLAN.replace("99/", "98/").encode(), "text/plain"
        )
        preview = await reply_where(admin, containing("Xem trước:"))
        await admin.press("✖️ Huỷ", preview)
        await reply_where(admin, containing("Đã huỷ", "Chỉ mục không thay đổi"))

        await admin.send_command("/reindex")
        await reply_where(admin, containing("Đã đọc lại 5 tệp", "5 không đổi"))
    assert [p["file"] for p in own_kb.plans()][-1] == "kh_moi.txt" and len(own_kb.plans()) == 6
    statuses = [
        r["status"] for r in own_kb.store.db.query("SELECT status FROM upload_log ORDER BY id")
    ]
    assert statuses == ["previewed", "indexed", "previewed", "cancelled"]


async def test_broken_uploads_leave_the_index_intact(emulator, bot_token, own_kb) -> None:
    app = make_app(emulator, bot_token, own_kb, max_upload_bytes=4096)
    before = own_kb.plans()
    async with running_bot(app):
        admin = emulator.private_user(bot_token, first_name="Quản trị", user_id=ADMIN)
        await admin.send_text(QUESTION)
        [reference] = await admin.wait_for_replies(1)
        for name, data, expected in [
            ("hong.pdf", b"%PDF-1.4 \x00\x01 garbage" * 20, "không phải PDF hợp lệ"),
            ("nhi_phan.txt", bytes(range(256)) * 4, "tệp nhị phân"),
            ("rong.txt", b"", "rỗng"),
            ("anh.jpg", b"\xff\xd8\xff" * 10, "chỉ hỗ trợ .txt, .md, .docx, .doc hoặc .pdf"),
            ("to.txt", NEW_PLAN.encode() * 5, "quá lớn"),
            ("hong.docx", b"PK\x03\x04 not really a docx", "không phải .docx hợp lệ"),
        ]:
            await admin.send_document(name, data)
            failed = await reply_where(admin, lambda m: "⏳" not in m["text"])
            assert expected in failed["text"] and "Chỉ mục không thay đổi" in failed["text"], (
                failed["text"]
            )
        await admin.send_text(QUESTION)
        [again] = await admin.wait_for_replies(1)
        assert again["text"] == reference["text"]
    assert own_kb.plans() == before


# -- the real entry point -----------------------------------------------------------------


def test_run_without_token_says_what_to_set(tmp_path: Path) -> None:
    from bot.app import run
    from knowledge.errors import PlanbotError

    settings = BotSettings(tmp_path, tmp_path / "p.db", ROOT / "sample_plans", model="")
    with pytest.raises(PlanbotError) as error:
        run(settings)
    assert "TELEGRAM_BOT_TOKEN" in str(error.value) and "TELEGRAM_API_BASE_URL" in str(error.value)
    assert not (tmp_path / "p.db").exists()  # nothing started, nothing created


async def test_run_polls_the_configured_server(emulator, bot_token, tmp_path: Path) -> None:
    """`bot.app.run(load_bot_settings())` in a child process, configured only by environment."""
    _indexed_store(tmp_path).close()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": bot_token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "PLANBOT_DB": str(tmp_path / "planbot.db"),
        "PLANBOT_MODEL": str(tmp_path / "no-model"),  # lexical search: no model to load
        "PLANBOT_ADMIN_IDS": str(ADMIN),
        "PLANBOT_WEBHOOK_URL": "",
    }
    code = (
        "import logging; logging.basicConfig(level=logging.DEBUG); "
        "from bot.app import run; from bot.settings import load_bot_settings; run(load_bot_settings())"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        user = emulator.private_user(bot_token, first_name="Giang")
        await user.send_text(QUESTION)
        [reply] = await user.wait_for_replies(1, timeout=30)
        assert "Sở Nội vụ: 8 nội dung" in reply["text"]
        commands = emulator.state(bot_token)["commands"]  # post_init ran
        assert {c["scope"]["type"] for c in commands} == {"default", "chat"}
    finally:
        child.send_signal(signal.SIGINT)  # PTB stops polling cleanly on SIGINT
        _, stderr = child.communicate(timeout=20)
    assert "Application started" in stderr
    assert bot_token not in stderr  # the token is never logged, even at DEBUG


def test_send_rate_setting_reaches_the_bots_rate_limiter(emulator, bot_token, shared_kb):
    """PLANBOT_SEND_RATE, read once into settings, is the whole bot's send limit (0: none)."""
    assert load_settings({"PLANBOT_SEND_RATE": "12.5"}, dotenv=False).send_rate == 12.5
    assert load_settings({"PLANBOT_SEND_RATE": "fast"}, dotenv=False).send_rate == 30.0
    assert load_settings({}, dotenv=False).send_rate == 30.0
    limited = make_app(emulator, bot_token, shared_kb, send_rate=12.5).bot.rate_limiter
    assert limited._base_limiter is not None and limited._base_limiter.max_rate == 12.5
    unlimited = make_app(emulator, bot_token, shared_kb, send_rate=0.0).bot.rate_limiter
    assert unlimited._base_limiter is None
