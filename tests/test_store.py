"""Store and loaders: idempotent, atomic reindexing; bad input changes nothing."""

from __future__ import annotations

import shutil
import time

import pytest
from docx import Document

from indexer.indexing import index_paths, index_text, index_upload
from indexer.loaders import read_plan_bytes
from knowledge.errors import PlanbotError
from store.database import Store
from tests.conftest import SAMPLES, cp1258_bytes
from tests.pdfs import text_pdf


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def counts(store):
    return {
        t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("plans", "items", "assignments", "deadlines", "reporting_rules", "items_fts")
    }


def test_migrations_are_numbered_and_run_once(store, tmp_path):
    names = [r[0] for r in store.db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names[0] == "m001_initial"
    again = Store(tmp_path / "t.db")
    assert [r[0] for r in again.db.execute("SELECT name FROM _migrations ORDER BY name")] == names


def schema(db) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def test_a_database_of_an_older_schema_migrates_to_the_current_one(tmp_path):
    """A database last opened by an older planbot (migrations m001–m005 only, a plan stored
    twice under NFD and NFC names) is brought up to date when the store opens it: the same schema
    as a new database, the NFD copy dropped with its rows, the other NFD name normalised."""
    import unicodedata

    from store.connection import connect, transaction
    from store.migrations import MIGRATIONS

    old = connect(tmp_path / "old.db")
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for migration in MIGRATIONS[:5]:
        with transaction(old):
            migration(old)
            old.execute("INSERT INTO _migrations VALUES (?, '2025-01-01T00:00:00+00:00')", [migration.__name__])
    nfd = unicodedata.normalize("NFD", "Kế hoạch.txt")
    for plan_id, file in enumerate([nfd, unicodedata.normalize("NFC", nfd), unicodedata.normalize("NFD", "Đề án.txt")], 1):
        old.execute("INSERT INTO plans (id, file, content_hash, parser_version) VALUES (?, ?, 'h', '6')", [plan_id, file])
        old.execute("INSERT INTO items (plan_id, kind, text, search_text, content_hash) VALUES (?, 'task', 't', 's', 'c')", [plan_id])
    old.conn.commit()
    old.conn.close()

    migrated, fresh = Store(tmp_path / "old.db"), Store(tmp_path / "new.db")
    names = [m.__name__ for m in MIGRATIONS]
    assert [r[0] for r in migrated.db.execute("SELECT name FROM _migrations ORDER BY rowid")] == names
    assert schema(migrated.db) == schema(fresh.db)
    assert migrated.db.execute("SELECT id, file FROM plans ORDER BY id").fetchall() == [(2, "Kế hoạch.txt"), (3, "Đề án.txt")]
    assert [r[0] for r in migrated.db.execute("SELECT plan_id FROM items ORDER BY plan_id")] == [2, 3]
    assert migrated.data_version() == 0 and migrated.registry().entry("Sở Y tế") is not None
    assert [r.status for r in index_paths(migrated, [SAMPLES])] == ["indexed"] * 5
    migrated.close()
    fresh.close()


def test_the_store_s_parts_are_imported_from_the_module_that_holds_them():
    """`store.database` is `Store` only (no re-exports): each name lives in one module."""
    import store.connection
    import store.database
    import store.migrations
    import store.writes

    homes = {
        store.database: ("Store", "open_db"),
        store.connection: ("transaction", "connect"),
        store.migrations: ("migrate", "MIGRATIONS"),
        store.writes: ("IndexReport", "file_hash", "content_hash", "lexical_terms", "search_text_for_task",
                              "search_text_for_clause", "PARSER_VERSION", "LOADER_VERSION"),
    }
    for module, names in homes.items():
        for name in names:
            assert getattr(getattr(module, name), "__module__", module.__name__) == module.__name__, name
    assert not hasattr(store.database, "__all__") and not hasattr(store.database, "lexical_terms")


def test_reindexing_unchanged_corpus_is_idempotent_and_fast(store):
    first = index_paths(store, [SAMPLES])
    assert [r.status for r in first] == ["indexed"] * 5
    before = counts(store)
    started = time.perf_counter()
    second = index_paths(store, [SAMPLES])
    elapsed = time.perf_counter() - started
    assert [r.status for r in second] == ["unchanged"] * 5
    assert counts(store) == before
    assert elapsed < 1.0, elapsed


def test_changed_plan_is_replaced_keeping_its_id(store, tmp_path):
    folder = tmp_path / "plans"
    shutil.copytree(SAMPLES, folder)
    index_paths(store, [folder])
    plan_id = store.plan_row("004_59a1719852ce6b3c.txt")["id"]
    path = folder / "004_59a1719852ce6b3c.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("2027", "2029"), encoding="utf-8")
    (report,) = [r for r in index_paths(store, [folder]) if r.status == "indexed"]
    assert report.plan_id == plan_id
    texts = [r[0] for r in store.db.execute("SELECT text FROM deadlines WHERE plan_id = ?", [plan_id])]
    assert "2029" in texts and "2027" not in texts


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "rỗng"),
        ("blank.md", b"   \n\n", "rỗng"),
        ("binary.txt", bytes(range(256)) * 4, "nhị phân"),
        ("latin.txt", "Kế hoạch €‰ ¤¦§".encode("cp1252", errors="ignore") + b"\x81\x8d\x8f", "UTF-8"),
        ("plan.exe", b"MZ\x90\x00", "Không hỗ trợ"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "không phải .docx"),
        ("broken.pdf", b"%PDF-1.4 garbage", "PDF"),
    ],
)
def test_bad_input_gives_one_clear_error_and_leaves_the_index_unchanged(store, name, data, message):
    index_paths(store, [SAMPLES])
    before = counts(store)
    with pytest.raises(PlanbotError) as info:
        index_upload(store, name, data)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert counts(store) == before


