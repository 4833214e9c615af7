"""Build and run the Telegram application: every handler is wired here, in one place."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote, urlparse
from zoneinfo import ZoneInfo

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from answering.knowledge_base import KnowledgeBase
from bot import admin, fallbacks, followthrough, lookups, plan_focus, questions
from bot.chat import Deps
from bot.reminders.commands import handlers as reminder_handlers
from bot.reminders.jobs import register_reminders
from bot.settings import BotSettings
from knowledge.errors import PlanbotError
from store.database import Store

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
OVERALL_RATE = 30  # messages/s for the whole bot: Telegram's documented limit (FloodLimit)
CONCURRENT_UPDATES = 32  # answer many users at once; indexing never blocks them
CONNECT_RETRIES = 3  # transient connection failures (ConnectError/ConnectTimeout) are retried
WARM_DELAY = 1.0  # seconds after start-up before the embedding model is loaded in the background

USER_COMMANDS = [
    BotCommand("help", "Hướng dẫn, ví dụ câu hỏi, danh sách kế hoạch"),
    BotCommand("nhiemvu", "Nhiệm vụ của một cơ quan: /nhiemvu Sở Nội vụ"),
    BotCommand("hanchot", "Việc đến hạn: /hanchot 6/2025, quý III/2024, 01/7/2025"),
    BotCommand("baocao", "Chế độ báo cáo định kỳ: ai báo cáo gì, cho ai, hạn nào"),
    BotCommand("plans", "Các kế hoạch đã nạp"),
    BotCommand("kehoach", "Ghim kế hoạch cho cuộc trò chuyện: /kehoach 141/KH-UBND"),
    BotCommand("xuat", "Tệp Excel nhiệm vụ của một cơ quan: /xuat Sở Nội vụ"),
    BotCommand("vanban", "Kế hoạch nào thực hiện văn bản: /vanban 25-CT/TW"),
    BotCommand("nhacviec", "Bật/chỉnh nhắc việc cho cuộc trò chuyện này"),
    BotCommand("huynhac", "Tắt nhắc việc"),
    BotCommand("start", "Bắt đầu"),
]
ADMIN_COMMANDS = [
    *USER_COMMANDS,
    BotCommand("reindex", "Quản trị: đọc lại thư mục kế hoạch"),
    BotCommand("gopy", "Quản trị: góp ý 👍/👎 của người dùng"),
]

TOKEN_HELP = (
    "Chưa có token Telegram. Hãy đặt TELEGRAM_BOT_TOKEN=<token do @BotFather cấp> (trong .env "
    "hoặc biến môi trường); nếu dùng máy chủ Bot API riêng hay trình giả lập, đặt thêm "
    "TELEGRAM_API_BASE_URL (ví dụ http://127.0.0.1:8081/bot). Muốn thử ngay không cần token: "
    'planbot chat "Sở Nội vụ chịu trách nhiệm gì?"'
)


class AddressedToBot(filters.MessageFilter):
    """Group messages meant for the bot: they mention it or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        username = (bot.username or "").lower()
        for entity, text in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items():
            if (
                entity.type == MessageEntity.TEXT_MENTION
                and entity.user
                and entity.user.id == bot.id
            ):
                return True
            if username and text.lower() == "@" + username:
                return True
        return False


class Redactor:
    """Removes secrets (the bot token, the webhook secret) from any text, URL-quoted forms too."""

    def __init__(self, *secrets: str) -> None:
        forms: dict[str, str] = {}
        for secret, label in zip(secrets, ("<TELEGRAM_BOT_TOKEN>", "<PLANBOT_WEBHOOK_SECRET>"), strict=False):
            if secret:
                for form in {secret, quote(secret, safe=""), quote(secret)}:
                    forms[form] = label
        self.forms = sorted(forms.items(), key=lambda kv: -len(kv[0]))

    def __call__(self, text: str) -> str:
        for form, label in self.forms:
            text = text.replace(form, label)
        return text


