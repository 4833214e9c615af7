"""The int8 ONNX encoder: the encoder choice, and (slow, needs the built model) its vectors
against the torch model's on real plan sentences and a query path that never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from encoders.embedder import choose_encoder, model_name
from encoders.lazy_model import lazy_embedder
from encoders.onnx_encoder import has_onnx, onnx_path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "data" / "models" / "multilingual-e5-small"
CORPUS = ROOT / "tests" / "data" / "corpus"
needs_onnx = pytest.mark.skipif(not has_onnx(MODEL), reason="run planbot convert-model first")


def _fake_model_folder(folder: Path, with_onnx: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    if with_onnx:
        onnx_path(folder).parent.mkdir()
        onnx_path(folder).write_bytes(b"not really a model")
    return folder


def test_encoder_choice_falls_back_to_torch(tmp_path: Path, monkeypatch) -> None:
    plain = _fake_model_folder(tmp_path / "plain", with_onnx=False)
    exported = _fake_model_folder(tmp_path / "exported", with_onnx=True)
    monkeypatch.delenv("PLANBOT_ENCODER", raising=False)
    assert choose_encoder(exported) == "onnx"  # the default when the export is there
    assert choose_encoder(plain) == "torch"  # no export: torch
    assert choose_encoder(exported, "torch") == "torch"
    assert choose_encoder(exported, "onnx") == "onnx"
    assert choose_encoder(plain, "onnx") == "torch"  # no export: torch
    assert choose_encoder("intfloat/multilingual-e5-small", "onnx") == "torch"  # hub name
    assert choose_encoder(exported, "tensorflow") == "torch"
    monkeypatch.setenv("PLANBOT_ENCODER", "TORCH")
    assert choose_encoder(exported) == "torch"


def test_onnx_vectors_have_their_own_name(tmp_path: Path, monkeypatch) -> None:
    """Never mix the two encoders' vectors: the ONNX name differs, and follows the file."""
    monkeypatch.delenv("PLANBOT_ENCODER", raising=False)
    folder = _fake_model_folder(tmp_path / "m", with_onnx=True)
    torch_name, onnx_name = model_name(folder, "torch"), model_name(folder, "onnx")
    assert onnx_name.startswith(torch_name + "+onnx-qint8@") and onnx_name != torch_name
    onnx_path(folder).write_bytes(b"another export")
    assert model_name(folder, "onnx") != onnx_name
    lazy = lazy_embedder(folder, encoder="onnx")
    assert lazy is not None and lazy.name == model_name(folder, "onnx") and not lazy.loaded