def test_parse_failure_inside_a_folder_is_reported_and_others_index(store, tmp_path):
    (tmp_path / "good.txt").write_text((SAMPLES / "003_c46a33fedfcb2327.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02")
    reports = {r.file: r for r in index_paths(store, [tmp_path])}
    assert reports["bad.txt"].status == "failed" and "nhị phân" in reports["bad.txt"].error
    assert reports["good.txt"].status == "indexed"


def test_legacy_vietnamese_encoding_is_detected():
    text = "KẾ HOẠCH\n\nI. TỔ CHỨC THỰC HIỆN\n\n1. Sở Y tế chủ trì, phối hợp với Sở Nội vụ triển khai kế hoạch."
    data = cp1258_bytes(text)
    document = read_plan_bytes("old.txt", data)
    decoded, warnings = document.plain_text(), document.warnings
    assert decoded == text  # NFC on the way in
    assert "Windows-1258" in warnings[0]


def test_plan_without_tables_indexes_with_a_warning(store):
    text = "KẾ HOẠCH\n\nThử nghiệm\n\nI. TỔ CHỨC THỰC HIỆN\n\n1. Sở Nội vụ: Thẩm định hồ sơ trước ngày 30/6/2026.\n"
    report = index_upload(store, "no_table.txt", text.encode())
    assert report.status == "indexed"
    assert report.summary["tasks"] == 0
    assert any("bảng nhiệm vụ" in w for w in report.summary["warnings"])
    rows = store.assignment_item_ids("Sở Nội vụ")
    assert len(rows) == 1


def test_docx_table_cells_arrive_whole(store, tmp_path):
    doc = Document()
    doc.add_paragraph("KẾ HOẠCH")
    doc.add_paragraph("Thử nghiệm bảng docx")
    doc.add_paragraph("I. NHIỆM VỤ")
    doc.add_paragraph("1. Triển khai")
    doc.add_paragraph("Phụ lục")
    table = doc.add_table(rows=3, cols=5)
    header = ["TT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]
    rows = [
        ["1", "Rà soát hệ thống y tế cơ sở\ntrên địa bàn", "Sở Y tế", "Sở Nội vụ, Sở Tài chính", "Trước ngày 01/7/2025"],
        ["2", "Bố trí kinh phí", "Sở Tài chính", "Sở Y tế", "Hàng năm"],
    ]
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    path = tmp_path / "plan.docx"
    doc.save(path)
    report = index_upload(store, "plan.docx", path.read_bytes())
    assert report.summary["tasks"] == 2
    row = store.db.execute("SELECT text, lead_text, support_text FROM items WHERE kind = 'task' ORDER BY ordinal").fetchone()
    assert row == ("Rà soát hệ thống y tế cơ sở trên địa bàn", "Sở Y tế", "Sở Nội vụ, Sở Tài chính")


def test_store_is_safe_to_share_between_threads(sample_db):
    """The bot answers in worker threads while the event loop uses the same store (smoke test;
    the load benchmark through the emulator is what exposed interleaved savepoints)."""
    from concurrent.futures import ThreadPoolExecutor

    from answering.knowledge_base import KnowledgeBase

    store = Store(sample_db)
    kb = KnowledgeBase(store)
    questions = ["Sở Nội vụ chịu trách nhiệm gì?", "Nhiệm vụ nào phải xong trước 01/7/2025?", "Báo cáo định kỳ gửi khi nào?"]


    def work(i: int) -> bool:
        for _ in range(30):
            store.plans()  # sqlite-utils query(): a savepoint per call
        return kb.ask(questions[i % 3]).answered

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(work, range(32)))
    assert all(answers)
    store.close()


def test_pdf_with_a_text_layer_is_read_into_the_same_model(store):
    data = text_pdf(["KE HOACH", "Trien khai thu nghiem", "I. TO CHUC THUC HIEN", "1. So Noi vu: Tham dinh ho so truoc ngay 30/6/2026."])
    report = index_upload(store, "plan.pdf", data)
    assert report.status == "indexed"
    item_ids = store.assignment_item_ids("Sở Nội vụ")  # found without diacritics
    assert [role for _, role in item_ids] == ["lead"]
    row = store.db.execute("SELECT citation FROM items WHERE id = ?", [item_ids[0][0]]).fetchone()
    assert row == ("I.1",)


def test_pdf_without_text_layer_is_refused(store):
    with pytest.raises(PlanbotError, match="lớp văn bản"):
        index_upload(store, "scan.pdf", text_pdf([]))


def test_a_reindex_is_one_commit_seen_whole_by_other_connections(sample_db_copy):
    """Mid-way through replacing a plan, another connection still sees the old generation and
    the old rows (sqlite-utils commits a lone write statement by itself unless a transaction
    is open: the generation bump must not be committed before the rows)."""
    writer, reader = Store(sample_db_copy), Store(sample_db_copy)
    file, text = writer.db.execute("SELECT file, text FROM plans ORDER BY id LIMIT 1").fetchone()
    before = (reader.data_version(), reader.item_count())
    seen = []

    def look_from_outside(sql: str) -> None:
        if sql.lstrip().startswith("INSERT INTO items") and not seen:
            seen.append((reader.data_version(), reader.item_count()))

    writer.db.conn.set_trace_callback(look_from_outside)
    try:
        index_text(writer, file, text, force=True)
    finally:
        writer.db.conn.set_trace_callback(None)
    assert seen == [before]
    assert reader.data_version() == before[0] + 1 and reader.item_count() == before[1]


def test_vectors_are_read_chunk_by_chunk_into_one_matrix_in_row_order(sample_db_copy, monkeypatch):
    import numpy as np

    from store import reads as store_read

    store = Store(sample_db_copy)
    rows = store.db.execute("SELECT id, content_hash FROM items ORDER BY id LIMIT 10").fetchall()
    expected = np.arange(len(rows) * 4, dtype=np.float32).reshape(len(rows), 4)
    with store.db.conn:
        store.db.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (content_hash, model, vector) VALUES (?, 'm', ?)",
            [(h, v.astype("<f4").tobytes()) for (_, h), v in zip(rows, expected, strict=True)],
        )
    monkeypatch.setattr(store_read, "_VECTOR_CHUNK", 3)  # 10 rows: chunks of 3, 3, 3, 1
    with store.reading():
        ids, matrix = store.vectors("m")
        empty_ids, empty = store.vectors("no such model")
    by_id = dict(zip(ids.tolist(), matrix.tolist(), strict=True))
    assert matrix.dtype == np.float32 and matrix.shape == (len(rows), 4)
    assert by_id == {i: v.tolist() for (i, _), v in zip(rows, expected, strict=True)}
    assert empty_ids.shape == (0,) and empty.shape == (0, 0)


