"""Narrative NLP speed: paragraphs per second for each classifier, and fact extraction.

    .venv/bin/python benchmarks/bench_nlp.py [--repeat 8]

Every paragraph is labelled by the classifier (headings hidden, the worst case: in a report with
headings only section 五 goes through the model). ONNX Runtime uses 2 intra-op threads. Numbers
are wall time on a shared machine and vary with its load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gongkai.pipeline.nlp.classifier import MODELS_DIR, load_classifier
from gongkai.pipeline.nlp.facts import extract_facts
from gongkai.pipeline.nlp.labeling import label_section
from gongkai.pipeline.nlp.text import split_sentences
from training.narrative.data import load_rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=8, help="passes over the corpus paragraphs")
    args = ap.parse_args()
    texts = ["".join(s for s, _ in r.sentences) for r in load_rows()]
    paragraphs = [split_sentences(t) for t in texts] * args.repeat
    n_sent = sum(len(p) for p in paragraphs)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{len(paragraphs)} paragraphs, {n_sent} sentences"
    )
    print("| stage | model | size | paragraphs/s | sentences/s | ms/paragraph |")
    print("|---|---|---|---|---|---|")
    for name in ("narrative-classifier", "baseline"):
        d = MODELS_DIR / name
        clf = load_classifier(d)
        size = sum(f.stat().st_size for f in d.iterdir()) / 1e6
        label_section(None, paragraphs[:8], clf)  # warm-up (jieba and ONNX Runtime initialise)
        t0 = time.perf_counter()
        for start in range(0, len(paragraphs), 16):  # a report's worth of paragraphs per call
            label_section(None, paragraphs[start : start + 16], clf)
        dt = time.perf_counter() - t0
        print(
            f"| classify | {name} | {size:.2f} MB | {len(paragraphs) / dt:,.0f} | {n_sent / dt:,.0f} | "
            f"{1000 * dt / len(paragraphs):.2f} |"
        )
    extract_facts([(t, None) for t in texts[:4]])
    t0 = time.perf_counter()
    extract_facts([("".join(p), None) for p in paragraphs])
    dt = time.perf_counter() - t0
    print(
        f"| facts (spaCy + rules) | - | - | {len(paragraphs) / dt:,.0f} | {n_sent / dt:,.0f} | "
        f"{1000 * dt / len(paragraphs):.2f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
