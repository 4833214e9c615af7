"""The embedding model is loaded only when a text must be encoded (issue 11).

A structured question and an unchanged reindex never load it (nor import torch); a dense
question loads it once, whatever the number of threads asking; the bot warms it after start.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from answering.knowledge_base import KnowledgeBase
from encoders.embedder import HashingEmbedder, model_name
from encoders.lazy_model import LazyEmbedder, lazy_embedder
from indexer.indexing import index_paths
from store.database import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_plans"
MODEL = ROOT / "data" / "models" / "multilingual-e5-small"
STRUCTURED = "Sở Nội vụ chịu trách nhiệm gì?"
BARE = "So Noi vu chiu trach nhiem gi?"
DENSE = "Tăng cường ứng dụng công nghệ thông tin trong quản lý hồ sơ bệnh án"


class Loads:
    """A loader for `LazyEmbedder` that counts its calls (the model: the hashing one)."""

    def __init__(self, model=None, seconds: float = 0.0) -> None:
        self.model = model if model is not None else HashingEmbedder()
        self.seconds = seconds
        self.calls = 0

    def __call__(self):
        self.calls += 1
        time.sleep(self.seconds)
        return self.model


def test_many_threads_load_the_model_once_and_share_it():
    loads = Loads(seconds=0.2)
    lazy = LazyEmbedder(loads.model.name, loads)
    got: list = []
    threads = [threading.Thread(target=lambda: got.append(lazy.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads.calls == 1
    assert len(got) == 8 and all(m is loads.model for m in got)
    assert lazy.loaded and not lazy.failed


def test_a_model_that_fails_to_load_is_tried_once_and_search_goes_lexical(tmp_path):
    model = HashingEmbedder()
    store = Store(tmp_path / "db.sqlite")
    index_paths(store, [SAMPLES], embedder=model)
    broken = Loads(model=None)
    broken.model = None
    lazy = LazyEmbedder(model.name, broken)
    with_broken = KnowledgeBase(store, lazy)
    lexical = KnowledgeBase(store, None)
    assert len(with_broken.vec_ids) > 0  # its vectors are in the index, the model is not there
    for _ in range(2):
        assert with_broken.ask(DENSE).to_dict() == lexical.ask(DENSE).to_dict()
    assert broken.calls == 1 and lazy.failed
    with pytest.raises(RuntimeError):
        lazy.encode_queries([DENSE])


def test_a_model_loaded_under_another_name_is_not_used():
    lazy = LazyEmbedder("some-other-model@123", Loads())
    assert lazy.get() is None and lazy.failed


def test_structured_answers_and_unchanged_reindex_leave_the_model_unloaded(tmp_path):
    model = HashingEmbedder()
    store = Store(tmp_path / "db.sqlite")
    first = Loads(model)
    reports = index_paths(store, [SAMPLES], embedder=LazyEmbedder(model.name, first))
    assert first.calls == 1 and sum(r.embedded for r in reports) > 0

    again = Loads(model)
    reports = index_paths(store, [SAMPLES], embedder=LazyEmbedder(model.name, again))
    assert {r.status for r in reports} == {"unchanged"} and again.calls == 0

    loads = Loads(model)
    lazy = LazyEmbedder(model.name, loads)
    kb, eager = KnowledgeBase(store, lazy), KnowledgeBase(store, model)
    assert kb.tasks(agency="Sở Nội vụ") and kb.duties("Sở Nội vụ")
    typed_bare = kb.ask(BARE)  # no diacritics: lexical only, whatever the intent
    assert typed_bare.answered and typed_bare.results
    assert loads.calls == 0, "structured lookups and lexical questions must not load the model"
    assert typed_bare.to_dict() == eager.ask(BARE).to_dict()
    for question in (STRUCTURED, DENSE):  # the same answers, the model loaded on the first
        assert kb.ask(question).to_dict() == eager.ask(question).to_dict()
    assert loads.calls == 1 and lazy.loaded


def test_missing_or_unusable_model_folders_give_no_handle(tmp_path):
    assert lazy_embedder(None) is None
    assert lazy_embedder(tmp_path / "absent") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    assert lazy_embedder(empty) is None
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "modules.json").write_text("{", encoding="utf-8")
    assert lazy_embedder(corrupt) is None


def test_the_bot_warms_the_model_after_start_and_keeps_its_own_post_init():
    from telegram.ext import ApplicationBuilder

    from bot.app import warm_after_start

    loads = Loads(seconds=0.1)
    lazy = LazyEmbedder(loads.model.name, loads)
    ran: list[str] = []

    async def own(_app) -> None:
        ran.append("own")

    application = ApplicationBuilder().token("123:abc").post_init(own).build()
    warm_after_start(application, lazy, delay=0.0)
    assert not lazy.loaded  # nothing is loaded before the bot starts
    asyncio.run(application.post_init(application))
    assert ran == ["own"]
    for _ in range(50):
        if lazy.loaded:
            break
        time.sleep(0.05)
    assert lazy.loaded and loads.calls == 1
    warm_after_start(application, None)  # no model: nothing to warm, no error


# -- the real model, whole processes -------------------------------------------------------

PROBE = (
    "import atexit, sys; atexit.register(lambda: print('MODEL=' + str(bool({'torch', 'onnxruntime'} & set(sys.modules))), file=sys.stderr)); "
    "from planbot.cli import main; sys.argv[0] = 'planbot'; main()"
)


def planbot(db: Path, *args: str) -> tuple[str, bool]:
    """Run `planbot ARGS` in a fresh process: (stdout, whether it imported a model runtime:
    torch, or onnxruntime for the default int8 ONNX encoder)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PLANBOT_MODEL=str(MODEL), PLANBOT_DB=str(db))
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, "MODEL=True" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (MODEL / "modules.json").is_file(), reason="the e5 model is not built (scripts/setup.sh)")
def test_real_model_is_imported_only_for_new_texts_and_dense_questions(tmp_path):
    folder = tmp_path / "plans"
    folder.mkdir()
    plan = next(SAMPLES.glob("003_*.txt"))  # Sở Nội vụ has tasks there
    (folder / plan.name).write_bytes(plan.read_bytes())
    db = tmp_path / "planbot.db"

    out, torch = planbot(db, "index", "--json", str(folder))
    assert torch and json.loads(out.splitlines()[0])["embedded"] > 0
    stored = Store(db).db.execute("SELECT DISTINCT model FROM embeddings").fetchall()
    assert stored == [(model_name(MODEL),)]  # the name known without loading is the loaded one

    out, torch = planbot(db, "index", "--json", str(folder))
    assert json.loads(out.splitlines()[0])["status"] == "unchanged" and not torch

    out, torch = planbot(db, "tasks", "--json", "--agency", "Sở Nội vụ")
    assert json.loads(out) and not torch
    out, torch = planbot(db, "ask", "--json", BARE)
    assert json.loads(out)["results"] and not torch

    out, torch = planbot(db, "ask", "--json", DENSE)
    assert json.loads(out)["results"] and torch
