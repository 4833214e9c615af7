from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np
import pytest

from encoders.embedder import (
    DEFAULT_MODEL_DIRNAME,
    Embedder,
    HashingEmbedder,
    from_blob,
    load_embedder,
    to_blob,
)

DOCS = [
    "Sở Nội vụ chịu trách nhiệm thẩm định, trình cấp có thẩm quyền phê duyệt.",
    "Sở Tài chính bố trí kinh phí thực hiện kế hoạch.",
    "Ủy ban nhân dân các huyện báo cáo kết quả trước ngày 15/12/2025.",
    "",
]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "encoders.embedder" and r.levelno == logging.WARNING
    ]


def test_default_model_dirname() -> None:
    assert DEFAULT_MODEL_DIRNAME == "multilingual-e5-small"


def test_hashing_embedder_shape_dtype_and_norm() -> None:
    emb = HashingEmbedder(dim=64)
    assert isinstance(emb, Embedder)
    assert emb.dim == 64 and emb.name
    docs = emb.encode_documents(DOCS)
    queries = emb.encode_queries(["so noi vu chiu trach nhiem gi"])
    assert docs.shape == (len(DOCS), 64) and queries.shape == (1, 64)
    assert docs.dtype == np.float32 and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, rtol=1e-5)
    assert emb.encode_documents([]).shape == (0, 64)
    assert emb.encode_queries([]).shape == (0, 64)


def test_hashing_embedder_is_deterministic() -> None:
    a = HashingEmbedder(dim=64).encode_documents(DOCS)
    b = HashingEmbedder(dim=64).encode_documents(list(reversed(DOCS)))[::-1]
    np.testing.assert_array_equal(a, b)
    assert HashingEmbedder(dim=64).name == HashingEmbedder(dim=64).name
    assert HashingEmbedder(dim=32).name != HashingEmbedder(dim=64).name


def test_hashing_embedder_ranks_related_text_first() -> None:
    emb = HashingEmbedder(dim=256)
    docs = emb.encode_documents(DOCS[:3])
    scores = docs @ emb.encode_queries(["so noi vu chiu trach nhiem gi"])[0]
    assert int(np.argmax(scores)) == 0


def test_blob_round_trip() -> None:
    vec = HashingEmbedder(dim=64).encode_documents(["kế hoạch"])[0]
    blob = to_blob(vec)
    assert isinstance(blob, bytes) and len(blob) == 64 * 4
    back = from_blob(blob, 64)
    assert back.dtype == np.float32 and back.flags.writeable
    np.testing.assert_array_equal(back, vec)


def test_blob_is_float32_little_endian() -> None:
    assert to_blob(np.array([1.5, -2.0])) == struct.pack("<2f", 1.5, -2.0)
    np.testing.assert_array_equal(from_blob(struct.pack("<2f", 1.5, -2.0), 2), [1.5, -2.0])


def test_blob_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        from_blob(b"\0" * 12, 4)
    with pytest.raises(ValueError):
        to_blob(np.zeros((2, 2), dtype=np.float32))


def test_load_embedder_missing_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    missing = tmp_path / "models" / DEFAULT_MODEL_DIRNAME
    with caplog.at_level(logging.WARNING):
        assert load_embedder(missing) is None
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert f"embedding model not found at {missing}" in message
    assert "lexical search only" in message and "scripts/setup.sh" in message


def test_load_embedder_empty_folder_and_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_embedder(tmp_path) is None
        assert load_embedder(None) is None
    assert len(_warnings(caplog)) == 2


def test_load_embedder_broken_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / DEFAULT_MODEL_DIRNAME
    folder.mkdir()
    (folder / "modules.json").write_text("not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_embedder(folder) is None
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert "failed to load" in warnings[0].getMessage()
