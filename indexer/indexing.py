"""Index plan files into the store: files or folders, progress, one report per file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from indexer.loaders import plan_files, read_plan_bytes, read_plan_file
from indexer.store import IndexReport, Store
from knowledge.errors import PlanbotError
from knowledge.parser import parse_plan

log = logging.getLogger(__name__)


def index_paths(
    store: Store,
    paths: list[Path],
    embedder=None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
) -> list[IndexReport]:
    """Index every plan file under `paths`. A failing file is reported and changes nothing."""
    reports: list[IndexReport] = []
    files = plan_files(paths)
    if not files:
        raise PlanbotError("Không tìm thấy tệp kế hoạch (.txt, .md, .docx, .pdf) ở đường dẫn đã cho.")
    for path in files:
        if progress:
            progress(path.name)
        try:
            text, warnings = read_plan_file(path)
            report = store.index_text(path.name, text, embedder=embedder, force=force)
            if warnings:
                report.summary.setdefault("warnings", []).extend(warnings)
        except PlanbotError as exc:
            report = IndexReport(path.name, "failed", error=str(exc))
        reports.append(report)
    return reports


def index_upload(store: Store, name: str, data: bytes, embedder=None) -> IndexReport:
    """Index one uploaded file (bytes). Raises `PlanbotError` on bad input; index unchanged."""
    text, warnings = read_plan_bytes(name, data)
    report = store.index_text(name, text, embedder=embedder)
    if warnings:
        report.summary.setdefault("warnings", []).extend(warnings)
    return report


def preview_upload(name: str, data: bytes, store: Store | None = None) -> dict:
    """Parse without indexing: what the admin sees before confirming. Raises `PlanbotError`."""
    text, warnings = read_plan_bytes(name, data)
    plan = parse_plan(text, store.registry() if store else None)
    summary = plan.summary()
    summary["warnings"] = warnings + summary["warnings"]
    summary["file"] = name
    summary["replaces"] = bool(store and store.plan_row(name))
    return summary
