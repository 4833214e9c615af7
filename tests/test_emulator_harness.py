"""Proves the e2e harness: a real python-telegram-bot Application against the Bot API emulator.

Everything runs on 127.0.0.1; skipped when Node.js is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import httpx
import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.emulator.fixtures import *  # noqa: F403
from tests.emulator.fixtures import EmulatorServer, running_bot

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


def build_app(builder):
    """A tiny bot exercising the Bot API features the project relies on."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.set_my_commands(
            [BotCommand("start", "Bắt đầu"), BotCommand("nhiemvu", "Tra cứu nhiệm vụ theo cơ quan")]
        )
        await update.message.reply_text("Xin chào! Gõ /nhiemvu <cơ quan>.")

    async def nhiemvu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        agency = " ".join(context.args)
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Chi tiết", callback_data="detail:1"),
                    InlineKeyboardButton("Đóng", callback_data="close"),
                ]
            ]
        )
        await update.message.reply_text(
            f"<b>{agency}</b>: 2 nhiệm vụ", parse_mode=ParseMode.HTML, reply_markup=keyboard
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query.chat_instance
        await query.answer("Đã nhận")
        edited = await query.edit_message_text(f"Bạn đã chọn {query.data}")
        context.bot_data["edited"] = edited

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        doc = update.message.document
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.UPLOAD_DOCUMENT)
        data = await (await doc.get_file()).download_as_bytearray()
        digest = hashlib.sha1(data).hexdigest()
        await update.message.reply_text(f"{doc.file_name} {doc.mime_type} {len(data)} {digest}")
        await update.message.reply_document(
            bytes(data).upper(), filename="ket_qua.txt", caption="Kết quả"
        )

    async def admins(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        names = [m.user.first_name for m in await context.bot.get_chat_administrators(chat_id)]
        me = await context.bot.get_chat_member(chat_id, update.effective_user.id)
        await update.message.reply_text(f"admins={','.join(names)} you={me.status}")

    async def on_mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        await msg.reply_text(
            f"Chào {update.effective_user.first_name} ({update.effective_chat.type})"
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        suffix = f" (trả lời #{msg.reply_to_message.message_id})" if msg.reply_to_message else ""
        await msg.reply_text(msg.text + suffix)

    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("nhiemvu", nhiemvu))
    app.add_handler(CommandHandler("quantri", admins))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.Entity("mention"), on_mention))
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, echo)
    )
    return app


async def test_private_chat_commands_echo_and_buttons(
    emulator: EmulatorServer, app_builder, bot_token
):
    app = build_app(app_builder)
    async with running_bot(app):
        lan = emulator.private_user(bot_token, first_name="Lan")

        await lan.send_command("/start")
        [hello] = await lan.wait_for_replies(1)
        assert hello["text"].startswith("Xin chào")
        assert hello["from"]["is_bot"] is True and hello["chat"]["type"] == "private"
        [commands] = emulator.state(bot_token)["commands"]
        assert commands["scope"] == {"type": "default"}
        assert [c["command"] for c in commands["commands"]] == ["start", "nhiemvu"]
        assert emulator.bot_api(bot_token, "getMyCommands")[1]["command"] == "nhiemvu"

        sent = await lan.send_text("Hạn chót báo cáo là khi nào?")
        [echo] = await lan.wait_for_replies(1)
        assert echo["text"] == "Hạn chót báo cáo là khi nào?"

        await lan.reply_to(echo, "Còn gì nữa?")
        [answer] = await lan.wait_for_replies(1)
        assert answer["text"] == f"Còn gì nữa? (trả lời #{echo['message_id']})"
        assert sent["message_id"] < echo["message_id"]

        await lan.send_command("/nhiemvu", "Sở Nội vụ")
        [menu] = await lan.wait_for_replies(1)
        assert menu["text"] == "Sở Nội vụ: 2 nhiệm vụ"  # HTML parsed into text + entities
        assert menu["entities"] == [{"type": "bold", "offset": 0, "length": 9}]
        assert menu["_request"]["parse_mode"] == "HTML"

        await lan.press("detail:1", menu)
        [edit] = await lan.wait_for_replies(1)
        assert edit["_event"] == "edit" and edit["message_id"] == menu["message_id"]
        assert edit["text"] == "Bạn đã chọn detail:1" and "reply_markup" not in edit
        [answered] = emulator.state(bot_token)["callback_answers"]
        assert answered["text"] == "Đã nhận" and answered["data"] == "detail:1"
        # The emulator records the edit when the request arrives; the handler stores the returned
        # Message only after the response: wait for it (this raced with one shared client).
        for _ in range(100):
            if "edited" in app.bot_data:
                break
            await asyncio.sleep(0.02)
        edited = app.bot_data["edited"]
        assert isinstance(edited, Message) and edited.text == "Bạn đã chọn detail:1"