def _sentences(limit: int = 60) -> list[str]:
    lines: list[str] = []
    for path in sorted(CORPUS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if 30 <= len(line.strip()) <= 400:
                lines.append(line.strip())
    step = max(1, len(lines) // limit)
    return lines[::step][:limit]


@pytest.mark.slow
@needs_onnx
def test_onnx_vectors_match_torch_on_plan_sentences() -> None:
    from encoders.embedder import SentenceTransformerEmbedder
    from encoders.onnx_encoder import OnnxEmbedder

    texts = _sentences()
    assert len(texts) >= 40
    onnx = OnnxEmbedder(MODEL, model_name(MODEL, "torch"), batch_size=8)
    torch_model = SentenceTransformerEmbedder(MODEL, batch_size=8, num_threads=1)
    assert onnx.dim == torch_model.dim == 384
    for encode in ("encode_queries", "encode_documents"):
        a, b = getattr(onnx, encode)(texts), getattr(torch_model, encode)(texts)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= 0.97, (encode, cosines.min())
    # A text gets the same vector alone or among others.
    one = onnx.encode_queries(texts[:1])
    assert float((one[0] * onnx.encode_queries(texts[:9])[0]).sum()) > 0.99999
    # The nearest passage of each query is the same text as with torch for most texts.
    qa, da = onnx.encode_queries(texts), onnx.encode_documents(texts)
    qb, db = torch_model.encode_queries(texts), torch_model.encode_documents(texts)
    agree = ((qa @ da.T).argmax(1) == (qb @ db.T).argmax(1)).mean()
    assert agree >= 0.9


@pytest.mark.slow
@needs_onnx
def test_onnx_query_path_never_imports_torch() -> None:
    script = f"""
import json, sys
from encoders.lazy_model import lazy_embedder
lazy = lazy_embedder({str(MODEL)!r})
vec = lazy.encode_queries(["Sở Nội vụ phải báo cáo khi nào?"])
print(json.dumps({{"torch": "torch" in sys.modules,
    "transformers": "transformers" in sys.modules,
    "sentence_transformers": "sentence_transformers" in sys.modules,
    "name": lazy.name, "shape": list(vec.shape)}}))
"""
    env = dict(os.environ, PLANBOT_ENCODER="onnx", HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["shape"] == [1, 384]
    assert "+onnx-qint8@" in result["name"]
    assert not result["torch"] and not result["transformers"]
    assert not result["sentence_transformers"]


def _tokenizer_texts() -> list[str]:
    """Plan lines, and text that strains a tokenizer: other scripts, emoji, decomposed
    diacritics, added tokens, compatibility forms, long runs that are truncated."""
    import unicodedata

    texts = _sentences(limit=150)
    texts += [unicodedata.normalize("NFD", t) for t in texts[:20]]
    texts += ["", " ", "a", "中文 Sở Nội vụ", "Sở 😀 Y tế", "x<mask>y <s> a", "\t tab\ttext \n"]
    texts += ["ﬁ Ｆｕｌｌ width", "A" * 3000, "đ" * 700, "Ğüçß áé Привет", "  Ủy  ban  "]
    return texts


@needs_onnx
def test_piece_tokenizer_gives_the_full_tokenizers_ids() -> None:
    """The fast-start tokenizer (a Unigram of the text's own pieces) equals tokenizer.json."""
    from tokenizers import Tokenizer

    from encoders.onnx_encoder import _fast_files
    from encoders.onnx_fast import PieceTokenizer, fast_dir

    folder, tokenizer_file = fast_dir(onnx_path(MODEL)), MODEL / "tokenizer.json"
    if not _fast_files(folder, onnx_path(MODEL), tokenizer_file):
        pytest.skip("fast-start files cannot be made in the model folder")
    fast = PieceTokenizer(folder, tokenizer_file, 512)
    full = Tokenizer.from_file(str(tokenizer_file))
    full.enable_truncation(max_length=512)
    for text in _tokenizer_texts():
        for prefix in ("query: ", "passage: ", ""):
            assert fast.encode(prefix + text) == full.encode(prefix + text).ids, repr(text[:60])


@pytest.mark.slow
@needs_onnx
def test_fast_start_encoder_gives_the_same_vectors(tmp_path: Path) -> None:
    """Embedding table cut out of the graph and memory-mapped: bit-identical vectors."""
    import shutil

    from encoders.onnx_encoder import OnnxEmbedder
    from encoders.onnx_fast import BODY_FILE, fast_dir, fast_ready

    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("modules.json", "config.json", "tokenizer.json"):
        shutil.copy(MODEL / name, folder / name)
    onnx_path(folder).parent.mkdir()
    shutil.copy(onnx_path(MODEL), onnx_path(folder))
    full = OnnxEmbedder(folder, "m", fast=False)
    assert not fast_ready(fast_dir(onnx_path(folder)), onnx_path(folder), folder / "tokenizer.json")
    fast = OnnxEmbedder(folder, "m")  # makes the files on first load
    assert fast.fast and not full.fast
    assert (fast_dir(onnx_path(folder)) / BODY_FILE).stat().st_size < onnx_path(folder).stat().st_size / 4
    texts = _tokenizer_texts()[::4]
    for encode in ("encode_queries", "encode_documents"):
        assert np.array_equal(getattr(fast, encode)(texts), getattr(full, encode)(texts))
    # A changed export makes the files stale: they are made again, not trusted.
    onnx_path(folder).touch()
    assert not fast_ready(fast_dir(onnx_path(folder)), onnx_path(folder), folder / "tokenizer.json")
    assert OnnxEmbedder(folder, "m").fast
