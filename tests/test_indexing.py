"""Indexing pipeline: plan identity (relative path, NFC), unchanged files cost a hash, bad files
leave the index byte-identical, a real scan's duties are found."""

from __future__ import annotations

import shutil
import time
import unicodedata
from pathlib import Path

import pytest

from indexer.indexing import index_paths, index_text, index_upload, preview_upload
from indexer.loaders.ocr import available as ocr_problem
from store.database import Store
from tests.pdfs import blank_pdf

DATA = Path(__file__).parent / "data"
PLAN = DATA / "corpus" / "310-KH-UBND_31786b08.txt"
SCAN = DATA / "formats" / "real_996-KH-TCTLNTW-C04.scan.pdf"


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "t.db")
    yield s
    s.close()


def snapshot(store: Store) -> dict:
    return {
        t: store.db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
        for t in ("plans", "items", "assignments", "deadlines", "sections", "reporting_rules")
    }


def test_same_name_in_two_folders_gives_two_plans(store, tmp_path):
    root = tmp_path / "plans"
    for folder, text in (("a", PLAN.read_text(encoding="utf-8")), ("b", PLAN.read_text(encoding="utf-8").replace("2030", "2035"))):
        (root / folder).mkdir(parents=True)
        (root / folder / "ke-hoach.txt").write_text(text, encoding="utf-8")
    reports = index_paths(store, [root])
    assert sorted(r.file for r in reports) == ["a/ke-hoach.txt", "b/ke-hoach.txt"]
    assert [p["file"] for p in store.plans()] == ["a/ke-hoach.txt", "b/ke-hoach.txt"]


def test_a_different_document_under_a_taken_name_is_not_replaced_silently(store, tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        shutil.copy(PLAN, tmp_path / folder / "plan.txt")
    other = PLAN.read_text(encoding="utf-8").replace("Số: 310/KH-UBND", "Số: 999/KH-UBND", 1)
    (tmp_path / "y" / "plan.txt").write_text(other, encoding="utf-8")
    (first,) = index_paths(store, [tmp_path / "x" / "plan.txt"])
    (second,) = index_paths(store, [tmp_path / "y" / "plan.txt"])
    assert (first.file, second.file) == ("plan.txt", "y/plan.txt")
    assert any("khác tên" in w for w in second.summary["warnings"])
    assert sorted(p["number"] for p in store.plans()) == ["310/KH-UBND", "999/KH-UBND"]
    # The same file again, from another root, updates its own plan.
    (again,) = index_paths(store, [tmp_path / "y"])
    assert again.file == "y/plan.txt" and again.status == "unchanged"
    assert len(store.plans()) == 2


def test_a_new_version_of_the_same_document_from_another_folder_replaces_it(store, tmp_path):
    """Version B of a plan (same number and issuer, one more clause) kept in another folder: indexing
    it replaces version A, saying which file it replaced; indexing A again brings A back."""
    old, new = tmp_path / "A", tmp_path / "B"
    for folder in (old, new):
        folder.mkdir()
    shutil.copy(PLAN, old / "plan.txt")
    text = PLAN.read_text(encoding="utf-8")
    assert "\n**II. MỤC TIÊU**" in text
    (new / "plan.txt").write_text(text.replace("\n**II. MỤC TIÊU**", "\n- Sở Nội vụ chủ trì rà soát, xong trước 15/12/2026.\n\n**II. MỤC TIÊU**", 1), encoding="utf-8")
    (a,) = index_paths(store, [old])
    items_a = store.db.execute("SELECT count(*) FROM items").fetchone()[0]
    (b,) = index_paths(store, [new])
    assert b.file == a.file == "plan.txt" and b.plan_id == a.plan_id
    assert any("thay bản trước" in w and str(old / "plan.txt") in w for w in b.summary["warnings"])
    assert len(store.plans()) == 1
    assert store.db.execute("SELECT count(*) FROM items").fetchone()[0] == items_a + 1
    (back,) = index_paths(store, [old])
    assert back.status == "indexed" and len(store.plans()) == 1
    assert store.db.execute("SELECT count(*) FROM items").fetchone()[0] == items_a


def test_nfc_and_nfd_spellings_are_one_plan(store, tmp_path):
    name = "Kế hoạch số 310.txt"
    nfd = tmp_path / "nfd"
    nfd.mkdir()
    (nfd / unicodedata.normalize("NFD", name)).write_bytes(PLAN.read_bytes())
    (report,) = index_paths(store, [nfd])
    assert report.file == unicodedata.normalize("NFC", name)
    upload = index_upload(store, unicodedata.normalize("NFC", name), PLAN.read_bytes())
    assert upload.plan_id == report.plan_id
    assert len(store.plans()) == 1
    assert preview_upload(unicodedata.normalize("NFD", name), PLAN.read_bytes(), store)["replaces"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.txt", b""),
        ("binary.txt", bytes(range(256)) * 8),
        ("broken.docx", b"PK\x03\x04 broken"),
        ("broken.pdf", b"%PDF-1.4 garbage"),
        ("odd.txt", b"\xff\xfe" + "Kế hoạch".encode("utf-16-le") + b"A"),
        ("blank.pdf", blank_pdf()),  # a scan in which OCR finds nothing
    ],
)
def test_a_bad_file_in_a_folder_fails_alone_and_changes_nothing(store, tmp_path, name, data):
    shutil.copy(PLAN, tmp_path / "good.txt")
    index_paths(store, [tmp_path])
    before = snapshot(store)
    (tmp_path / name).write_bytes(data)
    reports = {r.file: r for r in index_paths(store, [tmp_path])}
    assert reports[name].status == "failed" and "\n" not in reports[name].error
    assert reports["good.txt"].status == "unchanged"
    assert snapshot(store) == before


