"""Masked-LM pretraining, fine-tuning and ONNX export of the small char-BERT sentence classifier.

Needs the ``training`` extra (torch==2.13.0, transformers). Nothing is downloaded: the vocabulary
is built from our corpus, and ``--base-model PATH`` reads a local model directory only.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
)

from gongkai.pipeline.nlp.text import CONTEXT_TAGS, LABELS, SentenceContext
from gongkai.pipeline.nlp.tokenizer import MASK, PAD, SPECIAL_TOKENS, CharTokenizer

CHAR_MARKER = "gongkai_char_tokenizer"  # config key: the directory uses our CharTokenizer


@dataclass
class ModelSize:
    hidden: int = 128
    layers: int = 2
    heads: int = 2
    intermediate: int = 256
    max_len: int = 128


class Batcher:
    """Turns (tags, text) items into padded tensors with whichever tokenizer the base model uses."""

    def __init__(self, char: CharTokenizer | None, hf: object | None, max_len: int) -> None:
        self.char, self.hf, self.max_len = char, hf, max_len

    def __call__(self, items: Sequence[tuple[Sequence[str], str]]) -> tuple[torch.Tensor, torch.Tensor]:
        if self.char is not None:
            ids, mask = self.char.batch(items, self.max_len)
            return torch.from_numpy(ids), torch.from_numpy(mask)
        enc = self.hf(  # type: ignore[operator]
            [" ".join(tags) + " " + text for tags, text in items],
            padding=True,
            truncation=True,
            max_length=self.max_len,
            return_tensors="pt",
        )
        return enc["input_ids"], enc["attention_mask"]


def pretrain_mlm(
    texts: list[str],
    out_dir: Path,
    size: ModelSize,
    epochs: int = 30,
    seed: int = 0,
    log: bool = True,
) -> Path:
    """Masked-LM pretraining from scratch on our corpus text; saves a HF model dir with vocab.txt."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = CharTokenizer.build(texts)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=size.intermediate,
        max_position_embeddings=size.max_len,
        pad_token_id=PAD,
    )
    model = BertForMaskedLM(config)
    # Windows of the running text, so paragraphs longer than max_len still teach.
    window = size.max_len - 2
    chunks = [t[i : i + window] for t in texts for i in range(0, max(1, len(t)), window // 2) if t[i:]]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    special = len(SPECIAL_TOKENS) + len(CONTEXT_TAGS)
    model.train()
    for epoch in range(epochs):
        rng.shuffle(chunks)
        total = 0.0
        for start in range(0, len(chunks), 32):
            ids_np, mask_np = tok.batch([((), c) for c in chunks[start : start + 32]], size.max_len)
            ids = torch.from_numpy(ids_np)
            labels = ids.clone()
            maskable = (ids >= special) & torch.from_numpy(mask_np).bool()
            chosen = (torch.rand(ids.shape) < 0.15) & maskable
            labels[~chosen] = -100
            # BERT's 80/10/10: mask, random token, keep.
            replace = chosen & (torch.rand(ids.shape) < 0.8)
            ids[replace] = MASK
            rand = chosen & ~replace & (torch.rand(ids.shape) < 0.5)
            ids[rand] = torch.randint(special, len(tok), (int(rand.sum()),))
            loss = model(input_ids=ids, attention_mask=torch.from_numpy(mask_np), labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        if log and (epoch % 5 == 0 or epoch == epochs - 1):
            print(f"mlm epoch {epoch + 1}/{epochs} loss {total / max(1, len(chunks) / 32):.3f}", flush=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save(out_dir / "vocab.txt")
    cfg = json.loads((out_dir / "config.json").read_text())
    cfg[CHAR_MARKER] = True
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1))
    return out_dir


def _load_base(
    base: Path, size: ModelSize, dropout: float | None = None
) -> tuple[torch.nn.Module, Batcher, CharTokenizer | None, object]:
    cfg = json.loads((base / "config.json").read_text())
    kwargs: dict[str, Any] = {
        "num_labels": len(LABELS),
        "id2label": dict(enumerate(LABELS)),
        "label2id": {lab: i for i, lab in enumerate(LABELS)},
    }
    if dropout is not None:
        kwargs["hidden_dropout_prob"] = dropout
        kwargs["attention_probs_dropout_prob"] = dropout
    if cfg.get(CHAR_MARKER):
        tok = CharTokenizer.load(base / "vocab.txt")
        model = BertForSequenceClassification.from_pretrained(base, local_files_only=True, **kwargs)
        return model, Batcher(tok, None, size.max_len), tok, None
    hf = AutoTokenizer.from_pretrained(base, local_files_only=True)
    hf.add_special_tokens({"additional_special_tokens": list(CONTEXT_TAGS)})
    model = AutoModelForSequenceClassification.from_pretrained(base, local_files_only=True, **kwargs)
    model.resize_token_embeddings(len(hf))
    return model, Batcher(None, hf, size.max_len), None, hf


def finetune(
    base: Path,
    train: list[tuple[SentenceContext, str]],
    out_dir: Path,
    size: ModelSize,
    epochs: int = 12,
    lr: float = 5e-4,
    seed: int = 0,
    unk_rate: float = 0.05,
    dropout: float | None = None,
    log: bool = True,
) -> Path:
    """Fine-tune ``base`` (our MLM checkpoint or a local pretrained model) on labelled sentences."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model, batcher, char_tok, hf_tok = _load_base(base, size, dropout)
    label_id = {lab: i for i, lab in enumerate(LABELS)}
    counts = np.bincount([label_id[lab] for _, lab in train], minlength=len(LABELS)).astype(np.float64)
    weights = torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    data = list(train)
    steps = epochs * ((len(data) + 31) // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps))
    model.train()
    t0 = time.time()
    for epoch in range(epochs):
        rng.shuffle(data)
        total = 0.0
        for start in range(0, len(data), 32):
            batch = data[start : start + 32]
            ids, mask = batcher([(c.tags(), c.text) for c, _ in batch])
            if char_tok is not None and unk_rate > 0:
                # Unknown characters at test time: teach the model to read past [UNK].
                body = ids >= len(SPECIAL_TOKENS) + len(CONTEXT_TAGS)
                ids = ids.masked_fill(body & (torch.rand(ids.shape) < unk_rate), 1)
            y = torch.tensor([label_id[lab] for _, lab in batch])
            loss = loss_fn(model(input_ids=ids, attention_mask=mask).logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        if log and (epoch % 3 == 0 or epoch == epochs - 1):
            print(
                f"fine-tune epoch {epoch + 1}/{epochs} loss {total / max(1, len(data) / 32):.3f} "
                f"({time.time() - t0:.0f}s)",
                flush=True,
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    if char_tok is not None:
        char_tok.save(out_dir / "vocab.txt")
        cfg = json.loads((out_dir / "config.json").read_text())
        cfg[CHAR_MARKER] = True
        (out_dir / "config.json").write_text(json.dumps(cfg, indent=1))
    else:
        hf_tok.save_pretrained(out_dir)  # type: ignore[attr-defined]
    return out_dir


class _LogitsOnly(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def export_logits(module: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor, path: Path) -> None:
    """``module(input_ids, attention_mask) -> logits`` to ONNX (opset 17, dynamic batch and length),
    the graph ``OnnxSentenceClassifier`` runs; ``ids``/``mask`` are the example inputs to trace."""
    with torch.no_grad():
        torch.onnx.export(
            module,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_mask": {0: "batch", 1: "seq"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )


def export_onnx(
    checkpoint: Path, out_dir: Path, size: ModelSize, quantize: bool = True, name: str = ""
) -> Path:
    """ONNX (opset 17, dynamic batch and length), optionally int8 dynamic-quantised, + runtime config."""
    model = BertForSequenceClassification.from_pretrained(checkpoint, local_files_only=True)
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    export_logits(_LogitsOnly(model), ids, mask, fp32)
    final = out_dir / "model.onnx"
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8)
        fp32.unlink()
    else:
        fp32.replace(final)
    tok_src = checkpoint / "tokenizer.json"
    if tok_src.is_file():
        (out_dir / "tokenizer.json").write_bytes(tok_src.read_bytes())
    else:
        (out_dir / "vocab.txt").write_bytes((checkpoint / "vocab.txt").read_bytes())
    cfg = {
        "name": name or out_dir.name,
        "kind": "onnx-bert-sentence-classifier",
        "labels": list(LABELS),
        "max_len": size.max_len,
        "onnx": "model.onnx",
        "int8": quantize,
        "architecture": {
            "hidden": size.hidden,
            "layers": size.layers,
            "heads": size.heads,
            "intermediate": size.intermediate,
        },
    }
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1, ensure_ascii=False) + "\n")
    return out_dir