async def test_document_upload_download_and_send_back(
    emulator: EmulatorServer, app_builder, bot_token
):
    app = build_app(app_builder)
    content = "Kế hoạch 123/KH-UBND\nHạn: 31/12/2025\n".encode()
    async with running_bot(app):
        lan = emulator.private_user(bot_token, first_name="Lan")
        await lan.send_document("ke_hoach.txt", content, "text/plain")
        text_reply, doc_reply = await lan.wait_for_replies(2)
        assert (
            text_reply["text"]
            == f"ke_hoach.txt text/plain {len(content)} {hashlib.sha1(content).hexdigest()}"
        )
        assert (
            doc_reply["document"]["file_name"] == "ket_qua.txt"
            and doc_reply["caption"] == "Kết quả"
        )
        assert emulator.file_bytes(bot_token, doc_reply["document"]["file_id"]) == content.upper()
        state = emulator.state(bot_token)
        assert [a["action"] for a in state["chat_actions"]] == ["upload_document"]
        assert state["documents"][0]["file_size"] == len(content.upper())


async def test_group_chat_mentions_and_admins(emulator: EmulatorServer, app_builder, bot_token):
    app = build_app(app_builder)
    async with running_bot(app):
        group = emulator.group_chat(bot_token, title="Tổ công tác 123")
        an, binh = group.member(first_name="An"), group.member(first_name="Bình")
        emulator.set_chat_admins(group.id, [an.id])

        await binh.send_text("chuyện riêng của nhóm, không gọi bot")
        await an.send_mention("nhiệm vụ tuần này?")
        [reply] = await an.wait_for_replies(1)
        assert reply["text"] == "Chào An (group)"
        assert reply["chat"] == {"id": group.id, "type": "group", "title": "Tổ công tác 123"}
        assert reply["reply_to_message"]["from"]["first_name"] == "An"  # PTB quotes in groups

        await binh.send_command("/quantri", at_bot=True)
        [admins] = await binh.wait_for_replies(1)
        assert admins["text"] == "admins=An you=member"
        await group.assert_no_reply(0.3)


async def test_polling_is_long_polling_not_busy_loop(
    emulator: EmulatorServer, app_builder, bot_token
):
    app = build_app(app_builder)
    async with running_bot(app):
        lan = emulator.private_user(bot_token)
        await lan.send_text("xin chào")
        await lan.wait_for_replies(1)
        before = emulator.state(bot_token)["requests"].get("getUpdates", 0)
        cpu0, t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(2.0)
        cpu, elapsed = time.process_time() - cpu0, time.monotonic() - t0
        polls = emulator.state(bot_token)["requests"]["getUpdates"] - before
        assert polls <= 2, f"{polls} getUpdates calls in {elapsed:.1f}s of idle: busy polling"
        assert cpu < 0.5, f"bot process used {cpu:.2f}s CPU while idle"


async def test_get_updates_honours_timeout_and_offset(emulator: EmulatorServer, bot_token):
    api = f"{emulator.base_url}{bot_token}"
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        t0 = time.monotonic()
        empty = (await http.post(f"{api}/getUpdates", data={"timeout": "1"})).json()
        assert empty == {"ok": True, "result": []} and time.monotonic() - t0 >= 0.9

        user = emulator.private_user(bot_token)
        await user.send_text("một")
        await user.send_text("hai")
        first = (await http.post(f"{api}/getUpdates", data={"timeout": "1"})).json()["result"]
        assert [u["message"]["text"] for u in first] == ["một", "hai"]
        again = (
            await http.post(f"{api}/getUpdates", data={"offset": str(first[0]["update_id"] + 1)})
        ).json()
        assert [u["message"]["text"] for u in again["result"]] == [
            "hai"
        ]  # the first one is confirmed
        last = (
            await http.post(f"{api}/getUpdates", data={"offset": str(first[1]["update_id"] + 1)})
        ).json()
        assert last["result"] == []


async def test_malformed_requests_do_not_crash_the_emulator(emulator: EmulatorServer, bot_token):
    api = emulator.api_url
    json_hdr = {"content-type": "application/json"}
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        bad = [
            await http.post(
                f"{api}/bot{bot_token}/sendMessage", content=b"{not json", headers=json_hdr
            ),
            await http.post(f"{api}/sendMessage", content=b"[1, 2", headers=json_hdr),
            await http.post(
                f"{api}/sendCommand", json={"botToken": bot_token, "text": "/x"}
            ),  # no entities/from
            await http.post(f"{api}/sendCallback", json={"data": "x"}),  # no botToken
            await http.post(
                f"{api}/bot{bot_token}/sendMessage",
                data={"chat_id": "1", "text": "x", "reply_markup": "{oops"},
            ),
            await http.post(
                f"{api}/bot{bot_token}/sendMessage",
                data={"chat_id": "1", "text": "<b>x", "parse_mode": "HTML"},
            ),
            await http.post(
                f"{api}/bot{bot_token}/sendDocument",
                content=b"--zz\r\ngarbage",
                headers={"content-type": "multipart/form-data; boundary=zz"},
            ),
        ]
        for res in bad:
            assert res.status_code == 400, res.text
            assert res.json()["ok"] is False and res.json()["description"].startswith("Bad Request")
        unknown = await http.post(f"{api}/bot{bot_token}/noSuchMethod")
        assert unknown.status_code == 400
        assert unknown.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: method not found",
        }
        assert (await http.get(f"{api}/botnot-a-token/getMe")).status_code == 401
        me = (await http.get(f"{api}/bot{bot_token}/getMe")).json()
    assert emulator.running
    assert me["ok"] and me["result"]["is_bot"] is True
