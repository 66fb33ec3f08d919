"""Evaluate narrative classifiers on a split, the way the service labels (gongkai.pipeline.nlp.labeling).

Modes: ``headings`` — section headings as printed (heading rules for 一/六, the classifier in 五);
``no_headings`` — every heading hidden, the classifier alone (what a legacy report without usable
headings gets). Paragraph label = the label of most of its characters, as in the gold data.

Usage: python -m training.narrative.evaluate [--split test_real] [--models DIR ...]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

from gongkai.pipeline.nlp.classifier import SentenceClassifier, load_classifier
from gongkai.pipeline.nlp.labeling import label_section
from gongkai.pipeline.nlp.text import LABELS
from training.narrative.data import REPO, Row, load_rows, sections_of


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    """Macro-F1 over the labels that occur in gold or prediction (scikit-learn's default set)."""
    labels = sorted(set(gold) | set(pred))
    scores = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def bootstrap_ci(
    gold: Sequence[str], pred: Sequence[str], n: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of macro-F1, resampling items with replacement."""
    rng = random.Random(seed)
    idx = list(range(len(gold)))
    vals = []
    for _ in range(n):
        sample = [rng.choice(idx) for _ in idx]
        vals.append(macro_f1([gold[i] for i in sample], [pred[i] for i in sample]))
    vals.sort()
    return vals[int(0.025 * n)], vals[int(0.975 * n) - 1]


def predict(
    rows: list[Row], classifier: SentenceClassifier | None, mode: str
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(paragraph gold, paragraph pred, sentence gold, sentence pred)."""
    pg, pp, sg, sp = [], [], [], []
    for section in sections_of(rows):
        key = section[0].section if mode == "headings" else None
        out = label_section(
            key,
            [[s for s, _ in r.sentences] for r in section],
            classifier,
            document_has_headings=mode == "headings",
        )
        for r, lab in zip(section, out, strict=True):
            pg.append(r.label)
            pp.append(lab.label)
            sg += [g for _, g in r.sentences]
            sp += [s.label for s in lab.sentences]
    return pg, pp, sg, sp


def evaluate(rows: list[Row], classifier: SentenceClassifier | None, mode: str) -> dict[str, object]:
    pg, pp, sg, sp = predict(rows, classifier, mode)
    lo, hi = bootstrap_ci(pg, pp)
    return {
        "mode": mode,
        "paragraphs": len(pg),
        "sentences": len(sg),
        "paragraph_macro_f1": round(macro_f1(pg, pp), 4),
        "paragraph_macro_f1_ci95": [round(lo, 4), round(hi, 4)],
        "paragraph_accuracy": round(sum(g == p for g, p in zip(pg, pp, strict=True)) / max(1, len(pg)), 4),
        "paragraph_correct": sum(g == p for g, p in zip(pg, pp, strict=True)),
        "sentence_macro_f1": round(macro_f1(sg, sp), 4),
        "sentence_accuracy": round(sum(g == p for g, p in zip(sg, sp, strict=True)) / max(1, len(sg)), 4),
        "sentence_correct": sum(g == p for g, p in zip(sg, sp, strict=True)),
        "gold_paragraph_labels": {lab: pg.count(lab) for lab in LABELS},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", action="append", help="split(s) to score (default: test_real and test_team)")
    ap.add_argument(
        "--models",
        nargs="*",
        type=Path,
        default=[REPO / "models" / "narrative-classifier", REPO / "models" / "baseline"],
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)
    rows = load_rows()
    results = []
    print(
        "| model | split | mode | paragraphs | paragraph macro-F1 (95% CI) | paragraph acc | "
        "sentences | sentence macro-F1 | sentence acc |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    named: list[tuple[str, SentenceClassifier | None]] = [(p.name, load_classifier(p)) for p in args.models]
    named.append(("cue-rules", None))
    for split in args.split or ["test_real", "test_team"]:
        subset = [r for r in rows if r.split == split]
        for name, clf in named:
            for mode in ("headings", "no_headings"):
                m = evaluate(subset, clf, mode)
                results.append({"model": name, "split": split, **m})
                lo, hi = m["paragraph_macro_f1_ci95"]  # type: ignore[misc]
                print(
                    f"| {name} | {split} | {mode} | {m['paragraphs']} | {m['paragraph_macro_f1']:.3f} "
                    f"({lo:.2f}–{hi:.2f}) | {m['paragraph_correct']}/{m['paragraphs']} | {m['sentences']} | "
                    f"{m['sentence_macro_f1']:.3f} | {m['sentence_correct']}/{m['sentences']} |"
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