def test_migrations_are_numbered_without_gaps():
    from store.migrations import MIGRATIONS

    numbers = [int(m.__name__[1:4]) for m in MIGRATIONS]
    assert numbers == list(range(1, len(MIGRATIONS) + 1))


def test_a_database_that_recorded_the_old_migration_names_runs_none_of_them_again(tmp_path):
    """Before the renumbering, m008 was never used and later migrations were recorded as
    m009…m012 (`RENAMED`): such a database is up to date, nothing runs twice, nothing is renamed."""
    from store.connection import connect, transaction
    from store.migrations import MIGRATIONS, RENAMED, migrate

    old_name = {new: old for old, new in RENAMED.items()}
    old = connect(tmp_path / "old.db")
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for migration in MIGRATIONS:
        with transaction(old):
            migration(old)
            name = old_name.get(migration.__name__, migration.__name__)
            old.execute("INSERT INTO _migrations VALUES (?, '2025-01-01T00:00:00+00:00')", [name])
    recorded = old.execute("SELECT name FROM _migrations ORDER BY name").fetchall()
    assert ("m012_chat_plan",) in recorded and ("m008_plan_source",) not in recorded
    assert migrate(old) == []
    assert old.execute("SELECT name FROM _migrations ORDER BY name").fetchall() == recorded
    old.close()
    fresh = Store(tmp_path / "new.db")
    assert schema(Store(tmp_path / "old.db").db) == schema(fresh.db)
    fresh.close()
