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


# -- the same tests on PostgreSQL ---------------------------------------------------------------
# A local server (the pgserver wheel, `store.pgserve`) is started once per session in a temporary
# directory and stopped at exit; each fixture below gets a database of its own. Without pgserver
# (or with PLANBOT_TEST_POSTGRES=0) the PostgreSQL variants skip.
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_server():
    """The admin URL of a PostgreSQL server with pgvector, started for this session."""
    import atexit
    import os
    import shutil
    import tempfile

    if os.environ.get("PLANBOT_TEST_POSTGRES") == "0":
        pytest.skip("PLANBOT_TEST_POSTGRES=0")
    try:
        import pgserver  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("pgserver/psycopg not installed")
    from store.pgserve import start, stop

    folder = Path(tempfile.mkdtemp(prefix="planbot-pg-"))
    folder.chmod(0o755)  # the server runs as its own user when the tests run as root
    session = os.getpid()

    def remove() -> None:  # runs after pgserver's own clean-up; again, in case that one did not
        if os.getpid() == session:  # not in a forked child
            stop(folder / "data")
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return start(folder / "data", "postgres", at_exit="delete")


_pg_count = iter(range(1_000_000))


@pytest.fixture
def pg_database(pg_server):
    """A function making a new empty database (with pgvector) on the session's server: its URL."""
    from store.pgserve import create_database

    def make(name: str = "t") -> str:
        database = f"{name}_{next(_pg_count)}"
        create_database(pg_server, database)
        return pg_server.replace("/postgres?", f"/{database}?", 1)

    return make


@pytest.fixture(params=ENGINES)
def empty_db(request, tmp_path) -> Path | str:
    """Where a new store goes: a SQLite file, or a new PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "planbot.db"
    return request.getfixturevalue("pg_database")("empty")


@pytest.fixture(scope="session", params=ENGINES)
def indexed_db(request, tmp_path_factory) -> Path | str:
    """The sample plans indexed on each engine (the SQLite one is `sample_db`)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sample_db")
    from store.pgserve import create_database

    server = request.getfixturevalue("pg_server")
    create_database(server, "samples")
    url = server.replace("/postgres?", "/samples?", 1)
    store = Store(url)
    reports = index_paths(store, [SAMPLES])
    assert all(r.status == "indexed" for r in reports), [r.error for r in reports]
    store.close()
    return url


@pytest.fixture(scope="session")
def indexed_kb(indexed_db) -> KnowledgeBase:
    return KnowledgeBase(Store(indexed_db), embedder=None)


@pytest.fixture(params=ENGINES)
def sample_db_any(request, sample_db, tmp_path) -> Path | str:
    """A private copy of the indexed samples on each engine (`sample_db_copy`, or a PostgreSQL
    database filled by `planbot db copy`), for tests that write into it."""
    if request.param == "sqlite":
        return request.getfixturevalue("sample_db_copy")
    from store.copy import copy

    url = request.getfixturevalue("pg_database")("samples_copy")
    copy(sample_db, url)
    return url
