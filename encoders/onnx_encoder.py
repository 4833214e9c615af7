"""The e5 model as int8 ONNX: a fast encoder that needs neither torch nor transformers.

`export_onnx` (run by ``planbot convert-model`` after the model folder is built, offline)
exports the folder's transformer with ``torch.onnx.export`` and quantises its weights to int8
with ONNX Runtime's dynamic quantisation, into ``<model folder>/onnx/model_qint8.onnx``
(sentence-transformers' own ONNX file layout). `OnnxEmbedder` encodes with ONNX Runtime and the
folder's ``tokenizer.json`` (the `tokenizers` library) only: mean pooling, L2 normalisation and
the e5 ``"query: "``/``"passage: "`` prefixes, as `SentenceTransformerEmbedder`.

Its vectors are close to, not equal to, the torch model's (cosine about 0.98), so it has its
own `name`: an index built with one encoder is re-embedded when the other one is used.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from encoders.convert_e5 import file_sha256
from encoders.onnx_fast import (
    BODY_FILE,
    BODY_INPUT,
    TABLE_FILE,
    PieceTokenizer,
    derive_fast,
    fast_dir,
    fast_ready,
)

logger = logging.getLogger(__name__)

ONNX_SUBDIR = "onnx"
ONNX_FILE = "model_qint8.onnx"
MARKER_FILE = "planbot_onnx.json"
#: Bumped when the export or quantisation changes the vectors.
EXPORT_VERSION = 1
#: Environment override for ONNX Runtime's intra-op threads (default 1: a shared small machine).
ONNX_THREADS_ENV = "PLANBOT_ONNX_THREADS"
MAX_LENGTH = 512
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


def onnx_path(model_dir: str | Path) -> Path:
    """Where `export_onnx` puts the quantised model of ``model_dir``."""
    return Path(model_dir).expanduser() / ONNX_SUBDIR / ONNX_FILE


def has_onnx(model_dir: str | Path) -> bool:
    path = onnx_path(model_dir)
    return (
        path.is_file()
        and path.stat().st_size > 0
        and (Path(model_dir) / "tokenizer.json").is_file()
    )


def onnx_model_name(base_name: str, model_dir: str | Path) -> str:
    """The `OnnxEmbedder` name: the torch model's name plus the quantised file's identity
    (its SHA-256, read from the marker `export_onnx` writes, else computed)."""
    path = onnx_path(model_dir)
    sha = ""
    try:
        info = json.loads((path.parent / MARKER_FILE).read_text(encoding="utf-8"))
        if info.get("size") == path.stat().st_size:
            sha = str(info.get("sha256", ""))
    except (OSError, ValueError, AttributeError):
        pass
    return f"{base_name}+onnx-qint8@{(sha or file_sha256(path))[:12]}"


def export_onnx(model_dir: str | Path, *, force: bool = False) -> Path:
    """Export ``model_dir``'s transformer to int8 ONNX (idempotent, atomic); return the file.

    Needs torch, transformers, onnx and onnxruntime (set-up time only); never downloads.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_dir = Path(model_dir).expanduser().resolve()
    target = onnx_path(model_dir)
    if target.is_file() and target.stat().st_size > 0 and not force:
        logger.info("ONNX model already at %s; skipping", target)
        _fast_files(fast_dir(target), target, model_dir / "tokenizer.json")
        return target

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, add_pooling_layer=False
    )
    model.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    with tempfile.TemporaryDirectory(prefix=".onnx-export-", dir=target.parent) as work:
        fp32 = Path(work) / "model.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Hidden(model),
                (ids, mask, types),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "last_hidden_state": axes,
                },
                opset_version=17,
                dynamo=False,
            )
        staged = Path(work) / ONNX_FILE
        quantize_dynamic(str(fp32), str(staged), weight_type=QuantType.QInt8)
        umask = os.umask(0)
        os.umask(umask)
        staged.chmod(0o666 & ~umask)
        os.replace(staged, target)
    marker = {
        "sha256": file_sha256(target),
        "size": target.stat().st_size,
        "export_version": EXPORT_VERSION,
    }
    (target.parent / MARKER_FILE).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    _fast_files(fast_dir(target), target, model_dir / "tokenizer.json")  # never fails the export
    logger.info("exported int8 ONNX model %s in %.1f s", target, time.perf_counter() - started)
    return target


def _fast_files(folder: Path, onnx_file: Path, tokenizer_file: Path) -> bool:
    """The fast-start files (`encoders.onnx_fast`) are there, made now if the folder allows."""
    if fast_ready(folder, onnx_file, tokenizer_file):
        return True
    try:
        derive_fast(folder, onnx_file, tokenizer_file)
        return True
    except Exception as exc:  # a read-only folder, an unexpected graph: the full path works
        logger.info("ONNX fast-start files not made in %s (%s); loading the full model", folder, exc)
        return False


class _FullTokenizer:
    """tokenizer.json through `tokenizers`, whole (250k-piece trie)."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self._tokenizer.no_padding()

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text).ids


def default_onnx_threads() -> int:
    env = os.environ.get(ONNX_THREADS_ENV, "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else 1


class OnnxEmbedder:
    """`Embedder` on the int8 ONNX export: ONNX Runtime + tokenizers, no torch import.

    ``num_threads`` is ONNX Runtime's intra-op thread count (default ``$PLANBOT_ONNX_THREADS``
    or 1); ``base_name`` is the torch model's name (`encoders.embedder.model_name`).
    ``batch_size`` is accepted for the `Embedder` interface; texts are encoded one by one.
    """

    def __init__(
        self,
        model_dir: str | Path,
        base_name: str,
        *,
        batch_size: int = 32,
        num_threads: int | None = None,
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
        fast: bool = True,
    ) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir).expanduser().resolve()
        path = onnx_path(model_dir)
        if not has_onnx(model_dir):
            raise FileNotFoundError(f"no ONNX model at {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or default_onnx_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        tokenizer_file = model_dir / "tokenizer.json"
        self._table = None
        folder = fast_dir(path)
        self.fast = fast and _fast_files(folder, path, tokenizer_file)
        if self.fast:  # same ids and vectors, without the full trie and embedding table
            self._tokenizer = PieceTokenizer(folder, tokenizer_file, MAX_LENGTH)
            self._table = np.load(folder / TABLE_FILE, mmap_mode="r")
            model_file = folder / BODY_FILE
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # done
        else:
            self._tokenizer = _FullTokenizer(tokenizer_file)
            model_file = path
        self._session = ort.InferenceSession(
            str(model_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.name = onnx_model_name(base_name, model_dir)
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.source = str(path)
        self.dim = int(self._encode(["dim"], "").shape[1])

    def _one(self, text: str) -> np.ndarray:
        ids = np.asarray([self._tokenizer.encode(text)], dtype=np.int64)
        feed = {"attention_mask": np.ones_like(ids)}
        if "input_ids" in self._inputs:
            feed["input_ids"] = ids
        if self._table is not None:
            feed[BODY_INPUT] = np.asarray(self._table[ids])
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        pooled = self._session.run(None, feed)[0][0].mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        """One text per run: dynamic int8 quantisation scales each activation tensor by its own
        range, so padding or batch companions would shift a text's vector (cosine ~0.994);
        alone, a text always gets the same vector, and no time is spent on padding."""
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        return np.ascontiguousarray(np.stack([self._one(prefix + t) for t in texts]), np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def __repr__(self) -> str:
        return f"OnnxEmbedder(name={self.name!r}, dim={self.dim})"
