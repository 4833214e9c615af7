"""The store on both engines (SQLite and PostgreSQL with pgvector): the same migrations, writes,
reminder outbox, feedback and chat state; BM25 scores equal to FTS5's; pgvector's HNSW search equal
to brute force; `planbot db copy` both ways, idempotent, refusing a newer schema."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from answering import ann
from bot.storage import chat_plans, note_last_plan, pin_plan
from indexer.feedback import record_vote, remember_answer
from indexer.indexing import index_paths
from knowledge.errors import PlanbotError
from knowledge.questions.answer import Answer
from planbot.cli import main
from reminders import storage
from reminders.model import everything
from reminders.render import OutMessage
from store.connection import transaction
from store.copy import copy
from store.database import Store
from store.migrations import MIGRATIONS
from store.writes import lexical_terms
from tests.conftest import SAMPLES

NOW = datetime(2025, 6, 24, 2, 0, tzinfo=UTC)
QUERIES = [
    "Sở Nội vụ chủ trì những nhiệm vụ gì?",
    "báo cáo trước 30/6/2025 gửi UBND tỉnh",
    "chuyển đổi số cải cách hành chính",
    "Bệnh viện Lão khoa",
    "hoàn thành trước 01/7/2025",
    "từ ngày 01/01/2021",  # a phrase repeating a token: "01 01 2021"  # "01/7/2025": a phrase of three tokens for FTS5, none in its vocabulary
]


def test_migrations_run_once_and_a_reindex_is_unchanged(empty_db):
    store = Store(empty_db)
    first = index_paths(store, [SAMPLES / "003_c46a33fedfcb2327.txt"])
    assert [r.status for r in first] == ["indexed"]
    again = Store(empty_db)
    applied = [
        r[0] for r in again.db.execute("SELECT name FROM _migrations ORDER BY name").fetchall()
    ]
    assert applied == sorted(m.__name__ for m in MIGRATIONS)
    assert [r.status for r in index_paths(again, [SAMPLES / "003_c46a33fedfcb2327.txt"])] == [
        "unchanged"
    ]
    items = again.item_count()
    assert (
        items > 10 and again.items([1]) and again.plans()[0]["file"] == "003_c46a33fedfcb2327.txt"
    )
    store.close()
    again.close()


def test_reminder_outbox_subscriptions_and_done_tasks(empty_db):
    store = Store(empty_db)
    db = store.db
    storage.save_subscription(
        db, everything(-100123456789012, NOW), NOW
    )  # a supergroup id: 64 bits
    storage.save_subscription(db, everything(-100123456789012, NOW), NOW)
    assert [s.chat_id for s in storage.active_subscriptions(db)] == [-100123456789012]
    with transaction(db):
        out = storage.enqueue(
            db,
            7,
            [OutMessage("a", [("Đã xong", "d:1")], ["k1", "k2"]), OutMessage("b", [], ["k2"])],
            NOW,
        )
    assert out[0].id > 0 and out[1].id == out[0].id + 1
    assert storage.sent_keys(db, 7) == {"k1", "k2"}
    assert [o.text for o in storage.pending_messages(db, 7)] == ["a", "b"]
    storage.mark_attempt(db, out[0].id)
    storage.mark_sent(db, out[0], NOW, 555)
    assert [o.text for o in storage.pending_messages(db, 7)] == ["b"]
    storage.mark_done(db, 7, "task-1", None, 1, NOW)
    storage.mark_done(db, 7, "task-1", None, 2, NOW)  # again: replaced, not doubled
    storage.mark_done(db, 8, "task-1", None, 1, NOW)
    storage.mark_done(db, 7, "task-2", None, 1, NOW)
    storage.move_chat(db, 7, 8, NOW)
    assert storage.done_keys(db, 8) == {"task-1", "task-2"}
    assert [o.chat_id for o in storage.pending_messages(db)] == [8]
    store.close()


def test_feedback_and_the_chat_s_plan(empty_db):
    store = Store(empty_db)
    db = store.db
    answer = Answer(
        question="Ai chủ trì?", intent="who", agency=None, answered=True, answer="Sở Nội vụ"
    )
    remember_answer(db, 5, "k", answer, NOW)
    remember_answer(db, 5, "k", answer, NOW)  # the same key again: replaced
    first = record_vote(db, chat_id=5, key="k", user_id=1, vote=1, now=NOW)
    second = record_vote(db, chat_id=5, key="k", user_id=2, vote=-1, now=NOW)
    assert first and second == first + 1
    assert record_vote(db, chat_id=5, key="missing", user_id=1, vote=1, now=NOW) is None
    pin_plan(db, 5, "a.txt")
    note_last_plan(db, 5, "b.txt", NOW)
    assert chat_plans(db, 5, NOW + timedelta(minutes=1), timedelta(minutes=30)) == (
        "a.txt",
        "b.txt",
    )
    assert chat_plans(db, 5, NOW + timedelta(hours=1), timedelta(minutes=30)) == ("a.txt", None)
    pin_plan(db, 5, None)
    assert chat_plans(db, 5, NOW, timedelta(minutes=30)) == (None, None)
    store.close()


@pytest.mark.postgres
def test_postgres_bm25_and_copy_both_ways(sample_db, pg_database, tmp_path):
    url = pg_database("copy")
    counted = copy(sample_db, url)
    assert all(c.source == c.target for c in counted) and {c.table for c in counted} >= {
        "items",
        "items_fts",
        "reminder_outbox",
    }
    again = copy(sample_db, url)  # idempotent: the same rows, no duplicates
    assert [(c.table, c.target) for c in again] == [(c.table, c.target) for c in counted]
    sqlite, postgres = Store(sample_db), Store(url)
    for question in QUERIES:
        terms = lexical_terms(question)
        assert postgres.document_frequencies(terms) == sqlite.document_frequencies(terms)
        assert postgres.lexical(terms, 20) == sqlite.lexical(terms, 20), (
            question
        )  # FTS5's scores, to the bit
        plans = frozenset({1, 3})
        assert [i for i, _ in postgres.lexical(terms, 10, plans)] == [
            i for i, _ in sqlite.lexical(terms, 10, plans)
        ]
    assert postgres.items(range(1, 60)) == sqlite.items(range(1, 60))
    assert postgres.reporting_rules(["Sở Nội vụ"]) == sqlite.reporting_rules(["Sở Nội vụ"])
    assert postgres.due_item_ids("2025-01-01", "2025-12-31") == sqlite.due_item_ids(
        "2025-01-01", "2025-12-31"
    )
    back = tmp_path / "back.db"
    result = CliRunner().invoke(main, ["db", "copy", "--from", url, "--to", str(back)])
    assert result.exit_code == 0, result.output
    assert "số dòng khớp từng bảng" in result.output
    returned = Store(back)
    assert [p["file"] for p in returned.plans()] == [p["file"] for p in sqlite.plans()]
    assert returned.items(range(1, 60)) == sqlite.items(range(1, 60))
    assert returned.lexical(lexical_terms(QUERIES[0]), 10) == sqlite.lexical(
        lexical_terms(QUERIES[0]), 10
    )
    for s in (sqlite, postgres, returned):
        s.close()


@pytest.mark.postgres
def test_copy_refuses_a_target_with_a_newer_schema(sample_db, pg_database):
    url = pg_database("newer")
    store = Store(url)
    store.db.execute(
        "INSERT INTO _migrations (name, applied_at) VALUES ('m999_from_the_future', '')"
    )
    store.close()
    with pytest.raises(PlanbotError, match="mới hơn"):
        copy(sample_db, url)


@pytest.mark.postgres
def test_pgvector_hnsw_search_equals_brute_force(sample_db, pg_database):
    url = pg_database("vectors")
    copy(sample_db, url)
    store = Store(url)
    rng = np.random.default_rng(7)
    hashes = [
        r[0]
        for r in store.db.execute("SELECT DISTINCT content_hash FROM items ORDER BY 1").fetchall()
    ]
    vectors = rng.normal(size=(len(hashes), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.save_vectors("m", list(zip(hashes, vectors, strict=True)))
    with store.reading():
        ids, matrix = store.vectors("m")
    assert len(ids) == store.item_count() and matrix.shape[1] == 384
    for query in rng.normal(size=(10, 384)).astype(np.float32):
        query /= np.linalg.norm(query)
        expected = ann.brute_force(matrix, ids, query, 20)
        found = store.nearest("m", query, 20)
        sims = dict(zip(ids.tolist(), (matrix @ query).tolist(), strict=True))
        assert [round(sims[i], 5) for i in found] == [round(sims[i], 5) for i in expected]
    store.close()


@pytest.mark.postgres
def test_pgvector_bulk_load_builds_the_graph_once_and_keeps_every_vector(sample_db, pg_database, monkeypatch):
    from store import vectors_pg

    monkeypatch.setattr(vectors_pg, "BULK_MIN_VECTORS", 50)
    monkeypatch.setattr(vectors_pg, "BULK_SHARE", 0.01)
    url = pg_database("bulk")
    copy(sample_db, url)
    store = Store(url)
    rng = np.random.default_rng(11)
    hashes = [
        r[0]
        for r in store.db.execute("SELECT DISTINCT content_hash FROM items ORDER BY 1").fetchall()
    ]
    vectors = rng.normal(size=(len(hashes), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    pairs = list(zip(hashes, vectors, strict=True))
    store.save_vectors("m", pairs[:10])  # a single upload: the graph kept, row by row
    hnsw = "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_embeddings_hnsw_384'"
    assert store.db.execute(hnsw).fetchone()[0] == 1
    with store.bulk_load() as bulk:
        for at in range(10, len(pairs), 40):
            store.save_vectors("m", pairs[at : at + 40] + pairs[at : at + 1])  # a hash twice
        assert bulk.dropped and store.db.execute(hnsw).fetchone()[0] == 0
    assert store.db.execute(hnsw).fetchone()[0] == 1
    with store.reading():
        ids, matrix = store.vectors("m")
    stored = dict(zip(ids.tolist(), matrix, strict=True))
    by_hash = dict(store.db.execute("SELECT content_hash, id FROM items").fetchall())
    for h, v in pairs:
        assert np.array_equal(stored[by_hash[h]], v)  # float32 values exactly
    for query in rng.normal(size=(5, 384)).astype(np.float32):
        query /= np.linalg.norm(query)
        expected = ann.brute_force(matrix, ids, query, 20)
        sims = dict(zip(ids.tolist(), (matrix @ query).tolist(), strict=True))
        found = store.nearest("m", query, 20)
        assert [round(sims[i], 5) for i in found] == [round(sims[i], 5) for i in expected]
    store.close()


@pytest.mark.postgres
def test_postgres_reading_sees_one_snapshot_while_a_plan_is_replaced(sample_db, pg_database):
    url = pg_database("snapshot")
    copy(sample_db, url)
    reader, writer = Store(url), Store(url)
    with reader.reading():
        before = reader.item_count()
        generation = reader.data_version()
        done = threading.Event()

        def replace() -> None:
            writer.db.execute("UPDATE index_state SET generation = generation + 1")
            writer.db.execute("DELETE FROM reporting_rules")
            done.set()

        threading.Thread(target=replace).start()
        assert done.wait(10)
        assert reader.data_version() == generation and reader.item_count() == before
        assert reader.reporting_rules()  # still there in this snapshot
    assert reader.data_version() == generation + 1 and not reader.reporting_rules()
    reader.close()
    writer.close()


def test_grouped_writes_commit_once_and_a_failed_transaction_leaves_nothing(empty_db):
    store, other = Store(empty_db), Store(empty_db)
    db = store.db
    with db.conn:
        with db.conn:  # nested: joins the outer block
            db.execute("INSERT INTO chat_plan (chat_id, pinned) VALUES (?, ?)", [1, "a"])
        db.execute("INSERT INTO chat_plan (chat_id, pinned) VALUES (?, ?)", [2, "b"])
    assert not db.conn.in_transaction
    assert other.db.execute("SELECT count(*) FROM chat_plan").fetchone()[0] == 2
    with pytest.raises(ZeroDivisionError), transaction(db):
        db.execute("INSERT INTO chat_plan (chat_id, pinned) VALUES (?, ?)", [3, "c"])
        1 / 0  # noqa: B018
    assert other.db.execute("SELECT count(*) FROM chat_plan").fetchone()[0] == 2
    store.close()
    other.close()
