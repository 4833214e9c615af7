"""Shared fixtures: the bundled sample plans indexed once into a temporary database."""

from __future__ import annotations

import sqlite3
import unicodedata
from pathlib import Path

import pytest

from answering.knowledge_base import KnowledgeBase
from indexer.indexing import index_paths
from store.database import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_plans"


def cp1258_bytes(text: str) -> bytes:
    """`text` as a legacy Windows-1258 file: vowels with â/ê/ô/ơ/ư/ă precomposed, tone marks
    combining after them."""
    out: list[str] = []
    base, modifiers, tones = "", "", ""
    for ch in unicodedata.normalize("NFD", text) + "\x00":
        if unicodedata.combining(ch):
            if ch in "\u0302\u0306\u031b":
                modifiers += ch
            else:
                tones += ch
            continue
        out.append(unicodedata.normalize("NFC", base + modifiers) + tones)
        base, modifiers, tones = ch, "", ""
    return "".join(out).encode("cp1258")
SEED = Path(__file__).resolve().parent / "data" / "seed_questions.jsonl"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("db") / "planbot.db"
    store = Store(path)
    reports = index_paths(store, [SAMPLES])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    store.close()
    return path


@pytest.fixture
def sample_db_copy(sample_db, tmp_path) -> Path:
    """A private copy of the indexed sample database, for tests that write into it."""
    target = tmp_path / "planbot.db"
    src, dst = sqlite3.connect(sample_db), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


@pytest.fixture(scope="session")
def kb(sample_db) -> KnowledgeBase:
    return KnowledgeBase(Store(sample_db), embedder=None)


@pytest.fixture
def plan_text():
    def read(prefix: str) -> str:
        return next(SAMPLES.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")

    return read