@pytest.mark.skipif(ocr_problem() is not None, reason=f"OCR not installed: {ocr_problem()}")
def test_real_scan_is_indexed_once_and_its_duties_found(store, tmp_path):
    shutil.copy(SCAN, tmp_path / SCAN.name)
    (report,) = index_paths(store, [tmp_path])
    assert report.status == "indexed", report.error
    assert report.summary["source"] == "ocr"
    assert any("OCR" in w for w in report.summary["warnings"])
    leads = store.db.execute(
        "SELECT i.text FROM assignments a JOIN items i ON i.id = a.item_id WHERE a.role = 'lead'"
    ).fetchall()
    assert any("Cục Cảnh sát điều tra tội phạm về ma túy" in text for (text,) in leads)
    started = time.perf_counter()
    (again,) = index_paths(store, [tmp_path])
    assert again.status == "unchanged"
    assert time.perf_counter() - started < 1.0  # hashed, not OCRed again


def test_doc_without_a_converter_fails_alone_and_changes_nothing(store, tmp_path, monkeypatch):
    shutil.copy(PLAN, tmp_path / "good.txt")
    index_paths(store, [tmp_path])
    before = snapshot(store)
    shutil.copy(DATA / "formats" / "real_trien-khai-cong-dien-131.doc", tmp_path / "old.doc")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no soffice on it
    reports = {r.file: r for r in index_paths(store, [tmp_path])}
    assert reports["old.doc"].status == "failed" and "libreoffice-writer-nogui" in reports["old.doc"].error
    assert snapshot(store) == before


def test_migration_merges_nfd_copies_of_a_plan_indexed_before(tmp_path):
    db_path = tmp_path / "old.db"
    old = Store(db_path)
    nfc_name = "Kế hoạch.txt"
    text = PLAN.read_text(encoding="utf-8")
    index_text(old, nfc_name, text)
    index_text(old, "other.txt", text)
    # As an older version stored them: one NFD copy of the first plan, one plan under NFD only.
    old.db.execute("UPDATE plans SET file = ? WHERE file = 'other.txt'", [unicodedata.normalize("NFD", "Phụ lục.txt")])
    dup = index_text(old, "dup.txt", text)
    old.db.execute("UPDATE plans SET file = ? WHERE id = ?", [unicodedata.normalize("NFD", nfc_name), dup.plan_id])
    old.db.execute("DELETE FROM _migrations WHERE name = 'm008_plan_source'")
    old.db.conn.commit()
    old.close()
    store = Store(db_path)
    assert sorted(p["file"] for p in store.plans()) == sorted([nfc_name, "Phụ lục.txt"])
    assert store.db.execute("SELECT count(*) FROM items WHERE plan_id = ?", [dup.plan_id]).fetchone()[0] == 0
    store.close()
