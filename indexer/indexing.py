"""Index plan files: load → parse → diff → embed → store → notify, one report per file.

A plan is known by its path relative to the folder it was indexed from ("sub/ke-hoach.docx"; a
file given on its own by its name), in NFC. Its source (absolute path) is stored too: indexing
the same file again, from another root, updates the same plan. When another existing file already
holds the name, the document decides: a new version of the same document (same number and issuer,
or same title and issuer when unnumbered) replaces it, with a warning naming the file it replaced;
a different document is stored under a longer name (its folder added), with a warning, never
replacing the other plan. A file's raw bytes are hashed before anything is loaded, so an
unchanged file (even a scanned PDF needing OCR) costs one hash.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from answering import ann
from encoders.lazy_model import resolve
from indexer.changes import ChangeNotice, change_notice, change_summary, same_document
from indexer.loaders import SUPPORTED, PageProgress, plan_files, read_bytes, read_plan_bytes
from knowledge.document import Document
from knowledge.errors import PlanbotError
from knowledge.model import Plan
from knowledge.parsing.parser import parse_document, parse_plan
from knowledge.text import nfc
from store.database import Store
from store.writes import IndexReport, content_hash, file_hash, plan_docs

log = logging.getLogger(__name__)

Notify = Callable[[ChangeNotice], list[int]]  # queues a plan's change notice; the chats told

_LOADED: OrderedDict[str, Document] = OrderedDict()  # file hash → document (preview, then import)
_LOADED_MAX = 4
_LOCK = threading.Lock()  # the bot previews and imports in worker threads


def load(name: str, data: bytes, progress: PageProgress | None = None) -> Document:
    """The document in a file's bytes; the last few are kept, so a previewed upload (perhaps
    OCRed) is not read again when the admin confirms it."""
    digest = file_hash(data)
    with _LOCK:
        if digest in _LOADED:
            _LOADED.move_to_end(digest)
            return copy.deepcopy(_LOADED[digest])
    document = read_plan_bytes(name, data, progress)
    with _LOCK:
        _LOADED[digest] = copy.deepcopy(document)
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return document


def parse(document: Document, store: Store | None) -> tuple[Plan, dict]:
    """The plan and its summary, with the loader's warnings first."""
    plan = parse_document(document, store.registry() if store else None)
    summary = plan.summary()
    later = list(summary.get("warnings", []))
    summary["warnings"] = [w for w in document.warnings if w not in later] + later
    summary["source"] = document.source  # "ocr": answers can say the text was recognised
    if document.pages:
        summary["pages"] = document.pages
    return plan, summary


def index_paths(
    store: Store,
    paths: list[Path],
    embedder=None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
    pages: PageProgress | None = None,
    notify: Notify | None = None,
) -> list[IndexReport]:
    """Index every plan file under `paths`. A failing file is reported and changes nothing.
    `progress(name)` is called per file, `pages(done, total)` per OCR page; `notify(notice)` as
    soon as a plan whose duties changed is stored (`summary["notified"]`: what it returns)."""
    targets = [(path, key) for root in paths for path, key in _keys(root)]
    if not targets:
        raise PlanbotError(
            f"Không tìm thấy tệp kế hoạch ({', '.join(SUPPORTED)}) ở đường dẫn đã cho."
        )
    reports: list[IndexReport] = []
    with store.bulk_load():  # a big folder's vectors: the PostgreSQL graph built once, after
        for path, key in targets:
            if progress:
                progress(path.name)
            try:
                report = _index_file(store, path, key, embedder, force, pages, notify)
            except PlanbotError as exc:
                report = IndexReport(key, "failed", error=str(exc))
            reports.append(report)
    if embedder is not None and any(r.status == "indexed" for r in reports):
        ann.refresh(store, embedder.name)  # the HNSW file beside the DB, for the next reader
    return reports


def _keys(root: Path) -> list[tuple[Path, str]]:
    if root.is_dir():
        return [(path, nfc(path.relative_to(root).as_posix())) for path in plan_files([root])]
    return [(root, nfc(root.name))]


def _index_file(
    store: Store,
    path: Path,
    key: str,
    embedder,
    force: bool,
    pages: PageProgress | None,
    notify: Notify | None,
) -> IndexReport:
    data = read_bytes(path)
    digest = file_hash(data)
    source = nfc(str(path.resolve()))
    key, holder = _name_for(store, key, source)
    if not force and (holder is None or holder["content_hash"] == digest):
        if report := store.unchanged(key, digest):
            return report
    document = read_plan_bytes(path.name, data, pages)
    plan, summary = parse(document, store)
    warning = ""
    if holder is not None:
        if holder["content_hash"] == digest or same_document(holder, plan):
            warning = f"Tệp này thay bản trước của '{key}' (đọc từ '{holder['source']}'): cùng một văn bản."
        else:
            key, warning = _longer_name(store, key, source, path)
            if not force and (report := store.unchanged(key, digest)):
                return report
    if warning:
        summary["warnings"].insert(0, warning)
    summary.update(change_summary(store, key, plan, digest))  # a known plan: what changed
    report = store_plan(store, key, plan, document.plain_text(), digest, embedder, source, summary)
    return _announce(report, digest, notify)


