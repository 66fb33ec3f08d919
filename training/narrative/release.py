"""Score both classifiers on the held-out splits, pick the default, write metrics and model cards.

    python -m training.narrative.release [--models models]

The default is the model with the higher paragraph macro-F1 on ``test_real`` with headings (as the
service runs), then without headings, then sentence macro-F1; a tie goes to the transformer.
Writes models/narrative-metrics.json (the numbers the artifact tests hold the models to),
models/narrative-default.json and each model's MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gongkai.pipeline.nlp.classifier import load_classifier
from training.narrative.data import REPO, load_rows
from training.narrative.evaluate import evaluate

MODELS = ("narrative-classifier", "baseline")
SPLITS = ("test_real", "test_team", "dev")
MODES = ("headings", "no_headings")


def score(models_dir: Path) -> list[dict[str, object]]:
    rows = load_rows()
    out: list[dict[str, object]] = []
    for name in MODELS:
        clf = load_classifier(models_dir / name)
        for split in SPLITS:
            subset = [r for r in rows if r.split == split]
            for mode in MODES:
                out.append({"model": name, "split": split, **evaluate(subset, clf, mode)})
    for split in SPLITS:
        subset = [r for r in rows if r.split == split]
        for mode in MODES:
            out.append({"model": "cue-rules", "split": split, **evaluate(subset, None, mode)})
    return out


def _get(results: list[dict[str, object]], model: str, split: str, mode: str) -> dict[str, object]:
    return next(r for r in results if (r["model"], r["split"], r["mode"]) == (model, split, mode))


def choose(results: list[dict[str, object]]) -> tuple[str, str]:
    def key(model: str) -> tuple[float, float, float]:
        h = _get(results, model, "test_real", "headings")
        n = _get(results, model, "test_real", "no_headings")
        return (float(h["paragraph_macro_f1"]), float(n["paragraph_macro_f1"]), float(h["sentence_macro_f1"]))  # type: ignore[arg-type]

    best = max(MODELS, key=key)  # max keeps the first of equals: the transformer
    a, b = key("narrative-classifier"), key("baseline")
    reason = (
        f"test_real paragraph macro-F1 with headings / without headings / sentence macro-F1: "
        f"transformer {a[0]:.3f}/{a[1]:.3f}/{a[2]:.3f}, baseline {b[0]:.3f}/{b[1]:.3f}/{b[2]:.3f}"
    )
    return best, reason


def table(results: list[dict[str, object]]) -> str:
    lines = [
        "| model | split | mode | paragraphs | paragraph macro-F1 (95% CI) | paragraphs right | "
        "sentences | sentence macro-F1 | sentences right |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lo, hi = r["paragraph_macro_f1_ci95"]  # type: ignore[misc]
        lines.append(
            f"| {r['model']} | {r['split']} | {r['mode']} | {r['paragraphs']} | "
            f"{r['paragraph_macro_f1']:.3f} "
            f"({lo:.2f}–{hi:.2f}) | {r['paragraph_correct']}/{r['paragraphs']} | {r['sentences']} | "
            f"{r['sentence_macro_f1']:.3f} | {r['sentence_correct']}/{r['sentences']} |"
        )
    return "\n".join(lines)


CARD = """# {title}

{what}

**Default:** {default_line}

## Data

`corpora/narrative/` (datasheet: `corpora/narrative/README.md`). Trained on the `train` split only
(team-written paragraphs of six author styles, every sentence with its context, each once with its
section heading and once without, plus synthetic problems+improvements paragraphs joined from train
paragraphs of one author). `dev` (same authors) was the only split used for choices while training.
`test_team` (a held-out legacy-wording author) and `test_real` (five real reports, hand-labelled:
two from Jiangsu, three from 平潭, Fujian, two of them legacy) were never trained or tuned on.

## Training command

```sh
.venv/bin/pip install -e '.[nlp,training]'        # torch==2.13.0 CPU from the local wheel
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m training.narrative --out models
.venv/bin/python -m training.narrative.release    # metrics, default choice, these cards
```

{training}

Defaults of `python -m training.narrative` (used for the shipped files): char-BERT 2 layers × 128,
2 heads, max 128 tokens; masked-LM 20 epochs (lr 1e-3, 15% masking) on the train text; fine-tuning
20 epochs, lr 1e-3 one-cycle, batch 32, dropout 0.1, 5% of characters hidden as `[UNK]`, class-weighted
loss; baseline C=10. Chosen on `dev` over a more regularised run (`--dropout 0.3 --unk-rate 0.15
--epochs 12`), whose dev paragraph macro-F1 was 0.782 with headings and 0.448 without, against 0.782
and 0.493 for the shipped settings. Wall time on the shared 2-core machine: about 15 minutes.

