"""A fast start for the int8 ONNX encoder: the same token ids and vectors, loaded in a fraction
of the time and memory.

Two costs dominated a cold dense question, both spent on data a question barely touches:

- ``Tokenizer.from_file`` builds a trie of all 250,002 Unigram pieces (about 1 s, holding the
  GIL), though a question uses a few dozen of them.
- The ONNX file is 118 MB, 96 MB of it the uint8 word-embedding table (250,037 × 384) that
  ONNX Runtime reads and copies into every session, though a question uses a few dozen rows.

`derive_fast` (run once after the export, or on the first load when the folder is writable)
writes beside the model, atomically:

- ``vocab.txt`` + ``vocab_scores.npy``: the pieces and their scores, loaded in tens of ms.
- ``tokenizer_skeleton.json``: tokenizer.json without its vocabulary (normaliser, Metaspace
  pre-tokeniser, template, added tokens).
- ``word_embeddings.npy``: the uint8 table, memory-mapped at load (only touched rows are read).
- ``model_body.onnx``: the graph with the embedding Gather cut out; its output is now an input.

`PieceTokenizer` gives exactly the ids of the full tokenizer: Unigram's Viterbi lattice for a
text only ever holds pieces that are substrings of that (normalised, Metaspace) text, so a
Unigram built from those pieces alone (plus the lowest-scored piece, which fixes the unknown
penalty) takes the same path. Text that carries an added token ("<s>", "<mask>"…) is handed to
the full tokenizer. `tests/test_onnx_encoder.py` checks ids and vectors against the full path.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

FAST_MARKER = "planbot_fast.json"
FAST_VERSION = 3
VOCAB_FILE = "vocab.txt"
COMMON_FILE = "vocab_common.txt"  # the pieces written only in COMMON characters
COMMON_IDS_FILE = "vocab_common_ids.npy"
LOWEST_FILE = "vocab_lowest.json"  # the lowest-scored piece: it sets Unigram's unknown penalty
_VIETNAMESE = "àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ"
#: Characters of (normalised) Vietnamese text: a text written only in them can only use pieces
#: written only in them (93k of the 250k), so only those are loaded unless a text needs more.
COMMON = frozenset(map(chr, range(0x20, 0x7F))) | set(_VIETNAMESE) | set(_VIETNAMESE.upper()) | set("\u2581–—“”‘’…•°")
SCORES_FILE = "vocab_scores.npy"
SKELETON_FILE = "tokenizer_skeleton.json"
TABLE_FILE = "word_embeddings.npy"
BODY_FILE = "model_body.onnx"  # the graph ONNX Runtime has already optimised (see `_optimise`)
#: The embedding Gather's output, an input of the body graph.
BODY_INPUT = "planbot_word_embeddings"


def fast_dir(onnx_file: Path) -> Path:
    """Where the fast-start files of an export live: a folder per `FAST_VERSION` beside it, so
    two versions of the code sharing one model folder never overwrite each other's files."""
    return onnx_file.parent / f"planbot-fast-v{FAST_VERSION}"


def _identity(onnx_file: Path, tokenizer_file: Path) -> dict:
    """What the derived files were made from (size and mtime: cheap to check at every load)."""
    import onnxruntime

    out: dict = {"version": FAST_VERSION, "onnxruntime": onnxruntime.__version__}
    for key, path in (("onnx", onnx_file), ("tokenizer", tokenizer_file)):
        stat = path.stat()
        out[key] = [stat.st_size, stat.st_mtime_ns]
    return out


def fast_ready(folder: Path, onnx_file: Path, tokenizer_file: Path) -> bool:
    """The derived files in ``folder`` exist and were made from these two files."""
    try:
        marker = json.loads((folder / FAST_MARKER).read_text(encoding="utf-8"))
        return marker == _identity(onnx_file, tokenizer_file) and all(
            (folder / name).is_file()
            for name in (VOCAB_FILE, COMMON_FILE, COMMON_IDS_FILE, LOWEST_FILE, SCORES_FILE, SKELETON_FILE)
            + (TABLE_FILE, BODY_FILE)
        )
    except (OSError, ValueError):
        return False