class RedactingFormatter(logging.Formatter):
    """Formats with the handler's own formatter, then redacts the whole output: the message,
    the traceback attached to the record (exc_info) and the stack (stack_info)."""

    def __init__(self, inner: logging.Formatter | None, redact: Redactor) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter(logging.BASIC_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        text = self.redact(self.inner.format(record))
        if record.exc_text:  # cached by the inner formatter: never leave the secret on the record
            record.exc_text = self.redact(record.exc_text)
        return text


def redact_logging(redact: Redactor) -> None:
    """Every root handler redacts its output; uncaught exceptions (main thread, other threads)
    go through logging instead of straight to stderr."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter, redact))

    def log_uncaught(kind, value, tb) -> None:
        logging.getLogger("planbot").critical("uncaught exception", exc_info=(kind, value, tb))

    sys.excepthook = log_uncaught
    threading.excepthook = lambda args: log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def failure_line(exc: BaseException, redact: Redactor, base_url: str) -> str:
    """One line (Vietnamese, then English) for a failed start or a crash, without secrets."""
    if isinstance(exc, InvalidToken):
        text = (
            "Telegram từ chối token (TELEGRAM_BOT_TOKEN sai hoặc đã bị thu hồi) / "
            "the bot token was rejected (wrong or revoked TELEGRAM_BOT_TOKEN)."
        )
    elif isinstance(exc, NetworkError | httpx.HTTPError | OSError):
        server = base_url or "https://api.telegram.org"
        text = (
            f"Không kết nối được máy chủ Bot API {server} (kiểm tra TELEGRAM_API_BASE_URL và mạng) / "
            f"cannot reach the Bot API server: {type(exc).__name__}: {exc}"
        )
    else:
        text = f"Bot dừng vì lỗi / the bot stopped on an error: {type(exc).__name__}: {exc}"
    return redact(" ".join(text.split()))


def _http(pool_size: int) -> HTTPXRequest:
    """HTTPX with connection-level retries (the rate limiter handles RetryAfter)."""
    transport = httpx.AsyncHTTPTransport(
        retries=CONNECT_RETRIES, limits=httpx.Limits(max_connections=pool_size)
    )
    return HTTPXRequest(
        connection_pool_size=pool_size,
        connect_timeout=10.0,
        read_timeout=20.0,
        write_timeout=20.0,
        pool_timeout=5.0,
        httpx_kwargs={"transport": transport},
    )


def file_base_url(base_url: str) -> str | None:
    """Files URL of a Bot API server given its base URL (".../bot" → ".../file/bot")."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return None


def build_application(
    settings: BotSettings,
    kb: KnowledgeBase,
    store: Store,
    embedder: object | None,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], datetime] | None = None,
    overall_rate: float | None = None,
) -> Application:
    """The bot: defaults (Vietnam time, HTML), rate limiter, retries, handlers, error handler.

    `request` replaces the HTTP layer (the console chat passes an in-process one; no updater);
    `clock` is the reminders' clock (tests and dry runs: `reminders.jobs.clock_from`);
    `overall_rate` the messages per second the whole bot may send (default `settings.send_rate`,
    Telegram's ~30; 0: no limit, for load measurements of the bot itself)."""
    if overall_rate is None:
        overall_rate = settings.send_rate
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .defaults(
            Defaults(
                tzinfo=ZoneInfo(settings.timezone),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(AIORateLimiter(overall_max_rate=overall_rate, max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(register_commands)
    )
    if request is None:
        builder = builder.request(_http(64)).get_updates_request(_http(2))
    else:
        builder = builder.request(request).updater(None)
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url)
        files = file_base_url(settings.telegram_base_url)
        if files:
            builder = builder.base_file_url(files)
    application = builder.build()
    application.bot_data["deps"] = Deps(settings, kb, store, embedder)

    message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & message
    groups = filters.ChatType.GROUPS & message

    application.add_handler(CommandHandler(["start", "help"], lookups.start, filters=message))
    application.add_handler(CommandHandler("plans", lookups.plans, filters=message))
    application.add_handler(CommandHandler("nhiemvu", lookups.nhiemvu, filters=message))
    application.add_handler(CommandHandler("hanchot", lookups.hanchot, filters=message))
    application.add_handler(CommandHandler("baocao", lookups.baocao, filters=message))
    application.add_handler(CommandHandler("reindex", admin.reindex, filters=message))
    application.add_handler(CommandHandler("xuat", followthrough.xuat, filters=message))
    application.add_handler(CommandHandler("vanban", followthrough.vanban, filters=message))
    application.add_handler(CommandHandler("gopy", followthrough.gopy, filters=message))
    application.add_handler(CommandHandler("kehoach", plan_focus.kehoach, filters=message))
    application.add_handler(MessageHandler(private & filters.Document.ALL, admin.document))
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, questions.question)
    )
    application.add_handler(
        MessageHandler(
            groups & filters.TEXT & ~filters.COMMAND & AddressedToBot(), questions.question
        )
    )
    register_reminders(application, settings, store, clock)  # /nhacviec, /huynhac and their jobs
    for handler in reminder_handlers():
        application.add_handler(handler)
    application.add_handler(MessageHandler(private & filters.COMMAND, fallbacks.unknown_command))
    application.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.Document.ALL & ~filters.StatusUpdate.ALL,
            fallbacks.not_text,
        )
    )
    application.add_handler(CallbackQueryHandler(questions.page, pattern=r"^p:"))
    application.add_handler(CallbackQueryHandler(questions.source, pattern=r"^s:"))
    application.add_handler(CallbackQueryHandler(questions.feedback, pattern=r"^f:"))
    application.add_handler(CallbackQueryHandler(questions.pick, pattern=r"^a:"))
    application.add_handler(CallbackQueryHandler(questions.plan_pick, pattern=r"^k:"))
    application.add_handler(CallbackQueryHandler(plan_focus.pin_pick, pattern=r"^g:"))
    application.add_handler(CallbackQueryHandler(admin.upload_choice, pattern=r"^u:"))
    application.add_handler(CallbackQueryHandler(questions.noop, pattern=r"^noop$"))
    application.add_handler(CallbackQueryHandler(questions.unknown_button))  # last: anything else
    application.add_error_handler(fallbacks.on_error)
    return application