## Metrics

Measured by `python -m training.narrative.release` (the `training.narrative.evaluate` code). Modes:
`headings` = as the service runs (headings decide 一/六, the model labels 五); `no_headings` = every
heading hidden, the model labels everything (legacy reports without usable headings). A paragraph's
label is the label of most of its characters. 95% intervals: bootstrap over paragraphs (1,000
resamples). `cue-rules` is the interim rule set the service falls back to without the `nlp` extra.

{table}

## Limits

- The real held-out set is small: 108 paragraphs (211 sentences) from five reports, of which only 14
  paragraphs hold problems or improvements (3 problems, 11 improvements; 8 of them from one legacy
  report, 平潭 2011). With headings, most real paragraphs are decided by the heading rule, so the
  `headings` score mostly measures the rule plus the 五 paragraphs; the `no_headings` rows measure the
  model itself. Intervals are wide.
- Team-written training text is small (tens of paragraphs) and written by one team imitating styles.
- Characters never seen in training read as `[UNK]` (transformer) or are ignored (baseline).
- Labels are four coarse classes; a sentence that both admits a problem and promises a fix gets one.
- Honesty notes: no model was trained or tuned on `test_team`/`test_real`, but the person who wrote
  the cue lexicon (`FORWARD_CUE` in service/nlp/text.py, the fallback cue rules) and the team-written
  text had read the two Jiangsu reports while labelling them. The three 平潭 reports were added to
  `test_real` later (issue 14) without retraining: the shipped models are the same files, scored again.
  Test scores were first looked at after the training data was final; nothing was changed on their
  account (the later, more regularised run was judged on `dev` only and not shipped).
- The transformer does not reach the issue's target (paragraph macro-F1 ≥ 0.95 on real, and better
  than the baseline): trained from scratch on ~70 paragraphs it overfits (train loss 0.02, dev
  paragraph macro-F1 0.78 with headings). The baseline is the shipped default.
"""

TRANSFORMER = (
    "A BERT (transformers `BertForSequenceClassification`) with a character vocabulary built from the "
    "training text (`vocab.txt`, digits folded to 0, context tags as tokens), pretrained here with masked-LM "
    "on the training text, then fine-tuned to label sentences with their context tags (section, paragraph "
    "position, first sentence, after a 下一步/今后 cue). Exported to ONNX (opset 17) and int8 dynamic-"
    "quantised; the service runs it with ONNX Runtime and `gongkai`'s `CharTokenizer` — no torch."
)
BASELINE = (
    "jieba words (with `service/nlp/userdict.txt`) and word bigrams plus the same context tags → TF-IDF "
    "(sublinear tf, l2) → logistic regression (scikit-learn, C=10, balanced classes). Stored as JSON "
    "(`baseline.json`: vocabulary, idf, coefficients) and evaluated with numpy in the service: no pickle, "
    "no scikit-learn at run time."
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, default=REPO / "models")
    args = ap.parse_args(argv)
    results = score(args.models)
    best, reason = choose(results)
    (args.models / "narrative-metrics.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False) + "\n"
    )
    (args.models / "narrative-default.json").write_text(
        json.dumps({"default": best, "reason": reason}, ensure_ascii=False, indent=1) + "\n"
    )
    text = table(results)
    for name, title, what in (
        ("narrative-classifier", "Narrative sentence classifier (char-BERT, ONNX int8)", TRANSFORMER),
        ("baseline", "Narrative baseline (jieba + TF-IDF + logistic regression)", BASELINE),
    ):
        d = args.models / name
        cfg = json.loads((d / "config.json").read_text())
        size = sum(f.stat().st_size for f in d.iterdir() if f.name != "MODEL_CARD.md")
        files = ", ".join(sorted(f.name for f in d.iterdir()))
        config = json.dumps(cfg, ensure_ascii=False)
        training = f"Files: {files}; {size / 1e6:.2f} MB. Config: `{config}`."
        default_line = (
            f"{'this model is' if best == name else f'`{best}` is'} the shipped default "
            f"(`models/narrative-default.json`) — {reason}."
        )
        (d / "MODEL_CARD.md").write_text(
            CARD.format(title=title, what=what, default_line=default_line, training=training, table=text),
            encoding="utf-8",
        )
    print(text)
    print(f"default: {best} ({reason})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