def _write_atomic(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as out:  # np.save(path) would add ".npy" to the temporary name
        np.save(out, array)


def derive_fast(folder: Path, onnx_file: Path, tokenizer_file: Path) -> None:
    """Write the fast-start files into ``folder`` (idempotent; raises on failure)."""
    import onnx
    from onnx import helper, numpy_helper

    if fast_ready(folder, onnx_file, tokenizer_file):
        return
    folder.mkdir(parents=True, exist_ok=True)
    identity = _identity(onnx_file, tokenizer_file)
    spec = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    model = spec["model"]
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        raise ValueError(f"not a plain Unigram tokenizer: {model.get('type')}")
    pieces = [p for p, _ in model["vocab"]]
    if any("\n" in p for p in pieces):
        raise ValueError("a vocabulary piece holds a newline")
    scores = np.asarray([s for _, s in model["vocab"]], dtype=np.float64)
    # The pieces up to the unknown one and the template's special tokens keep their own ids
    # (ids 0–3 here), so the ids the post-processor inserts need no translation.
    template = spec.get("post_processor") or {}
    fixed = 1 + max([model["unk_id"], *(i for t in template.get("special_tokens", {}).values() for i in t["ids"])])
    if fixed > 16:
        raise ValueError(f"special token ids up to {fixed - 1}: not at the start of the vocabulary")
    skeleton = dict(spec, model=dict(model, vocab=model["vocab"][:fixed]))

    graph_model = onnx.load(str(onnx_file))
    graph = graph_model.graph
    inits = {i.name: i for i in graph.initializer}
    gathers = [
        n for n in graph.node
        if n.op_type == "Gather" and n.input[0] in inits and n.input[1] == "input_ids"
        and list(inits[n.input[0]].dims)[:1] and inits[n.input[0]].dims[0] >= len(pieces)
    ]
    if len(gathers) != 1:
        raise ValueError(f"expected one word-embedding Gather, found {len(gathers)}")
    gather = gathers[0]
    table = numpy_helper.to_array(inits[gather.input[0]])
    for node in graph.node:  # the body reads the gathered rows from a new input
        for i, name in enumerate(node.input):
            if name == gather.output[0]:
                node.input[i] = BODY_INPUT
    for out in graph.output:
        if out.name == gather.output[0]:
            raise ValueError("the embedding Gather feeds a graph output")
    graph.node.remove(gather)
    graph.initializer.remove(inits[gather.input[0]])
    elem = helper.np_dtype_to_tensor_dtype(table.dtype)
    graph.input.append(helper.make_tensor_value_info(BODY_INPUT, elem, ["batch", "sequence", table.shape[1]]))
    if not any(gather.input[1] in n.input for n in graph.node):
        for inp in list(graph.input):
            if inp.name == gather.input[1]:
                graph.input.remove(inp)

    _write_atomic(folder / VOCAB_FILE, lambda p: Path(p).write_text("\n".join(pieces), encoding="utf-8"))
    common = [i for i, piece in enumerate(pieces) if COMMON.issuperset(piece)]
    _write_atomic(
        folder / COMMON_FILE, lambda p: Path(p).write_text("\n".join(pieces[i] for i in common), encoding="utf-8")
    )
    _write_atomic(folder / COMMON_IDS_FILE, lambda p: _save_npy(p, np.asarray(common, dtype=np.int32)))
    lowest = int(np.argmin(scores))
    _write_atomic(
        folder / LOWEST_FILE, lambda p: Path(p).write_text(json.dumps([lowest, pieces[lowest]]), encoding="utf-8")
    )
    _write_atomic(folder / SCORES_FILE, lambda p: _save_npy(p, scores))
    _write_atomic(folder / SKELETON_FILE, lambda p: Path(p).write_text(json.dumps(skeleton), encoding="utf-8"))
    _write_atomic(folder / TABLE_FILE, lambda p: _save_npy(p, np.ascontiguousarray(table)))
    _write_atomic(folder / BODY_FILE, lambda p: _optimise(graph_model, p))
    _write_atomic(folder / FAST_MARKER, lambda p: Path(p).write_text(json.dumps(identity) + "\n", encoding="utf-8"))
    logger.info("fast-start files for the ONNX encoder written to %s", folder)


def _optimise(graph_model, target: str) -> None:
    """Save the graph as ONNX Runtime optimises it at the EXTENDED level (node fusions, no
    hardware-specific layouts), so a session loads it with optimisation off: about 0.1 s instead
    of 0.4 s, the same outputs bit for bit. Tied to the ONNX Runtime version (in the marker)."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix=".onnx-body-", dir=Path(target).parent) as work:
        plain = str(Path(work) / "body.onnx")
        onnx.save(graph_model, plain)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = target
        options.intra_op_num_threads = 1
        ort.InferenceSession(plain, sess_options=options, providers=["CPUExecutionProvider"])


class PieceTokenizer:
    """The folder's Unigram tokenizer, without building its 250k-piece trie (see module doc).

    ``encode(text)`` returns the token ids `tokenizers.Tokenizer.from_file(tokenizer.json)`
    gives, truncated to ``max_length``."""

    def __init__(self, folder: Path, tokenizer_file: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._Tokenizer = Tokenizer
        self._folder = folder
        common = (folder / COMMON_FILE).read_text(encoding="utf-8").split("\n")
        common_ids = np.load(folder / COMMON_IDS_FILE).tolist()
        self._common = _PieceTable(dict(zip(common, common_ids, strict=True)))
        self._all: _PieceTable | None = None  # every piece: loaded for a text outside COMMON
        self._scores = np.load(folder / SCORES_FILE)
        self._lowest, self._lowest_piece = json.loads((folder / LOWEST_FILE).read_text(encoding="utf-8"))
        skeleton = (folder / SKELETON_FILE).read_text(encoding="utf-8")
        spec = json.loads(skeleton)
        self._unk = int(spec["model"]["unk_id"])
        self._fixed = [piece for piece, _ in spec["model"]["vocab"]]  # ids 0..n-1 keep their places
        self._added = [t["content"] for t in spec.get("added_tokens", [])]
        self._skeleton = Tokenizer.from_str(skeleton)
        self._skeleton.enable_truncation(max_length=max_length)
        self._skeleton.no_padding()
        self._normalizer = self._skeleton.normalizer
        self._tokenizer_file = tokenizer_file
        self._max_length = max_length
        self._full = None
        self._lock = threading.Lock()

    def _full_tokenizer(self):
        with self._lock:
            if self._full is None:
                full = self._Tokenizer.from_file(str(self._tokenizer_file))
                full.enable_truncation(max_length=self._max_length)
                full.no_padding()
                self._full = full
            return self._full

    def _table(self, normalized: str) -> _PieceTable:
        if COMMON.issuperset(normalized):
            return self._common
        with self._lock:
            if self._all is None:
                pieces = (self._folder / VOCAB_FILE).read_text(encoding="utf-8").split("\n")
                # A repeated piece keeps its last id, as in tokenizers.
                self._all = _PieceTable(dict(zip(pieces, range(len(pieces)), strict=True)))
            return self._all

    def _candidates(self, text: str) -> dict[int, str]:
        """Every piece (id: piece) that is a substring of a word of the text as the model sees
        it (normalised; Metaspace: a space becomes "▁", which starts each word it splits off)."""
        normalized = self._normalizer.normalize_str(text) if self._normalizer is not None else text
        table = self._table(normalized)
        found: dict[int, str] = {}
        for part in normalized.replace(" ", "\u2581").split("\u2581"):
            found.update(table.pieces_in("\u2581" + part))
        return found

    def encode(self, text: str) -> list[int]:
        if any(token in text for token in self._added):
            return self._full_tokenizer().encode(text).ids
        from tokenizers import models

        fixed = len(self._fixed)
        found = self._candidates(text)
        # The fixed ids first (specials, the unknown piece), then the text's pieces, then the
        # lowest-scored piece: Unigram's unknown penalty is the vocabulary's lowest score minus
        # 10, and it must be the full vocabulary's.
        lowest = self._lowest
        local = [*range(fixed), *(i for i in found if i >= fixed and i != lowest), lowest]
        pieces = [*self._fixed, *(found[i] for i in local[fixed:-1]), self._lowest_piece]
        vocab = [(piece, float(self._scores[i])) for piece, i in zip(pieces, local, strict=True)]
        with self._lock:
            self._skeleton.model = models.Unigram(vocab, self._unk, False)
            ids = self._skeleton.encode(text).ids
        return [local[i] for i in ids]


class _PieceTable:
    """Pieces (piece: id) and the pieces found in each word met so far."""

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids
        self.longest = max(map(len, ids), default=1)
        self._words: dict[str, dict[int, str]] = {}

    def pieces_in(self, word: str) -> dict[int, str]:
        found = self._words.get(word)
        if found is None:
            ids, longest, size = self.ids, self.longest, len(word)
            found = {}
            for start in range(size):
                for end in range(start + 1, min(start + longest, size) + 1):
                    piece = word[start:end]
                    hit = ids.get(piece)
                    if hit is not None:
                        found[hit] = piece
            if len(self._words) >= 100_000:
                self._words.clear()
            self._words[word] = found
        return found
