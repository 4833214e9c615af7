"""The bot's own settings are read with the rest, and only the bot holds them."""

from __future__ import annotations

from dataclasses import fields

from bot.settings import BotSettings, load_bot_settings
from indexer.settings import Settings, load_settings

ENV = {
    "PLANBOT_DB": "/srv/planbot/p.db",
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
    "PLANBOT_ADMIN_IDS": "42; -7, x",
    "PLANBOT_WEBHOOK_URL": "https://bot.example.vn/hook",
    "PLANBOT_WEBHOOK_SECRET": "s3cret",
    "PLANBOT_WEBHOOK_PORT": "9443",
}


def test_the_bot_settings_are_the_settings_plus_the_bot_s_own():
    settings = load_bot_settings(ENV, dotenv=False)
    assert isinstance(settings, Settings) and str(settings.db_path) == "/srv/planbot/p.db"
    assert settings.telegram_token == "123:abc" and settings.admin_ids == frozenset({42, -7})
    assert settings.telegram_base_url == "http://127.0.0.1:8081/bot"
    assert (settings.webhook_url, settings.webhook_secret, settings.webhook_port) == (
        "https://bot.example.vn/hook",
        "s3cret",
        9443,
    )
    assert settings.webhook_listen == "127.0.0.1"
    assert "123:abc" not in repr(settings) and "s3cret" not in repr(settings)
    core = load_settings(ENV, dotenv=False)
    assert {f.name: getattr(core, f.name) for f in fields(core)} == {
        f.name: getattr(settings, f.name) for f in fields(Settings)
    }


def test_the_indexer_s_settings_hold_no_secret():
    names = {f.name for f in fields(Settings)}
    own = {f.name for f in fields(BotSettings)} - names
    assert {"telegram_token", "webhook_secret", "admin_ids", "webhook_url"} <= own
    assert not {"telegram_token", "webhook_secret", "admin_ids"} & names