def _held_elsewhere(store: Store, name: str, source: str) -> dict | None:
    """The plan stored under `name` when another file that still exists holds it."""
    row = store.plan_row(name)
    other = row.get("source") if row else None
    if row is None or not other or other == source or not Path(other).is_file():
        return None  # free, an upload, the same file, or a plan whose file is gone (replaced)
    return row


def _name_for(store: Store, key: str, source: str) -> tuple[str, dict | None]:
    """The name this file is stored under, and the plan of another live file holding it."""
    known = store.file_of_source(source)
    if known:
        return known, None
    return key, _held_elsewhere(store, key, source)


def _longer_name(store: Store, key: str, source: str, path: Path) -> tuple[str, str]:
    """A different document whose name is taken: its folders are added until the name is free."""
    candidate, parents = key, list(path.resolve().parents)[key.count("/") :]
    while (other := _held_elsewhere(store, candidate, source)) is not None:
        if not parents or parents[0].name == "":
            raise PlanbotError(f"Tên '{key}' đã dùng cho kế hoạch đọc từ '{other['source']}'; hãy đổi tên tệp.")
        candidate = nfc(f"{parents.pop(0).name}/{candidate}")
    return candidate, (
        f"Đã có kế hoạch khác tên '{key}' (từ '{store.plan_row(key)['source']}'); "
        f"tệp này được lưu với tên '{candidate}'."
    )


def embed(store: Store, plan: Plan, embedder) -> int:
    """Vectors of the plan's texts that have none for this model yet; how many were made."""
    texts = {content_hash(t): t for _, _, t in plan_docs(plan)}
    missing = store.missing_vectors(embedder.name, texts)
    if not missing:
        return 0  # a lazy model stays unloaded when every text already has its vector
    model = resolve(embedder)
    if model is None:  # the model failed to load: lexical search only
        return 0
    vectors = model.encode_documents([t for _, t in missing])
    store.save_vectors(embedder.name, [(h, v) for (h, _), v in zip(missing, vectors, strict=True)])
    return len(missing)


def store_plan(
    store: Store,
    file: str,
    plan: Plan,
    text: str,
    digest: str,
    embedder=None,
    source: str | None = None,
    summary: dict | None = None,
) -> IndexReport:
    """Embed the plan's new texts (outside the store's transaction), then store the plan."""
    started = datetime.now(UTC)
    embedded = embed(store, plan, embedder) if embedder is not None else 0
    report = store.save_plan(file, plan, text, digest, source, summary)
    report.embedded = embedded
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report


def index_text(store: Store, file: str, text: str, embedder=None, force: bool = False) -> IndexReport:
    """Parse plain `text` and store it under `file` (files go through `index_paths`)."""
    digest = file_hash(text.encode("utf-8"))
    if not force and (report := store.unchanged(nfc(file), digest)):
        return report
    return store_plan(store, file, parse_plan(text, store.registry()), text, digest, embedder)


def _announce(report: IndexReport, digest: str, notify: Notify | None) -> IndexReport:
    """After a plan is saved: its change notice to `notify` (`summary["notified"]`: the chats)."""
    if notify is not None and report.status == "indexed":
        notice = change_notice(report.file, report.summary, digest)
        if notice is not None:
            report.summary["notified"] = notify(notice)
    return report


def index_upload(
    store: Store, name: str, data: bytes, embedder=None, notify: Notify | None = None
) -> IndexReport:
    """Index one uploaded file (bytes). Raises `PlanbotError` on bad input; index unchanged.
    `notify` as in `index_paths`."""
    name = nfc(Path(name).name)
    digest = file_hash(data)
    document = load(name, data)
    plan, summary = parse(document, store)
    summary.update(change_summary(store, name, plan, digest))  # a known plan: what changed
    report = store_plan(store, name, plan, document.plain_text(), digest, embedder, None, summary)
    return _announce(report, digest, notify)


def preview_upload(name: str, data: bytes, store: Store | None = None) -> dict:
    """Parse without indexing: what the admin sees before confirming. Raises `PlanbotError`."""
    name = nfc(Path(name).name)
    plan, summary = parse(load(name, data), store)
    summary.update(change_summary(store, name, plan, file_hash(data)))  # a known plan: what changed
    summary["file"] = name
    summary["replaces"] = bool(store and store.plan_row(name))
    return summary
