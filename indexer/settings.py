"""Settings, read once from the environment (and `.env`), passed inward as plain values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer.loaders.limits import Limits, limits_from_env
from store.connection import db_location

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_path: Path | str  # a SQLite file, or a postgresql:// URL
    plans_dir: Path
    model: str  # hub name or local folder of a sentence-transformers model
    encoder: str = "onnx"  # "onnx" (default) or "torch" (encoders.embedder.choose_encoder)
    max_upload_bytes: int = 20 * 1024 * 1024
    timezone: str = TIMEZONE
    report_day: int = 10
    reminder_days_before: tuple[int, ...] = (3, 1)
    task_days_before: tuple[int, ...] = (7, 1)
    reminder_time: str = "08:00"
    quiet_start: str = "07:30"
    quiet_end: str = "17:30"
    misfire_grace_seconds: int = 3600
    send_rate: float = 30.0  # messages/s the whole bot may send (Telegram's ~30); 0: no limit
    chat_focus_minutes: int = 120  # how long a chat's last answer's plan stays "kế hoạch này"
    limits: Limits = field(default_factory=Limits)  # what reading one plan file may cost


def _rate(value: str, default: float = 30.0) -> float:
    try:
        rate = float(value)
    except ValueError:
        return default
    return rate if rate >= 0 else default


def _minutes(value: str, default: int) -> int:
    return int(value) if value.strip().isdigit() else default


def _days(value: str, default: tuple[int, ...]) -> tuple[int, ...]:
    parts = [p.strip() for p in value.split(",") if p.strip().isdigit()]
    return tuple(sorted({int(p) for p in parts}, reverse=True)) or default


def load_settings(env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
    """Build settings from `env` (default: os.environ, after loading `.env` if present)."""
    if env is None:
        if dotenv:
            try:
                from dotenv import load_dotenv

                load_dotenv(PROJECT_ROOT / ".env", override=False)
                load_dotenv(override=False)
            except ImportError:  # pragma: no cover - python-dotenv is a dependency
                pass
        env = dict(os.environ)
    data_dir = Path(env.get("PLANBOT_DATA_DIR") or PROJECT_ROOT / "data")
    db_path = db_location(env.get("PLANBOT_DB") or data_dir / "planbot.db")
    model = env.get("PLANBOT_MODEL") or str(data_dir / "models" / "multilingual-e5-small")
    return Settings(
        data_dir=data_dir,
        db_path=db_path,
        plans_dir=Path(env.get("PLANBOT_PLANS_DIR") or PROJECT_ROOT / "sample_plans"),
        model=model,
        encoder=(env.get("PLANBOT_ENCODER") or "onnx").strip().lower(),
        max_upload_bytes=int(float(env.get("PLANBOT_MAX_UPLOAD_MB", "20")) * 1024 * 1024),
        report_day=int(env.get("PLANBOT_REPORT_DAY", "10")),
        reminder_days_before=_days(env.get("PLANBOT_REMINDER_DAYS", ""), (3, 1)),
        task_days_before=_days(env.get("PLANBOT_TASK_REMINDER_DAYS", ""), (7, 1)),
        reminder_time=env.get("PLANBOT_REMINDER_TIME", "08:00"),
        quiet_start=env.get("PLANBOT_QUIET_START", "07:30"),
        quiet_end=env.get("PLANBOT_QUIET_END", "17:30"),
        misfire_grace_seconds=int(env.get("PLANBOT_MISFIRE_GRACE", "3600")),
        send_rate=_rate(env.get("PLANBOT_SEND_RATE", "")),
        chat_focus_minutes=_minutes(env.get("PLANBOT_CHAT_FOCUS_MINUTES", ""), 120),
        limits=limits_from_env(env),
    )
