"""The bot's own settings: the Telegram token and Bot API server, the bot's administrators and
the webhook. Read once at the edge, with the rest (`indexer.settings`), passed in as values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from indexer.settings import Settings, load_settings


def _ids(value: str) -> frozenset[int]:
    out = set()
    for part in value.replace(";", ",").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            out.add(int(part))
    return frozenset(out)


@dataclass(frozen=True)
class BotSettings(Settings):
    """Everything `Settings` holds, and what only the bot needs."""

    telegram_token: str = field(default="", repr=False)
    telegram_base_url: str = ""
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    worker_id: str = ""  # this process's name in reminder claims; "" = host[:webhook port]
    reminder_lease_seconds: float = 600.0  # a reminder claim lapses after this (worker dead)


def load_bot_settings(env: dict[str, str] | None = None, dotenv: bool = True) -> BotSettings:
    """`load_settings` (from `env`, default os.environ after `.env`) plus the bot's own."""
    core = load_settings(env, dotenv)
    if env is None:
        env = dict(os.environ)  # `.env` is loaded by now
    return BotSettings(
        **{f.name: getattr(core, f.name) for f in fields(core)},
        telegram_token=env.get("TELEGRAM_BOT_TOKEN", ""),
        telegram_base_url=env.get("TELEGRAM_API_BASE_URL", ""),
        admin_ids=_ids(env.get("PLANBOT_ADMIN_IDS", "")),
        webhook_url=env.get("PLANBOT_WEBHOOK_URL", ""),
        webhook_secret=env.get("PLANBOT_WEBHOOK_SECRET", ""),
        webhook_listen=env.get("PLANBOT_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(env.get("PLANBOT_WEBHOOK_PORT", "8443")),
        worker_id=env.get("PLANBOT_WORKER_ID", "").strip(),
        reminder_lease_seconds=float(env.get("PLANBOT_REMINDER_LEASE_SECONDS", "600")),
    )
