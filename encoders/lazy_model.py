"""The embedding model, loaded when first needed.

`lazy_embedder` is what the command line and the bot use: a `LazyEmbedder` knows the model's
name (which vectors in the index are its own) from the folder alone, and imports torch (or ONNX
Runtime, see `encoders.onnx_encoder`) and loads the model only on the first encode (or `warm()`),
once, whatever the number of threads asking.
A structured answer or an unchanged reindex never pays for the model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from encoders.embedder import (
    _MISSING_HINT,
    Embedder,
    _check_model_folder,
    _is_local,
    choose_encoder,
    load_embedder,
    model_name,
)

logger = logging.getLogger(__name__)


class LazyEmbedder:
    """An `Embedder` that loads its model on first use (or `warm()`), once, thread-safely.

    ``name`` is known up front (`model_name`), so the index's vectors can be read and an
    unchanged file recognised without the model; ``encode_*`` and ``dim`` load it. A model that
    fails to load is tried once: `get()` then returns None (callers answer lexically) and
    ``encode_*`` raise ``RuntimeError``.
    """

    def __init__(self, name: str, loader: Callable[[], Embedder | None]) -> None:
        self.name = name
        self._loader = loader
        self._model: Embedder | None = None
        self._failed = False
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def failed(self) -> bool:
        return self._failed

    def get(self) -> Embedder | None:
        """The loaded model (loading it now if needed), or None if it cannot be loaded."""
        model = self._model
        if model is not None or self._failed:
            return model
        with self._lock:  # one thread loads; the others wait for it and share the result
            if self._model is None and not self._failed:
                loaded = self._loader()
                if loaded is not None and loaded.name != self.name:
                    logger.warning("model loaded as %s, expected %s: not used", loaded.name, self.name)
                    loaded = None
                self._failed = loaded is None
                self._model = loaded
            return self._model

    def warm(self, delay: float = 0.0) -> threading.Thread:
        """Load the model in a background (daemon) thread, after `delay` seconds."""

        def load() -> None:
            if delay > 0:
                threading.Event().wait(delay)
            started = time.perf_counter()
            if self.get() is not None:
                logger.info("embedding model warmed in %.1f s", time.perf_counter() - started)

        thread = threading.Thread(target=load, name="planbot-model-warmup", daemon=True)
        thread.start()
        return thread

    def _require(self) -> Embedder:
        model = self.get()
        if model is None:
            raise RuntimeError(f"embedding model {self.name} is unavailable")
        return model

    @property
    def dim(self) -> int:
        return self._require().dim

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        return self._require().encode_documents(texts)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._require().encode_queries(texts)

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "failed" if self._failed else "not loaded"
        return f"LazyEmbedder(name={self.name!r}, {state})"


def lazy_embedder(
    model: str | Path | None, batch_size: int = 32, *, encoder: str | None = None
) -> LazyEmbedder | None:
    """`load_embedder` deferred: None (with one warning) when the model is plainly missing,
    else a `LazyEmbedder` that loads it on first use. Never imports torch itself.

    ``encoder`` (default ``$PLANBOT_ENCODER``) is resolved now, so the name and the model
    loaded later agree."""
    if model is None or str(model).strip() == "":
        logger.warning("no embedding model configured; %s", _MISSING_HINT)
        return None
    if _is_local(model):
        path = Path(model).expanduser()
        try:
            if not path.is_dir() or not any(path.iterdir()):
                raise FileNotFoundError(path)
            _check_model_folder(path.resolve())
            encoder = choose_encoder(path, encoder)
            name = model_name(path, encoder)
        except FileNotFoundError:
            logger.warning("embedding model not found at %s; %s", path, _MISSING_HINT)
            return None
        except (OSError, ValueError) as exc:
            logger.warning("embedding model at %s is unusable (%s); %s", path, exc, _MISSING_HINT)
            return None
    else:
        name = str(model)
    return LazyEmbedder(
        name, lambda: load_embedder(model, batch_size=batch_size, encoder=encoder)
    )


def resolve(embedder: Embedder | LazyEmbedder | None) -> Embedder | None:
    """The model behind `embedder`, loading a lazy one now; None when there is none."""
    if isinstance(embedder, LazyEmbedder):
        return embedder.get()
    return embedder