async def register_commands(application: Application) -> None:
    """Command menu: everyone's commands; admins also see /reindex in their own chat."""
    deps: Deps = application.bot_data["deps"]
    await application.bot.set_my_commands(USER_COMMANDS, scope=BotCommandScopeDefault())
    for admin_id in sorted(deps.settings.admin_ids):
        try:
            await application.bot.set_my_commands(
                ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
            )
        except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
            log.warning("could not set admin commands for chat %s: %s", admin_id, exc)


def run(settings: BotSettings, clock: Callable[[], datetime] | None = None) -> None:
    """`planbot run`: polling by default, a webhook when PLANBOT_WEBHOOK_URL is set."""
    if not settings.telegram_token:
        raise PlanbotError(TOKEN_HELP)
    if settings.webhook_url and not settings.webhook_secret:
        raise PlanbotError(
            "Chế độ webhook cần PLANBOT_WEBHOOK_SECRET (chuỗi bí mật 1–256 ký tự A-Z, a-z, 0-9, _ và -)."
        )
    # Bot API URLs contain the token: httpx logs every request URL at INFO, PTB its URLs at DEBUG,
    # and exceptions quote them. Every log line and traceback is redacted; a failure ends in one line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    redact = Redactor(settings.telegram_token, settings.webhook_secret)
    redact_logging(redact)
    try:
        _serve(settings, clock)
    except (KeyboardInterrupt, SystemExit, PlanbotError):
        raise
    except Exception as exc:
        log.debug("planbot run stopped", exc_info=True)  # redacted; shown with -v at DEBUG only
        raise PlanbotError(failure_line(exc, redact, settings.telegram_base_url)) from None


def warm_after_start(application: Application, embedder: object | None, delay: float = WARM_DELAY) -> None:
    """Load a lazy embedding model in the background once the bot has started: questions are
    answered meanwhile (structured ones never need it; a dense one waits for it in its thread)."""
    warm = getattr(embedder, "warm", None)
    if warm is None:
        return
    previous = application.post_init

    async def post_init(app: Application) -> None:
        if previous is not None:
            await previous(app)
        warm(delay)

    application.post_init = post_init


def _serve(settings: BotSettings, clock: Callable[[], datetime] | None) -> None:
    from encoders.lazy_model import lazy_embedder

    store = Store(settings.db_path)
    embedder = lazy_embedder(settings.model)  # loaded in the background after start
    kb = KnowledgeBase(store, embedder)
    # The plans' profiles (numbers, titles, abbreviations) are read before the first question needs them.
    threading.Thread(target=kb.catalog, name="plan-catalog", daemon=True).start()
    if not kb.plans():
        log.warning("no plans indexed yet: run `planbot index` or send /reindex as an admin")
    application = build_application(settings, kb, store, embedder, clock=clock)
    warm_after_start(application, embedder)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            # Several workers behind one URL (a reverse proxy, each worker on its own port): each
            # sets the same URL and secret at start-up, which is idempotent.
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
